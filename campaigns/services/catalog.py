"""Campaigns, keywords, number pools and tracking numbers, and deleting what has no history."""

from django.db import models, transaction

from campaigns.audit import services as audit
from campaigns.audit.models import AuditAction
from campaigns.errors import Conflict
from campaigns.models import Account, Campaign, Keyword, NumberPool, TrackingNumber
from campaigns.services._common import assign as _assign
from campaigns.services._common import save as _save

# Settings whose removal goes in the audit trail (models' labels → audit resources).
AUDITED_DELETES = {"campaigns.NumberPool": "pools", "campaigns.CrmStageMapping": "crm_stages"}


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
