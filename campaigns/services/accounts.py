"""Accounts, their API keys and their staff members: every change audited in its transaction."""

import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from campaigns import selectors
from campaigns.audit import services as audit
from campaigns.audit.models import AuditAction
from campaigns.errors import Conflict, Invalid
from campaigns.models import Account, ApiKey, Membership, Role
from campaigns.services._common import assign as _assign
from campaigns.services._common import save as _save

LAST_USED_RESOLUTION = timedelta(minutes=1)


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


@transaction.atomic
def rename_api_key(*, account: Account, api_key: ApiKey, name: str) -> ApiKey:
    """A key's name is the only thing about it that changes (its role and secret never do)."""
    if api_key.name != name:
        api_key.name = name
        api_key.save(update_fields=["name"])
        audit.record_change(
            account=account,
            action=AuditAction.UPDATE,
            resource="api_keys",
            object_id=api_key.pk,
            detail={"fields": ["name"], "prefix": api_key.prefix},
        )
    return api_key


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


@transaction.atomic
def update_member(*, account: Account, membership: Membership, **fields) -> Membership:
    """Change what a staff member may see of the account (their role): audited, because a role
    decides who sees caller numbers unmasked."""
    changed = audit.changed_fields(membership, fields)
    membership = _save(_assign(membership, fields))
    if changed:
        audit.record_change(
            account=account,
            action=AuditAction.UPDATE,
            resource="memberships",
            object_id=membership.pk,
            detail={"user": membership.user_id, "fields": changed, "role": membership.role},
        )
    return membership


@transaction.atomic
def remove_member(*, account: Account, membership: Membership) -> None:
    audit.record_change(
        account=account,
        action=AuditAction.DELETE,
        resource="memberships",
        object_id=membership.pk,
        detail={"user": membership.user_id, "role": membership.role},
    )
    membership.delete()
