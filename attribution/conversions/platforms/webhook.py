"""Signed webhooks: one JSON event per request to the account's own URL (its CRM, Zapier, …).

The body is built once and stored on the outbox row, so every retry sends the same event with
the same `id`; receivers deduplicate on it. The signature scheme (documented in
docs/conversions-webhooks.md) is Stripe's: `Callpath-Signature: t=<unix>,v1=<hex>` where
v1 = HMAC-SHA256(secret, f"{t}.{body}"), so a captured request cannot be replayed later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time

import httpx

from attribution.conversions.platforms import base

KIND = "webhook"
BATCH_LIMIT = 1
SUPPORTS_RESTATEMENT = True
__getattr__ = base.default_base_url_getattr(KIND)  # "": the URL is config["url"]

USER_AGENT = "Callpath-Webhooks/1"
DEFAULT_TOLERANCE = 600  # seconds either side: five minutes of clock skew verify comfortably


def group_key(item: dict) -> str:
    return ""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def build(facts: base.Facts, target: base.Target) -> dict | base.Skip:
    """The event. Never skipped: the receiver is the account's own system, which can match on
    ids we share with it even without a click id or caller number."""
    click_ids = {
        name: getattr(facts, name)
        for name in ("gclid", "gbraid", "wbraid", "msclkid", "fbclid")
        if getattr(facts, name)
    }
    return {
        "id": facts.dedup_key,
        "type": _event_type(facts),
        "created": _iso(_now()),
        "data": {
            "trigger": facts.trigger,
            "action": facts.action,
            "occurred_at": _iso(facts.occurred_at),
            "value": None if facts.value is None else str(facts.value),
            "currency": facts.currency,
            "outcome": {
                "id": facts.outcome_id,
                "crm": facts.outcome_crm or None,
                "external_id": facts.outcome_external_id or None,
            },
            "call": {
                "id": facts.call_id,
                "external_id": facts.call_external_id or None,
                "started_at": _iso(facts.call_started_at),
            },
            "campaign": {"id": facts.campaign_id, "name": facts.campaign_name or None},
            "keyword": facts.keyword_text or None,
            "click_ids": click_ids,
            # Unhashed: the receiver is the account's own system, which already holds them.
            "caller_number": facts.caller_e164 or None,
            "email": facts.email or None,
        },
    }


def encode(item: dict) -> bytes:
    """The exact bytes sent and signed (sorted keys: a JSON column does not keep key order)."""
    return json.dumps(base.public(item), sort_keys=True, separators=(",", ":")).encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    secret: str,
    header: str,
    body: bytes | str,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bool:
    """For receivers: whether `header` (Callpath-Signature) signs `body` with `secret` within
    `tolerance` seconds of `now`. Constant-time; any v1 may match (secret rotation)."""
    if isinstance(body, str):
        body = body.encode()
    parts = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for key, value in parts if key.strip() == "t"]
    signatures = [value.strip() for key, value in parts if key.strip() == "v1"]
    # ASCII digits only: str.isdigit() also passes "²" (int() raises) and other scripts' digits.
    stamp = timestamps[0].strip() if len(timestamps) == 1 else ""
    if not (stamp.isascii() and stamp.isdigit()) or not signatures:
        return False
    timestamp = int(stamp)
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


def send(target: base.Target, items: list[dict], http: base.Http) -> list[base.Result]:
    return [_deliver(target, item, http) for item in items]


def _deliver(target: base.Target, item: dict, http: base.Http) -> base.Result:
    body = encode(item)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Callpath-Event-Id": str(item["id"]),
        "Callpath-Signature": sign(target.credentials["secret"], int(time.time()), body),
    }
    try:
        response = http.post(target.config["url"], content=body, headers=headers)
    except httpx.TransportError as exc:
        return base.transport_failure(exc)
    if 200 <= response.status_code < 300:
        return base.Result("accepted")
    if failure := base.transient(response):
        return failure
    return base.Result(
        "rejected",
        f"HTTP_{response.status_code}",
        base.scrub(response.text, target, limit=200),
    )


def _event_type(facts: base.Facts) -> str:
    if facts.retraction:
        return "conversion.retracted"
    return "conversion.restated" if facts.restatement else "conversion.created"
