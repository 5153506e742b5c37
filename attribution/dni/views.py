"""`POST /dni/v1/sessions`: the website snippet asks which number to show.

A plain Django view, not DRF: this is the hottest path of the product, public (authenticated by
the account's public key only) and called cross-origin. The snippet posts JSON as `text/plain`
so that browsers send it without a CORS preflight; the body is JSON whatever its content type.
"""

import json
import re
import uuid
from functools import lru_cache

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from attribution.dni import bots, classify, config, leases
from campaigns import phones, ratelimit
from config.limits import body_limit

MAX_BODY = 16 * 1024
MAX_URL = 2048
VISITOR_ID = re.compile(r"^[A-Za-z0-9_.-]{8,64}$")


class BadRequest(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def _error(status: int, code: str, message: str, errors: dict | None = None, **headers):
    response = JsonResponse(
        {"code": code, "message": message, "errors": errors or {}}, status=status
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _cors(response: HttpResponse, origin: str | None) -> HttpResponse:
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "86400"
    response["Vary"] = "Origin"
    return response


@lru_cache(maxsize=4096)
def _display(e164: str) -> str:
    return phones.display(e164)


def _text(body: dict, field: str, *, required: bool = False, limit: int = MAX_URL) -> str:
    value = body.get(field)
    if value is None or value == "":
        if required:
            raise BadRequest(field, "This field is required.")
        return ""
    if not isinstance(value, str):
        raise BadRequest(field, "Expected a string.")
    if len(value) > limit:
        raise BadRequest(field, f"Ensure this field has no more than {limit} characters.")
    return value


def _parse(request) -> dict:
    if len(request.body) > MAX_BODY:
        raise BadRequest("body", f"The body is larger than {MAX_BODY} bytes.")
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("body", "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest("body", "Expected a JSON object.")
    return body


def _session_id(body: dict) -> uuid.UUID | None:
    raw = _text(body, "session_id", limit=64)
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise BadRequest("session_id", f"'{raw}' is not a session id.") from None


def _visitor_id(body: dict) -> str | None:
    raw = _text(body, "visitor_id", limit=64)
    if raw and not VISITOR_ID.match(raw):
        raise BadRequest("visitor_id", "Use 8 to 64 letters, digits, '.', '_' or '-'.")
    return raw or None


def _consent(body: dict, visitor_id: str | None) -> bool:
    # `consent: false`: the visitor has not agreed to a stored id (docs/dni.md, "Consent").
    # Absent means consent, as before the flag existed.
    consent = body.get("consent", True)
    if not isinstance(consent, bool):
        raise BadRequest("consent", "Expected true or false.")
    if not consent and visitor_id:
        raise BadRequest("visitor_id", "Send no visitor_id with consent: false.")
    return consent


def _answer(answer: leases.SessionAnswer) -> dict:
    number = {"e164": answer.e164, "display": _display(answer.e164)} if answer.e164 else None
    return {
        "session_id": str(answer.session_id),
        "visitor_id": answer.visitor_id,
        "number": number,
        "campaign": answer.campaign_id,
        "expires_at": answer.expires_at.isoformat().replace("+00:00", "Z"),
    }


@csrf_exempt
@body_limit(MAX_BODY)  # a larger body is a 413 before it is read (config/limits.py)
def sessions(request):
    origin = request.headers.get("Origin")
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), origin)
    if request.method != "POST":
        return _error(405, "method_not_allowed", "Use POST.", Allow="POST, OPTIONS")
    try:
        body = _parse(request)
        key = _text(body, "key", required=True, limit=64)
    except BadRequest as exc:
        return _cors(_error(400, "invalid", exc.message, {exc.field: [exc.message]}), origin)

    account = config.config_for_key(key)
    if account is None:
        return _error(404, "unknown_key", "No account has this public key.")
    if origin and origin not in account.allowed_origins:
        message = f"{origin} is not an allowed origin of this account."
        return _error(403, "origin_not_allowed", message)

    ip = ratelimit.client_ip(request)
    retry = ratelimit.hit(f"ip:{ip}", limit=settings.DNI_RATE_PER_IP) or ratelimit.hit(
        f"key:{key}", limit=settings.DNI_RATE_PER_KEY
    )
    if retry:
        message = f"Too many requests; retry after {retry} s (Retry-After)."
        response = _error(429, "throttled", message, Retry_After=str(retry))
        return _cors(response, origin)

    try:
        response = _serve(request, account, body, ip)
    except BadRequest as exc:
        response = _error(400, "invalid", exc.message, {exc.field: [exc.message]})
    return _cors(response, origin)


def _serve(request, account: config.AccountConfig, body: dict, ip: str | None):
    url = _text(body, "url", required=True)
    referrer = _text(body, "referrer")
    session_id, visitor_id = _session_id(body), _visitor_id(body)
    consent = _consent(body, visitor_id)
    try:
        visit = classify.read_visit(url=url, referrer=referrer)
    except classify.BadUrl as exc:
        raise BadRequest("url", str(exc)) from None

    if session_id is not None:
        renewed = leases.renew_session(
            config=account, session_id=session_id, consent=consent, visitor_id=visitor_id
        )
        if renewed is not None:
            return JsonResponse(_answer(renewed), status=200)

    user_agent = request.headers.get("User-Agent", "")[:1000]
    answer = leases.start_session(
        config=account,
        classification=classify.classify(
            visit, campaigns=account.campaigns, keywords=account.keywords
        ),
        visit=leases.VisitFacts(url, referrer, user_agent, ip, bots.is_bot(user_agent)),
        visitor_id=visitor_id,
        consent=consent,
    )
    return JsonResponse(_answer(answer), status=201)
