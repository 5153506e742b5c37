"""Writing the audit trail."""

from typing import Any

from campaigns.audit.models import ActorKind, AuditEvent
from campaigns.models import Account, ApiKey


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
