"""factory_boy factories, one per model. `FACTORIES` maps each model to its factory: the tenancy
matrix uses it to build an object for any route, so a new model needs a factory here."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from attribution.models import (
    Conversion,
    Destination,
    NumberAssignment,
    Outcome,
    PoolExhaustion,
    Touchpoint,
    VisitorSession,
)
from attribution.models.credits import RemovalEffect
from calls.models import BlockedNumber, Call, CallStatus
from campaigns.audit.models import AuditEvent
from campaigns.models import (
    Account,
    ApiKey,
    Campaign,
    Channel,
    CrmStageMapping,
    DailyCost,
    IdempotencyKey,
    Keyword,
    NumberPool,
    TrackingNumber,
)


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n}")
    currency = "USD"
    time_zone = "America/New_York"
    region = "US"


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    channel = Channel.PAID_SEARCH
    forward_to = "+14155552671"


class KeywordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Keyword

    campaign = factory.SubFactory(CampaignFactory)
    account = factory.SelfAttribute("campaign.account")
    text = factory.Sequence(lambda n: f"keyword {n}")


class PoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NumberPool

    campaign = factory.SubFactory(CampaignFactory)
    account = factory.SelfAttribute("campaign.account")
    name = factory.Sequence(lambda n: f"Pool {n}")


# Valid US numbers in the 212 area code (the 555-01xx block is fictional but valid).
_numbers = (f"+1212555{n:04d}" for n in range(100, 10_000))


class StaticNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackingNumber

    campaign = factory.SubFactory(CampaignFactory)
    account = factory.SelfAttribute("campaign.account")
    e164 = factory.LazyFunction(lambda: next(_numbers))
    kind = TrackingNumber.Kind.STATIC


class PoolNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackingNumber

    pool = factory.SubFactory(PoolFactory)
    account = factory.SelfAttribute("pool.account")
    campaign = factory.SelfAttribute("pool.campaign")
    e164 = factory.LazyFunction(lambda: next(_numbers))
    kind = TrackingNumber.Kind.POOL


class CostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DailyCost

    campaign = factory.SubFactory(CampaignFactory)
    account = factory.SelfAttribute("campaign.account")
    date = factory.Sequence(lambda n: dt.date(2026, 1, 1) + dt.timedelta(days=n))
    amount = Decimal("100.00")
    currency = factory.SelfAttribute("account.currency")


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VisitorSession

    account = factory.SubFactory(AccountFactory)
    visitor_id = factory.Sequence(lambda n: f"visitor-{n}")
    landing_url = "https://www.example.com/"
    started_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.SelfAttribute("started_at")
    expires_at = factory.LazyAttribute(lambda o: o.last_seen_at + dt.timedelta(minutes=30))


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NumberAssignment

    number = factory.SubFactory(PoolNumberFactory)
    account = factory.SelfAttribute("number.account")
    pool = factory.SelfAttribute("number.pool")
    session = factory.SubFactory(SessionFactory, account=factory.SelfAttribute("..account"))
    starts_at = factory.LazyFunction(timezone.now)
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(minutes=30))


class PoolExhaustionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PoolExhaustion

    pool = factory.SubFactory(PoolFactory)
    account = factory.SelfAttribute("pool.account")
    hour = factory.LazyFunction(lambda: timezone.now().replace(minute=0, second=0, microsecond=0))
    count = 3


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Call

    account = factory.SubFactory(AccountFactory)
    provider = "twilio"
    external_id = factory.Sequence(lambda n: f"CA{n:032x}")
    tracking_e164 = "+12125550100"
    caller_e164 = "+14155552671"
    started_at = factory.LazyFunction(timezone.now)
    duration_seconds = 120
    status = CallStatus.ANSWERED


class BlockedNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BlockedNumber

    account = factory.SubFactory(AccountFactory)
    e164 = factory.Sequence(lambda n: f"+1415555{n % 10000:04d}")


class OutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Outcome

    account = factory.SubFactory(AccountFactory)
    crm = "hubspot"
    external_id = factory.Sequence(lambda n: f"deal-{n}")
    stage = Outcome.Stage.LEAD
    occurred_at = factory.LazyFunction(timezone.now)


class CrmStageMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CrmStageMapping

    account = factory.SubFactory(AccountFactory)
    crm = CrmStageMapping.Crm.HUBSPOT
    crm_stage = factory.Sequence(lambda n: f"{10_000_000 + n}")
    stage = "qualified"


class TouchpointFactory(factory.django.DjangoModelFactory):
    """A call's only touch: all the credit under every model."""

    class Meta:
        model = Touchpoint

    call = factory.SubFactory(CallFactory)
    account = factory.SelfAttribute("call.account")
    position = 0
    touched_at = factory.SelfAttribute("call.started_at")
    last_touch = first_touch = linear = Decimal(1)
    time_decay = position_based = data_driven = Decimal(1)


class RemovalEffectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RemovalEffect

    account = factory.SubFactory(AccountFactory)
    campaign = factory.SubFactory(CampaignFactory, account=factory.SelfAttribute("..account"))
    effect = Decimal("0.25")
    computed_at = factory.LazyFunction(timezone.now)


class IdempotencyKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdempotencyKey

    account = factory.SubFactory(AccountFactory)
    key = factory.Sequence(lambda n: f"retry-{n}")
    method = "POST"
    path = "/api/v1/outcomes/"
    request_hash = "0" * 64
    status_code = 201
    response_body = "{}"
    content_type = "application/json"
    created_at = factory.LazyFunction(timezone.now)


class DestinationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Destination

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Webhook {n}")
    kind = Destination.Kind.WEBHOOK
    config = factory.LazyFunction(lambda: {"url": "https://crm.example.com/hook"})
    credentials = factory.LazyFunction(lambda: {"secret": "whsec-factory"})


class ConversionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversion

    destination = factory.SubFactory(DestinationFactory)
    account = factory.SelfAttribute("destination.account")
    trigger = "won"
    action = "deal.won"
    dedup_key = factory.Sequence(lambda n: f"cp-o{n}-won-0000000000")
    occurred_at = factory.LazyFunction(timezone.now)
    next_attempt_at = factory.LazyFunction(timezone.now)


class AuditEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEvent

    account = factory.SubFactory(AccountFactory)
    actor_kind = "system"
    actor_label = "system"
    action = "update"
    resource = "account"


FACTORIES = {
    Campaign: CampaignFactory,
    Keyword: KeywordFactory,
    NumberPool: PoolFactory,
    TrackingNumber: StaticNumberFactory,
    DailyCost: CostFactory,
    VisitorSession: SessionFactory,
    NumberAssignment: AssignmentFactory,
    PoolExhaustion: PoolExhaustionFactory,
    Call: CallFactory,
    BlockedNumber: BlockedNumberFactory,
    Outcome: OutcomeFactory,
    CrmStageMapping: CrmStageMappingFactory,
    Touchpoint: TouchpointFactory,
    RemovalEffect: RemovalEffectFactory,
    IdempotencyKey: IdempotencyKeyFactory,
    Destination: DestinationFactory,
    Conversion: ConversionFactory,
    AuditEvent: AuditEventFactory,
}


def make_for_account(model, account):
    """Build one object of `model` owned by `account`, parents included."""
    factory_class = FACTORIES[model]
    if model in (Keyword, NumberPool, TrackingNumber, DailyCost):
        return factory_class(campaign=CampaignFactory(account=account))
    if model is PoolExhaustion:
        return factory_class(pool=PoolFactory(campaign=CampaignFactory(account=account)))
    if model is Conversion:
        return factory_class(destination=DestinationFactory(account=account))
    if model is Touchpoint:
        return factory_class(call=CallFactory(account=account))
    return factory_class(account=account)


__all__ = ["ApiKey", "FACTORIES", "make_for_account"]
