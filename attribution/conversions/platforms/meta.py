"""Meta Conversions API: server events on a dataset (pixel).

https://developers.facebook.com/docs/marketing-api/conversions-api/using-the-api

A phone-call conversion is `action_source: phone_call` with hashed `ph`/`em`; a lead from
Meta's lead ads (the CRM gave us its `lead_id`) is a CRM event, `system_generated` with the
unhashed `lead_id` (Conversion Leads, PROTOCOLS §3.4). Meta answers for the whole request: one
bad event fails them all, so a refused batch is bisected to find the bad ones.
"""

from __future__ import annotations

import datetime as dt
import logging

import httpx

from attribution.conversions.platforms import base, hashing

logger = logging.getLogger(__name__)

KIND = "meta"
API_VERSION = "v26.0"  # the facebook-business SDK's default (PROTOCOLS §3.1)
# UNVERIFIED: 1,000 events per request is widely documented ("Batch requests") but was not
# confirmed against a primary source (PROTOCOLS §3.1).
BATCH_LIMIT = 1000
SUPPORTS_RESTATEMENT = False
__getattr__ = base.default_base_url_getattr(KIND)

# An event older than this fails the whole request (server-event parameters, event_time).
MAX_EVENT_AGE = dt.timedelta(days=7)
# Graph API codes that are Meta's trouble, not the event's: unknown, service, and rate limits.
# https://developers.facebook.com/docs/graph-api/guides/error-handling
TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 613})
AUTH_CODES = frozenset({190})  # invalid or expired access token


def group_key(item: dict) -> str:
    return ""


def build(facts: base.Facts, target: base.Target) -> dict | base.Skip:
    user_data: dict = {}
    if phone := hashing.meta_hashed_phone(facts.caller_e164):
        user_data["ph"] = [phone]
    if email := hashing.meta_hashed_email(facts.email):
        user_data["em"] = [email]
    if fbc := _fbc(facts, target):
        user_data["fbc"] = fbc  # never hashed
    custom_data: dict = {}
    if facts.value is not None:
        custom_data["value"] = float(facts.value)
        custom_data["currency"] = facts.currency.lower()  # as the SDK sends it
    lead_id = facts.lead_id if facts.lead_id.isdigit() else ""
    if lead_id:
        # Sent as a string, as the SDK does: a 16-digit id does not survive a JSON double.
        user_data["lead_id"] = lead_id
        custom_data["event_source"] = "crm"
        custom_data["lead_event_source"] = target.config.get("lead_event_source") or "Callpath"
    if not user_data:
        if facts.fbclid and not base.click_in_window(facts, target):
            return base.Skip(base.stale_click_reason(facts, target))
        return base.Skip(base.SKIP_NO_IDENTIFIER)
    event = {
        "event_name": facts.action,
        "event_time": int(facts.occurred_at.timestamp()),
        "event_id": facts.dedup_key,
        "action_source": "system_generated" if lead_id else "phone_call",
        "user_data": user_data,
    }
    if custom_data:
        event["custom_data"] = custom_data
    return event


def _fbc(facts: base.Facts, target: base.Target) -> str:
    """`fb.1.<ms when the fbclid was seen>.<fbclid>`: the click cookie's format.
    https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/fbp-and-fbc"""
    if not facts.fbclid or facts.session_started_at is None:
        return ""
    if not base.click_in_window(facts, target):
        return ""
    return f"fb.1.{int(facts.session_started_at.timestamp() * 1000)}.{facts.fbclid}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def send(target: base.Target, items: list[dict], http: base.Http) -> list[base.Result]:
    """Stale events are rejected without being sent (one would sink the request); the rest go
    in one request, bisected on a 400 to isolate the events Meta refuses."""
    oldest = int((_now() - MAX_EVENT_AGE).timestamp())
    results: list[base.Result | None] = [None] * len(items)
    fresh = []
    for index, item in enumerate(items):
        if int(item["event_time"]) < oldest:
            results[index] = base.Result(
                "skipped", "EVENT_TOO_OLD", "Meta takes events up to 7 days old"
            )
        else:
            fresh.append(index)
    if fresh:
        sent = _Bisect(target, http).send([items[i] for i in fresh])
        for index, result in zip(fresh, sent, strict=True):
            results[index] = result
    return results  # type: ignore[return-value]


class _Bisect:
    """Sends a batch; on a refusal of several events, sends each half again, so a bad event is
    found in log2(n) levels. After a transient failure nothing more is sent in this call."""

    def __init__(self, target: base.Target, http: base.Http):
        self.target, self.http = target, http
        self.halted: base.Result | None = None

    def send(self, items: list[dict]) -> list[base.Result]:
        if self.halted:
            return base.all_items(len(items), self.halted)
        result = self._post(items)
        if result.status != "rejected" or len(items) == 1:
            if result.status == "retry":
                self.halted = result
            return base.all_items(len(items), result)
        middle = len(items) // 2
        return self.send(items[:middle]) + self.send(items[middle:])

    def _post(self, items: list[dict]) -> base.Result:
        # The token travels in the body, never the URL, so it stays out of access logs.
        body: dict = {"data": items, "access_token": self.target.credentials.get("access_token")}
        if code := self.target.config.get("test_event_code"):
            body["test_event_code"] = code
        url = f"{self.target.base_url}/{API_VERSION}/{self.target.config['pixel_id']}/events"
        try:
            response = self.http.post(url, json=body)
        except httpx.TransportError as exc:
            return base.transport_failure(exc)
        return interpret(self.target, response)


def interpret(target: base.Target, response: httpx.Response) -> base.Result:
    """The verdict on one request (Meta gives none per event)."""
    if 200 <= response.status_code < 300:
        return base.Result("accepted")
    error = _error(response)
    code = error.get("code")
    if code in TRANSIENT_CODES:
        return base.Result(
            "retry", f"META_{code}", _message(target, error), base.retry_after(response)
        )
    if failure := base.transient(response):
        return failure
    if code in AUTH_CODES or response.status_code in (401, 403):
        return base.Result("retry", "AUTH_FAILED", _message(target, error))
    subcode = error.get("error_subcode")
    label = f"{code}/{subcode}" if subcode else str(code or f"HTTP_{response.status_code}")
    logger.info("Meta refused events for destination %s: %s", target.id, label)
    return base.Result("rejected", label, _message(target, error))


def _error(response: httpx.Response) -> dict:
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        return {}
    return error if isinstance(error, dict) else {}


def _message(target: base.Target, error: dict) -> str:
    text = error.get("error_user_msg") or error.get("message") or "no message"
    return base.scrub(str(text), target)
