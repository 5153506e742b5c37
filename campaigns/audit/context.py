"""Who is acting, for an event recorded deep inside a service.

A settings change is audited by the service that makes it, in its own transaction, whether
the REST API, the admin or a management command called it. Threading an `actor` argument
through every service and every generic entry point (the viewsets' `perform_create`, the
admin's `save_model`) would touch a dozen signatures for one cross-cutting concern, so the
request being served is kept in a context variable instead, set once at the edge by
`middleware.AuditContextMiddleware`, the way Django activates a time zone or a language.
Outside a request (a management command, a Celery task) the actor is the system.

The actor is resolved when an event is written, not when the request starts: DRF
authenticates the API key inside the view, after every middleware has run."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from campaigns import ratelimit
from campaigns.models import ApiKey

_request: ContextVar[Any] = ContextVar("audit_request", default=None)


@dataclass(frozen=True)
class Actor:
    api_key: ApiKey | None = None
    user: Any = None
    method: str = ""
    path: str = ""  # never the query string: a filter value may be a phone number
    ip: str | None = None

    def fields(self) -> dict[str, Any]:
        """As `services.record_event` takes them."""
        return {
            "api_key": self.api_key,
            "user": self.user,
            "method": self.method,
            "path": self.path,
            "ip": self.ip,
        }


def actor_of(request) -> Actor:
    """The API key that authenticated `request`, else its logged-in user, else nobody (the
    system: an unauthenticated request changes no settings)."""
    where = {
        "method": request.method or "",
        "path": request.path,
        "ip": ratelimit.client_ip(request),
    }
    api_key = getattr(request, "auth", None)  # DRF copies it onto the Django request
    if isinstance(api_key, ApiKey):
        return Actor(api_key=api_key, **where)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Actor(user=user, **where)
    return Actor(**where)


def current_actor() -> Actor:
    request = _request.get()
    return Actor() if request is None else actor_of(request)


@contextmanager
def serving(request) -> Iterator[None]:
    """Make `request` the one whose actor events recorded inside this block name."""
    token = _request.set(request)
    try:
        yield
    finally:
        _request.reset(token)
