import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Exists, F, OuterRef, Sum
from django.utils import timezone

from attribution.demo import load_demo
from attribution.models import (
    AttributionModel,
    NumberAssignment,
    Outcome,
    OutcomeStage,
    Touchpoint,
    VisitorSession,
)
from calls.models import Call, CallStatus, Confidence
from campaigns import selectors
from campaigns.models import (
    Account,
    ApiKey,
    Campaign,
    Channel,
    DailyCost,
    Membership,
    NumberPool,
    Role,
    TrackingNumber,
)

DEMO_NAME = "Summit Home Services"
PAID_CHANNELS = (Channel.PAID_SEARCH, Channel.PAID_SOCIAL, Channel.DISPLAY)


@pytest.fixture
def demo(db):
    return load_demo(scale=0.05, days=10, seed=7)


def is_valid_e164(number: str) -> bool:
    parsed = phonenumbers.parse(number, None)
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return phonenumbers.is_valid_number(parsed) and e164 == number


def test_demo_account_has_campaigns_on_every_channel_including_offline(demo):
    account = demo.account
    assert (account.name, account.currency, account.time_zone, account.region) == (
        DEMO_NAME,
        "USD",
        "America/New_York",
        "US",
    )
    assert account.allowed_origins == ["http://127.0.0.1:8000", "http://localhost:8000"]
    assert account.twilio_auth_token
    channels = set(Campaign.objects.filter(account=account).values_list("channel", flat=True))
    assert Campaign.objects.filter(account=account).count() >= 6
    assert {*PAID_CHANNELS, Channel.EMAIL, Channel.OFFLINE, Channel.ORGANIC} <= channels
    default_pool = NumberPool.objects.get(account=account, is_default=True)
    assert default_pool.numbers.count() >= 1
    assert NumberPool.objects.filter(account=account, keyword__isnull=False).exists()


def test_demo_costs_cover_every_paid_campaign_every_day_in_cents(demo):
    yesterday = timezone.now().astimezone(ZoneInfo("America/New_York")).date() - dt.timedelta(1)
    expected_days = {yesterday - dt.timedelta(days=n) for n in range(10)}
    paid = Campaign.objects.filter(account=demo.account, channel__in=PAID_CHANNELS)
    assert paid.count() == 4
    for campaign in paid:
        days = set(DailyCost.objects.filter(campaign=campaign).values_list("date", flat=True))
        assert days == expected_days, campaign.name
    costs = DailyCost.objects.filter(account=demo.account)
    assert costs.filter(keyword__isnull=False).exists()
    for cost in costs:
        assert cost.amount == cost.amount.quantize(Decimal("0.01"))
        assert cost.amount > 0
        assert cost.currency == "USD"


def test_demo_calls_never_talk_longer_than_they_last(demo):
    calls = Call.objects.filter(account=demo.account)
    assert calls.count() > 50
    assert not calls.filter(talk_seconds__gt=F("duration_seconds")).exists()
    answered = calls.filter(status=CallStatus.ANSWERED, spam=False)
    assert answered.exclude(recording_url="").count() == answered.count()
    assert not answered.filter(agent="").exists()


def test_demo_calls_fall_inside_their_sessions_lease(demo):
    lease = NumberAssignment.objects.filter(
        session=OuterRef("session"),
        number=OuterRef("tracking_number"),
        starts_at__lte=OuterRef("started_at"),
        ends_at__gt=OuterRef("started_at"),
    )
    exact = Call.objects.filter(account=demo.account, confidence=Confidence.EXACT)
    assert exact.count() > 30
    assert exact.filter(Exists(lease)).count() == exact.count()
    assert not exact.exclude(campaign=F("session__campaign")).exists()


def test_demo_calls_after_a_lease_ended_go_to_the_pool_campaign(demo):
    source = Call.objects.filter(account=demo.account, confidence=Confidence.SOURCE)
    assert source.exists()
    for call in source.select_related("tracking_number"):
        covering = NumberAssignment.objects.filter(
            number=call.tracking_number, starts_at__lte=call.started_at, ends_at__gt=call.started_at
        )
        assert not covering.exists()
        assert call.tracking_number.kind == TrackingNumber.Kind.POOL
        assert (call.session_id, call.campaign_id) == (None, call.tracking_number.campaign_id)


def test_demo_calls_to_static_numbers_belong_to_the_numbers_campaign(demo):
    static = Call.objects.filter(account=demo.account, confidence=Confidence.STATIC)
    assert static.exists()
    assert not static.exclude(tracking_number__kind=TrackingNumber.Kind.STATIC).exists()
    assert not static.exclude(campaign=F("tracking_number__campaign")).exists()
    assert Campaign.objects.filter(account=demo.account, channel=Channel.OFFLINE).count() == 2


def test_demo_never_leases_one_number_to_two_live_sessions(demo):
    overlapping = NumberAssignment.objects.filter(
        number=OuterRef("number"),
        overflow=False,
        starts_at__lt=OuterRef("ends_at"),
        ends_at__gt=OuterRef("starts_at"),
    ).exclude(pk=OuterRef("pk"))
    leases = NumberAssignment.objects.filter(account=demo.account, overflow=False)
    assert leases.count() > 100
    assert not leases.filter(Exists(overlapping)).exists()


def test_demo_web_sessions_each_hold_one_lease_from_their_pool(demo):
    sessions = VisitorSession.objects.filter(account=demo.account)
    web = sessions.exclude(channel=Channel.EMAIL)  # the newsletter shows its static number
    leases = NumberAssignment.objects.filter(account=demo.account)
    assert leases.count() == leases.values("session").distinct().count() == web.count()
    assert not web.filter(assignments__isnull=True).exists()
    assert not leases.exclude(number__pool=F("pool")).exists()
    assert not leases.exclude(pool__campaign=F("session__campaign")).exists()
    visitors = sessions.values("visitor_id").distinct().count()
    assert visitors < sessions.count()  # some visitors came back
    assert sessions.exclude(gclid="").exists()
    assert sessions.exclude(fbclid="").exists()


def test_demo_marks_bursts_of_short_calls_as_spam(demo):
    calls = Call.objects.filter(account=demo.account)
    spam = list(calls.filter(spam=True).order_by("started_at"))
    assert len(spam) >= 3
    by_caller = defaultdict(list)
    for call in spam:
        assert (call.spam_reason, call.duration_seconds < 10) == ("auto", True)
        by_caller[call.caller_e164].append(call.started_at)
    for started in by_caller.values():
        assert len(started) >= 3
    assert not calls.filter(spam=False).exclude(spam_reason="").exists()


def test_demo_outcomes_name_answered_calls_of_the_same_account(demo):
    outcomes = Outcome.objects.filter(account=demo.account).select_related("call")
    assert outcomes.exists()
    assert not outcomes.exclude(call__account=demo.account).exists()
    for outcome in outcomes:
        assert (outcome.call.status, outcome.call.spam) == (CallStatus.ANSWERED, False)
        assert outcome.occurred_at > outcome.call.started_at
        assert (outcome.match_method, outcome.currency) == ("call", "USD")
        assert (outcome.value is not None) == (outcome.stage == OutcomeStage.WON)


def test_demo_phone_numbers_are_valid_e164(demo):
    numbers = TrackingNumber.objects.filter(account=demo.account).values_list("e164", flat=True)
    forwards = Campaign.objects.filter(account=demo.account).values_list("forward_to", flat=True)
    calls = Call.objects.filter(account=demo.account)
    callers = calls.exclude(caller_e164="").values_list("caller_e164", flat=True)
    for number in [*numbers, *forwards, *callers]:
        assert is_valid_e164(number), number
    withheld = calls.filter(caller_e164="")
    assert set(withheld.values_list("caller_raw", flat=True)) <= {"anonymous"}
    assert calls.exclude(caller_e164="").values("caller_e164").distinct().count() < len(callers)


def test_demo_result_counts_match_the_database(demo):
    account = demo.account
    assert demo.counts["sessions"] == VisitorSession.objects.filter(account=account).count()
    assert demo.counts["calls"] == Call.objects.filter(account=account).count()
    assert demo.counts["outcomes"] == Outcome.objects.filter(account=account).count()
    assert demo.counts["costs"] == DailyCost.objects.filter(account=account).count()
    assert demo.counts["sessions"] == 300


def test_demo_calls_have_their_attribution_credits(demo):
    calls = Call.objects.filter(account=demo.account)
    credited = Touchpoint.objects.filter(account=demo.account)
    assert set(credited.values_list("call_id", flat=True)) == set(
        calls.values_list("pk", flat=True)
    )
    for model in AttributionModel.values:
        sums = credited.values("call_id").annotate(total=Sum(model)).values_list("total", flat=True)
        assert set(sums) == {Decimal(1)}, model


def test_demo_gives_the_admin_a_login_and_an_api_key(demo):
    user = get_user_model().objects.get(username="admin")
    assert (user.is_superuser, user.is_staff) == (True, True)
    assert user.check_password(demo.password)
    assert Membership.objects.filter(user=user, account=demo.account).exists()
    key = ApiKey.objects.get(hashed_key=selectors.hash_key(demo.api_key))
    assert (key.account, key.role) == (demo.account, Role.ADMIN)


def test_loading_the_demo_twice_leaves_one_demo_account(db):
    load_demo(scale=0.02, days=5, seed=1)
    second = load_demo(scale=0.02, days=5, seed=1)
    assert list(Account.objects.filter(name=DEMO_NAME)) == [second.account]
    assert Call.objects.count() == second.counts["calls"]
    assert get_user_model().objects.filter(username="admin").count() == 1


def test_demo_with_one_seed_is_the_same_data_every_time(db):
    def fingerprint():
        calls = Call.objects.order_by("started_at", "external_id")
        return list(calls.values_list("external_id", "tracking_e164", "caller_e164", "status"))

    load_demo(scale=0.02, days=5, seed=3)
    first = fingerprint()
    load_demo(scale=0.02, days=5, seed=3)
    assert fingerprint() == first


def test_demo_reports_progress_for_every_row_written(db):
    advanced = defaultdict(int)

    def record(step: str, count: int) -> None:
        advanced[step] += count

    result = load_demo(scale=0.02, days=5, progress=record)
    for step in ("costs", "sessions", "assignments", "calls", "outcomes"):
        assert advanced[step] == result.counts[step], step


def test_loaddemo_command_prints_the_login_and_urls(db):
    out = StringIO()
    call_command("loaddemo", scale=0.02, days=5, stdout=out, stderr=StringIO())
    text = out.getvalue()
    password = re.search(r"username admin, password (\S+)", text).group(1)
    api_key = re.search(r"Admin API key \(shown once\): (\S+)", text).group(1)
    assert get_user_model().objects.get(username="admin").check_password(password)
    assert ApiKey.objects.filter(hashed_key=selectors.hash_key(api_key)).exists()
    assert Account.objects.get(name=DEMO_NAME).public_key in text
    for url in (
        "http://127.0.0.1:8000/admin/",
        "http://127.0.0.1:8000/api/docs/",
        "http://127.0.0.1:8000/api/v1/",
        "http://127.0.0.1:8000/healthz",
    ):
        assert url in text


def test_demo_numbers_remember_when_their_last_lease_ends(db):
    from attribution.demo import load_demo
    from attribution.models import NumberAssignment
    from campaigns.models import TrackingNumber

    result = load_demo(scale=0.02, days=3)
    for number in TrackingNumber.objects.filter(account=result.account, kind="pool"):
        leases = NumberAssignment.objects.filter(number=number).order_by("-ends_at")
        assert number.lease_ends_at == (leases[0].ends_at if leases else None)


def test_demo_pools_are_sized_and_their_exhaustion_counted(db):
    from attribution.demo import load_demo
    from attribution.models import NumberAssignment, PoolExhaustion
    from campaigns.models import NumberPool

    result = load_demo(scale=0.2, days=7)
    pools = NumberPool.objects.filter(account=result.account)
    assert all(pool.sized_at is not None for pool in pools)
    assert any(pool.recommended_size for pool in pools)
    overflow = NumberAssignment.objects.filter(account=result.account, overflow=True).count()
    counted = sum(
        PoolExhaustion.objects.filter(account=result.account).values_list("count", flat=True)
    )
    assert counted == overflow
