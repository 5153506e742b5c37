"""Per-key rate limits of the REST API, and their place in the OpenAPI schema.

Every authenticated request counts against its API key's budget for the minute (the counter is
`campaigns.ratelimit`: Redis INCR when `CACHE_URL` is set, atomic across processes). Views with
`throttle_scope = "reports"` (the ROI, cost-per-call and KPI reports, which are heavy) count
against a separate, smaller budget instead, so a dashboard refreshing reports cannot starve the
same key's writes and a CRM's writes cannot starve its reports. Budgets are settings
(`API_RATE_PER_KEY`, `API_RATE_REPORTS_PER_KEY`).

Requests without a valid key are refused by authentication before a throttle runs (DRF checks
authentication and permissions first), so they never spend a key's budget; the few views open
to anyone (the schema) are counted per client IP.

The answer carries the budget it was counted against as `RateLimit-Limit`,
`RateLimit-Remaining`, `RateLimit-Reset` (seconds) and `RateLimit-Policy` (draft-ietf-httpapi-
ratelimit-headers-07), set by `config.limits.RequestLimitsMiddleware` from `request.ratelimit`.
Over budget: 429, `Retry-After`, code `throttled`. With the cache down, requests pass without
those headers (campaigns.ratelimit fails open)."""

from django.conf import settings
from rest_framework import exceptions
from rest_framework.throttling import BaseThrottle

from campaigns import ratelimit
from campaigns.models import ApiKey
from config import schema

DEFAULT_SCOPE = "default"


def budget(scope: str) -> int:
    limits = {"default": settings.API_RATE_PER_KEY, "reports": settings.API_RATE_REPORTS_PER_KEY}
    return limits.get(scope, settings.API_RATE_PER_KEY)


class ApiKeyRateThrottle(BaseThrottle):
    """Fixed one-minute window per API key and scope; raises 429 with an actionable message."""

    def allow_request(self, request, view) -> bool:
        scope = getattr(view, "throttle_scope", None) or DEFAULT_SCOPE
        limit = budget(scope)
        if isinstance(request.auth, ApiKey):
            who, name = "This API key", f"key:{request.auth.pk}"
        else:
            who, name = "This client", f"ip:{ratelimit.client_ip(request)}"
        usage = ratelimit.count(f"api:{scope}:{name}", limit=limit)
        if usage is None:
            return True
        # On the Django request, where the middleware that writes the headers finds it.
        request._request.ratelimit = usage
        if usage.allowed:
            return True
        what = "report requests" if scope == "reports" else "requests"
        throttled = exceptions.Throttled(
            detail=f"{who} made more than {limit} {what} in a minute. Retry after "
            f"{usage.reset} s (Retry-After); RateLimit-Remaining on each answer shows what is "
            "left of the budget."
        )
        throttled.wait = usage.reset  # set here: Throttled(wait=) would append its own sentence
        raise throttled


# -- OpenAPI ------------------------------------------------------------------------------------

_INT = {"schema": {"type": "integer", "minimum": 0}}
RATE_HEADERS = {
    "RateLimit-Limit": {**_INT, "description": "Requests allowed per window for this key."},
    "RateLimit-Remaining": {**_INT, "description": "Requests left in the current window."},
    "RateLimit-Reset": {**_INT, "description": "Seconds until the window resets."},
    "RateLimit-Policy": {
        "schema": {"type": "string"},
        "description": "The budget as `<limit>;w=<seconds>`.",
    },
}


def document_limits(result, generator, request, public):
    """drf-spectacular postprocessing hook: every API operation can answer 429 (with
    `Retry-After`), every one with a body 413, and every success carries the RateLimit-*
    headers. Only paths under /api/v1/ are rate limited. The other error answers are
    config.schema's (the same Error component)."""
    for method, operation in schema.api_operations(result):
        responses = operation["responses"]
        for code, response in responses.items():
            if str(code).startswith("2"):
                response.setdefault("headers", {}).update(RATE_HEADERS)
        responses.setdefault(
            "429",
            schema.error_response(
                "Too many requests for this API key: wait `Retry-After` seconds.",
                {"Retry-After": {**_INT, "description": "Seconds to wait."}, **RATE_HEADERS},
            ),
        )
        if method in schema.BODY_METHODS:
            responses.setdefault(
                "413",
                schema.error_response(
                    "The body is larger than the server accepts "
                    "(DATA_UPLOAD_MAX_MEMORY_SIZE): send less, or split a batch."
                ),
            )
    return result
