"""`Idempotency-Key` on POST, as one decorator for any DRF handler (campaigns.idempotency has the
rules: replay for 24 h, 422 for the key reused with another request, 409 while it is in flight).

Every view that creates data takes it on every POST through the class decorator, which wraps
the handlers and documents the header on each operation:

    @idempotent_posts
    class CampaignViewSet(AccountScopedViewSet): ...

(`idempotent` is the same for one handler; the class decorator is the one to use.)

The handler runs inside the transaction that holds the key, after authentication and permission
checks (a key is the account's, so they come first). A replayed answer carries
`Idempotent-Replayed: true`. Without the header, nothing changes."""

import functools

from django.db import transaction
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from campaigns import idempotency
from campaigns.api.tenancy import request_account

HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string up to 255 characters (a UUID). The first response to a POST with "
        "this key is replayed, with `Idempotent-Replayed: true`, to every retry for 24 hours. "
        "The same key with another body or path: 422 `idempotency_key_reused`; while the "
        "first request is still running: 409 `idempotency_key_in_progress`. A request that "
        "failed (4xx, 5xx) stores nothing and may be retried with the same key."
    ),
)


def idempotent(handler):
    """Make a POST handler honour `Idempotency-Key` (module docstring)."""

    if getattr(handler, "idempotent", False):
        return handler

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST":
            return handler(view, request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > idempotency.MAX_KEY_LENGTH:
            raise serializers.ValidationError(
                {HEADER: [f"Send 1 to {idempotency.MAX_KEY_LENGTH} characters, e.g. a UUID."]}
            )
        account = request_account(request)
        path = request.get_full_path()
        request_hash = idempotency.fingerprint(method=request.method, path=path, body=request.data)
        with transaction.atomic():
            stored = idempotency.claim(account=account, key=key, request_hash=request_hash)
            if stored is not None:
                return replay(stored)
            response = handler(view, request, *args, **kwargs)
            if response.status_code < 400:
                body = JSONRenderer().render(response.data)
                idempotency.remember(
                    account=account,
                    key=key,
                    method=request.method,
                    path=path,
                    request_hash=request_hash,
                    status_code=response.status_code,
                    body=body.decode(),
                    content_type="application/json",
                )
        return response

    wrapper.idempotent = True
    if isinstance(getattr(handler, "kwargs", None), dict):
        # An @action's kwargs, where drf-spectacular keeps its schema: the wrapper's own copy.
        wrapper.kwargs = dict(handler.kwargs)
    return wrapper


def idempotent_posts(view_class):
    """Class decorator: every POST handler of the view honours `Idempotency-Key` and documents
    it — a viewset's `create` and its POST actions, an APIView's `post`. A handler that is
    idempotent already is left alone."""
    if hasattr(view_class, "get_extra_actions"):
        names = ["create"] if hasattr(view_class, "create") else []
        names += [a.__name__ for a in view_class.get_extra_actions() if "post" in a.mapping]
    else:
        names = ["post"] if hasattr(view_class, "post") else []
    for name in names:
        handler = getattr(view_class, name)
        if getattr(handler, "idempotent", False):
            continue
        setattr(view_class, name, extend_schema(parameters=[IDEMPOTENCY_KEY])(idempotent(handler)))
    return view_class


def replay(stored) -> HttpResponse:
    """The stored answer, byte for byte: a plain response, which DRF passes through unrendered."""
    response = HttpResponse(
        stored.response_body, status=stored.status_code, content_type=stored.content_type
    )
    response["Idempotent-Replayed"] = "true"
    return response
