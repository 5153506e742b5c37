"""Writing the audit trail."""

from collections.abc import Iterable
from typing import Any

from campaigns.audit import context
from campaigns.audit.models import ActorKind, AuditAction, AuditEvent
from campaigns.models import Account, ApiKey

# Query parameters that page through or order a list (the API's, then the admin's `p`, `o` and
# `all`): not filters, and noise in every event.
PAGING_PARAMS = frozenset({"cursor", "page", "page_size", "p", "o", "all"})


def record_event(
    *,
    account: Account | None,
    action: str,
    resource: str,
    api_key: ApiKey | None = None,
    user=None,
    object_id: str | int | None = None,
    method: str = "",
    path: str = "",
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Append one event, in the caller's transaction (an audited write and its event commit
    together). The actor is the API key, else the staff user, else the system (a beat task).
    `detail` must carry no personal data: ids, counts, filters, field names."""
    if api_key is not None:
        kind, label = ActorKind.API_KEY, f"{api_key.prefix}… ({api_key.role})"
    elif user is not None:
        kind, label = ActorKind.USER, user.get_username()
    else:
        kind, label = ActorKind.SYSTEM, "system"
    label = actor_label or label
    return AuditEvent.objects.create(
        account=account,
        actor_kind=kind,
        api_key=api_key,
        user=user,
        actor_label=label[:150],
        action=action,
        resource=resource,
        object_id="" if object_id is None else str(object_id)[:64],
        method=method[:10],
        path=path[:500],
        ip=ip,
        detail=detail or {},
    )


def record_change(
    *,
    account: Account | None,
    action: str,
    resource: str,
    object_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event for a change a service is making, in its transaction, naming whoever
    is acting (`context.current_actor`: the request's key or user, else the system)."""
    actor = context.current_actor()
    return record_event(
        account=account,
        action=action,
        resource=resource,
        object_id=object_id,
        detail=detail,
        **actor.fields(),
    )


def record_access(
    *,
    account: Account,
    actor: context.Actor,
    resource: str,
    count: int | None,
    filters: Iterable[str] = (),
    object_id: str | int | None = None,
    action: str = AuditAction.READ,
) -> AuditEvent:
    """Append one event for a read or an export of personal data: how many rows and which
    filters by name. Filter values are left out: `?caller=+14155550123` is the number itself."""
    detail: dict[str, Any] = {
        "count": count,
        "filters": sorted({name for name in filters if name not in PAGING_PARAMS}),
    }
    return record_event(
        account=account,
        action=action,
        resource=resource,
        object_id=object_id,
        detail=detail,
        **actor.fields(),
    )


def changed_fields(instance: Any, fields: dict[str, Any]) -> list[str]:
    """Names of the `fields` whose value differs from `instance`'s, before they are assigned.
    Names only: the values may be secrets (a Twilio auth token) or personal data."""
    return sorted(name for name, value in fields.items() if getattr(instance, name, None) != value)
