"""Writes of the campaigns app: accounts, keys, the things an advertiser configures, and costs.

Every function is keyword-only and takes the account; each write is one transaction."""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from campaigns import selectors
from campaigns.audit import services as audit
from campaigns.audit.models import AuditAction
from campaigns.errors import Conflict, Invalid
from campaigns.models import (
    Account,
    ApiKey,
    Campaign,
    DailyCost,
    Keyword,
    Membership,
    NumberPool,
    Role,
    TrackingNumber,
)

# A unique constraint broken by a write becomes a message on the field a person would fix.
CONSTRAINT_MESSAGES = {
    "campaign_name_unique": ("name", "A campaign with this name already exists."),
    "campaign_utm_unique": ("utm_campaign", "Another campaign already uses this utm_campaign."),
    "keyword_text_unique": ("text", "This campaign already has this keyword."),
    "pool_target_unique": ("keyword", "This campaign (and keyword) already has a pool."),
    "pool_one_default": ("is_default", "The account already has a default pool."),
    "campaigns_trackingnumber_e164_key": ("e164", "This number is already in use."),
    "membership_unique": ("user", "This user is already a member of the account."),
}
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Settings whose removal goes in the audit trail (models' labels → audit resources).
AUDITED_DELETES = {"campaigns.NumberPool": "pools", "campaigns.CrmStageMapping": "crm_stages"}


def _save(instance: models.Model) -> models.Model:
    """Save, turning a broken unique constraint into a field error instead of a 500."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
        if constraint not in CONSTRAINT_MESSAGES:
            raise
        field, message = CONSTRAINT_MESSAGES[constraint]
        raise Invalid(message, fields={field: [message]}) from exc
    return instance


def _assign(instance: models.Model, fields: dict) -> models.Model:
    for name, value in fields.items():
        setattr(instance, name, value)
    return instance


# Accounts and keys


@transaction.atomic
def create_account(
    *, name: str, currency: str = "USD", time_zone: str = "UTC", region: str = "US", **fields
) -> Account:
    account = _save(
        Account(name=name, currency=currency, time_zone=time_zone, region=region, **fields)
    )
    names = sorted({"name", "currency", "time_zone", "region", *fields})
    audit.record_change(
        account=account,
        action=AuditAction.CREATE,
        resource="account",
        object_id=account.pk,
        detail={"fields": names},
    )
    return account


@transaction.atomic
def update_account(*, account: Account, **fields) -> Account:
    """Change account settings. The currency is fixed once money has been recorded in it:
    changing it would silently relabel every figure."""
    if "currency" in fields and fields["currency"] != account.currency:
        has_money = (
            selectors.costs(account=account).exists()
            or account.outcomes.filter(value__isnull=False).exists()
        )
        if has_money:
            message = "The currency cannot change once costs or outcome values are recorded."
            raise Conflict(message, fields={"currency": [message]})
    changed = audit.changed_fields(account, fields)
    account = _save(_assign(account, fields))
    if changed:
        audit.record_change(
            account=account,
            action=AuditAction.UPDATE,
            resource="account",
            object_id=account.pk,
            detail={"fields": changed},
        )
    return account


@transaction.atomic
def issue_api_key(*, account: Account, role: str, name: str = "") -> tuple[ApiKey, str]:
    """Create a key and return it with its secret, which is stored only as a hash."""
    if role not in Role.values:
        raise Invalid(f"'{role}' is not a role", fields={"role": [f"Choose one of {Role.values}."]})
    prefix = "cp_" + secrets.token_hex(4)
    raw_key = f"{prefix}_{secrets.token_urlsafe(24)}"
    api_key = ApiKey.objects.create(
        account=account, role=role, name=name, prefix=prefix, hashed_key=selectors.hash_key(raw_key)
    )
    audit.record_change(
        account=account,
        action=AuditAction.CREATE,
        resource="api_keys",
        object_id=api_key.pk,
        detail={"role": role, "prefix": prefix},  # the prefix is shown everywhere; not a secret
    )
    return api_key, raw_key


@transaction.atomic
def revoke_api_keys(*, keys: Iterable[ApiKey]) -> int:
    """Revoke the keys not revoked yet; one audit event per key actually revoked."""
    live = list(
        ApiKey.objects.select_for_update()
        .filter(pk__in=[key.pk for key in keys], revoked_at__isnull=True)
        .values_list("pk", "account_id", "prefix")
    )
    ApiKey.objects.filter(pk__in=[pk for pk, _, _ in live]).update(revoked_at=timezone.now())
    for pk, account_id, prefix in live:
        audit.record_change(
            account=Account(pk=account_id),
            action=AuditAction.UPDATE,
            resource="api_keys",
            object_id=pk,
            detail={"fields": ["revoked_at"], "prefix": prefix},
        )
    return len(live)


def touch_api_key(*, api_key: ApiKey) -> None:
    """Record use, at most once a minute per key: a conditional UPDATE, so a busy key does not
    write on every request and concurrent requests do not contend."""
    now = timezone.now()
    if api_key.last_used_at and now - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=api_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)


@transaction.atomic
def add_member(*, account: Account, user, **fields) -> Membership:
    membership = _save(Membership(account=account, user=user, **fields))
    audit.record_change(
        account=account,
        action=AuditAction.CREATE,
        resource="memberships",
        object_id=membership.pk,
        detail={"user": user.pk, "role": membership.role},
    )
    return membership


# Campaigns, keywords, pools, numbers


@transaction.atomic
def create_campaign(*, account: Account, **fields) -> Campaign:
    return _save(Campaign(account=account, **fields))


@transaction.atomic
def update_campaign(*, account: Account, campaign: Campaign, **fields) -> Campaign:
    return _save(_assign(campaign, fields))


@transaction.atomic
def create_keyword(*, account: Account, **fields) -> Keyword:
    return _save(Keyword(account=account, **fields))


@transaction.atomic
def update_keyword(*, account: Account, keyword: Keyword, **fields) -> Keyword:
    return _save(_assign(keyword, fields))


@transaction.atomic
def create_pool(*, account: Account, **fields) -> NumberPool:
    pool = _save(NumberPool(account=account, **fields))
    audit.record_change(
        account=account,
        action=AuditAction.CREATE,
        resource="pools",
        object_id=pool.pk,
        detail={"fields": sorted(fields)},
    )
    return pool


@transaction.atomic
def update_pool(*, account: Account, pool: NumberPool, **fields) -> NumberPool:
    """Update a pool; its numbers follow it to a new campaign."""
    changed = audit.changed_fields(pool, fields)
    _save(_assign(pool, fields))
    if changed:
        audit.record_change(
            account=account,
            action=AuditAction.UPDATE,
            resource="pools",
            object_id=pool.pk,
            detail={"fields": changed},
        )
    pool.numbers.exclude(campaign=pool.campaign_id).update(campaign=pool.campaign_id)
    return pool


def _number_target(fields: dict) -> dict:
    # A pool number's campaign is its pool's; a static number has no pool.
    if fields.get("kind") == TrackingNumber.Kind.POOL and fields.get("pool"):
        fields["campaign"] = fields["pool"].campaign
    elif fields.get("kind") == TrackingNumber.Kind.STATIC:
        fields["pool"] = None
    return fields


@transaction.atomic
def create_number(*, account: Account, **fields) -> TrackingNumber:
    return _save(TrackingNumber(account=account, **_number_target(fields)))


@transaction.atomic
def update_number(*, account: Account, number: TrackingNumber, **fields) -> TrackingNumber:
    merged = {"kind": number.kind, "pool": number.pool, "campaign": number.campaign, **fields}
    return _save(_assign(number, _number_target(merged)))


@transaction.atomic
def delete_object(*, account: Account, instance: models.Model) -> None:
    """Delete an object with no history. Anything with calls, costs, sessions, outcomes or
    children behind it is refused (409): deactivate it instead, so reports keep their past."""
    if instance.account_id != account.pk:  # the views never get here; a guard for other callers
        raise Conflict("This object belongs to another account.")
    pk = instance.pk
    try:
        with transaction.atomic():
            instance.delete()
    except models.ProtectedError as exc:
        kinds = sorted({str(obj._meta.verbose_name_plural) for obj in exc.protected_objects})
        name = instance._meta.verbose_name
        raise Conflict(
            f"This {name} has {', '.join(kinds)} behind it and cannot be deleted; "
            "set active=false to retire it instead."
        ) from exc
    resource = AUDITED_DELETES.get(instance._meta.label)
    if resource:
        audit.record_change(
            account=account, action=AuditAction.DELETE, resource=resource, object_id=pk
        )


# Costs


@dataclass(frozen=True)
class CostRow:
    campaign: Campaign
    keyword: Keyword | None
    date: date
    amount: Decimal
    currency: str
    clicks: int = 0
    impressions: int = 0


UPSERT_COSTS_SQL = """
INSERT INTO campaigns_dailycost
    (account_id, campaign_id, keyword_id, date, amount, currency, clicks, impressions, updated_at)
VALUES {values}
ON CONFLICT (campaign_id, keyword_id, date) DO UPDATE SET
    amount = EXCLUDED.amount, currency = EXCLUDED.currency, clicks = EXCLUDED.clicks,
    impressions = EXCLUDED.impressions, updated_at = EXCLUDED.updated_at
RETURNING id, (xmax = 0) AS inserted
"""


@transaction.atomic
def upsert_costs(*, account: Account, rows: list[CostRow]) -> tuple[list[DailyCost], int]:
    """Insert or replace daily spend, keyed on (campaign, keyword, date), in one statement.

    Idempotent: sending the same rows again changes nothing but `updated_at`. Returns the rows
    in input order and how many were new. The caller has checked currency and ownership."""
    if not rows:
        return [], 0
    now = timezone.now()
    placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    params: list = []
    for row in rows:
        params += [
            account.pk,
            row.campaign.pk,
            row.keyword.pk if row.keyword else None,
            row.date,
            row.amount,
            row.currency,
            row.clicks,
            row.impressions,
            now,
        ]
    with connection.cursor() as cursor:
        cursor.execute(UPSERT_COSTS_SQL.format(values=placeholders), params)
        results = cursor.fetchall()
    by_id = DailyCost.objects.select_related("campaign", "keyword").in_bulk(
        [row_id for row_id, _ in results]
    )
    by_key = {(c.campaign_id, c.keyword_id, c.date): c for c in by_id.values()}
    ordered = [
        by_key[(row.campaign.pk, row.keyword.pk if row.keyword else None, row.date)] for row in rows
    ]
    return ordered, sum(1 for _, inserted in results if inserted)
