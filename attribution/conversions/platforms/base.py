"""What every platform adapter takes and gives back: plain data, no ORM.

The outbox (`attribution.conversions`) turns an outcome or a call into `Facts` inside the
business transaction, asks the destination's adapter to `build` the one item it will send (stored
on the outbox row as its payload, so what is sent is what was decided), and later hands a batch of
stored payloads to the adapter's `send`, which answers one `Result` per item, in order.

An adapter module (`platforms/<kind>.py`) provides:

    KIND: str                    # Destination.Kind value
    BATCH_LIMIT: int             # the platform's maximum items per request
    DEFAULT_BASE_URL: str        # overridable per destination and by settings
    SUPPORTS_RESTATEMENT: bool   # a value correction can be sent after the first send

    def build(facts: Facts, target: Target) -> dict | Skip
        # one item of the platform's request body (JSON-able), or why it can never be sent
    def send(target: Target, items: list[dict], http: Http) -> list[Result]
        # one request (len(items) <= BATCH_LIMIT); never raises for a platform's answer or a
        # transport failure: those become per-item Results (retry for all on 429/5xx/timeout)
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

import httpx

# Outbound calls never hang a worker: connect and read bounded (Meta recommends 1.5 s for CAPI;
# Google and Microsoft answer batches of 1,000–2,000 in seconds).
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


@dataclass(frozen=True)
class Facts:
    """Everything known about one conversion, platform-neutral. Times are aware (UTC)."""

    dedup_key: str  # deterministic per (destination, conversion): Google orderId/transactionId,
    # Meta event_id, webhook event id. ASCII, no personal data, ≤ 64 chars.
    action: str  # the rule's conversion action id / event name / goal name
    upload: str  # "click" (default) or "call": Google Ads call conversions
    occurred_at: dt.datetime  # when the conversion happened (stage reached / call ended)
    value: Decimal | None
    currency: str  # ISO 4217, the account's
    time_zone: str  # the account's IANA zone (Google's datetime format carries an offset)
    restatement: bool = False  # a corrected value for a conversion already sent
    retraction: bool = False  # with restatement: the conversion is withdrawn (deal lost)
    restates: str = ""  # a restatement's original dedup key (Google's orderId to adjust);
    # its occurred_at is the original conversion's time, which is how Microsoft finds it
    # Identifiers, from the attributed session and the caller; "" when unknown.
    gclid: str = ""
    gbraid: str = ""
    wbraid: str = ""
    msclkid: str = ""
    fbclid: str = ""
    session_started_at: dt.datetime | None = None  # the click's time (windows; Meta fbc)
    caller_e164: str = ""  # valid E.164 only (withheld and invalid numbers are "")
    email: str = ""  # trimmed, lower-cased; "" when unknown
    lead_id: str = ""  # Meta lead-ads lead id (when the CRM gave one)
    call_started_at: dt.datetime | None = None
    call_external_id: str = ""
    # What it is about, for webhooks and event names.
    trigger: str = ""  # lead | qualified | won | lost | answered_call
    outcome_id: int | None = None
    outcome_crm: str = ""
    outcome_external_id: str = ""
    call_id: int | None = None
    campaign_id: int | None = None
    campaign_name: str = ""
    keyword_text: str = ""


@dataclass(frozen=True)
class Target:
    """A destination as an adapter sees it: where to send and with what."""

    id: int
    kind: str
    base_url: str  # no trailing slash
    config: dict  # non-secret settings (customer id, pixel id, account ids, webhook URL, …)
    credentials: dict  # secrets; never logged, never echoed in errors
    click_window_days: int = 90
    # Token cache for OAuth destinations: read with tokens.get(), saved with tokens.save().
    tokens: TokenStore | None = None


@dataclass
class TokenStore:
    """An OAuth access token cached on the destination. `save` persists a refreshed token (and
    a rotated refresh token: Microsoft returns a new one on every refresh)."""

    access_token: str = ""
    expires_at: dt.datetime | None = None
    persist: Callable[[dict], None] = field(default=lambda values: None, repr=False)
    # The latest rotated refresh token (Microsoft), which wins over credentials["refresh_token"]:
    # load it from what `persist` saved. Never logged.
    refresh_token: str = field(default="", repr=False)

    def valid(self, now: dt.datetime) -> bool:
        return bool(self.access_token) and (
            self.expires_at is None or self.expires_at - dt.timedelta(seconds=60) > now
        )

    def save(self, *, access_token: str, expires_at: dt.datetime, refresh_token: str = "") -> None:
        self.access_token, self.expires_at = access_token, expires_at
        values = {"access_token": access_token, "expires_at": expires_at.isoformat()}
        if refresh_token:
            self.refresh_token = refresh_token
            values["refresh_token"] = refresh_token
        self.persist(values)


@dataclass(frozen=True)
class Skip:
    """The conversion can never be sent: no usable identifier, outside the platform's window."""

    reason: str


ResultStatus = Literal["accepted", "sent", "rejected", "retry", "skipped"]


@dataclass(frozen=True)
class Result:
    """One item's fate in one request.

    accepted: the platform took it (or already had it: `*_ALREADY_EXISTS` counts as accepted);
    sent: taken for asynchronous processing, no per-item verdict (Data Manager);
    rejected: a permanent error, `code` and `message` from the platform;
    skipped: never sent and never will be (outside a window only known at send time, e.g.
    Meta's 7 days), `message` the reason;
    retry: try again later; `retry_after` seconds when the platform named a wait (429
    Retry-After, Google's TOO_RECENT_* six hours), else the outbox backs off exponentially."""

    status: ResultStatus
    code: str = ""
    message: str = ""
    retry_after: float | None = None


def all_items(n: int, result: Result) -> list[Result]:
    return [result] * n


class Http:
    """The one HTTP client adapters use (httpx, bounded timeouts). A class so tests and the
    bench can hand in a client with other limits."""

    def __init__(self, client: httpx.Client | None = None):
        self.client = client or httpx.Client(timeout=TIMEOUT)

    def post(self, url: str, **kwargs) -> httpx.Response:
        return self.client.post(url, **kwargs)


# Helpers shared by the adapters ---------------------------------------------------------------

SKIP_NO_IDENTIFIER = "no click id, phone number or email to match on"


def default_base_url_getattr(kind: str) -> Callable[[str], str]:
    """A module `__getattr__` giving `DEFAULT_BASE_URL` from settings when read, so a test's
    or a deployment's override is seen (PEP 562)."""

    def __getattr__(name: str) -> str:
        if name == "DEFAULT_BASE_URL":
            from django.conf import settings

            return settings.CONVERSIONS_BASE_URLS.get(kind, "")
        raise AttributeError(name)

    return __getattr__


def click_in_window(facts: Facts, target: Target) -> bool:
    """Whether the session's click can still be credited: platforms refuse (Google
    EXPIRED_EVENT) or ignore clicks older than the conversion window."""
    if facts.session_started_at is None:
        return True
    return facts.occurred_at - facts.session_started_at <= dt.timedelta(
        days=target.click_window_days
    )


def stale_click_reason(facts: Facts, target: Target) -> str:
    days = (facts.occurred_at - facts.session_started_at).days if facts.session_started_at else 0
    return (
        f"the click is {days} days older than the conversion, outside the "
        f"{target.click_window_days}-day window, and there is no phone number or email to match on"
    )


def to_float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def retry_after(response: httpx.Response, now: dt.datetime | None = None) -> float | None:
    """Seconds named by Retry-After (delta-seconds or an HTTP date), else None."""
    raw = response.headers.get("retry-after", "").strip()
    if not raw:
        return None
    if raw.isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


def transient(response: httpx.Response) -> Result | None:
    """The retry every platform gets for 408, 429 and 5xx; None for any other status."""
    status = response.status_code
    if status == 429:
        return Result("retry", "RATE_LIMITED", "HTTP 429", retry_after(response))
    if status == 408 or status >= 500:
        return Result("retry", f"HTTP_{status}", f"HTTP {status}", retry_after(response))
    return None


def transport_failure(exc: httpx.TransportError) -> Result:
    """A timeout or a connection failure: nothing (or not all) reached the platform, and every
    platform deduplicates on our key, so sending again is safe."""
    code = "TIMEOUT" if isinstance(exc, httpx.TimeoutException) else "CONNECTION_ERROR"
    return Result("retry", code, f"{type(exc).__name__}: {exc}"[:200])


def scrub(text: str, target: Target, limit: int = 300) -> str:
    """A platform's message, cut short, with any secret it might echo removed."""
    for secret in target.credentials.values():
        if isinstance(secret, str) and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    if target.tokens and target.tokens.access_token:
        text = text.replace(target.tokens.access_token, "[redacted]")
    return text[:limit]


def by_group(
    items: list[dict],
    group_key: Callable[[dict], str],
    send_group: Callable[[list[dict]], list[Result]],
) -> list[Result]:
    """Send items of different request kinds (Google action, call vs click, adjustment vs
    conversion) as one request per group, answering in the items' order. The delivery code
    batches per group_key, so this is normally a single call."""
    groups: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(group_key(item), []).append(index)
    results: list[Result | None] = [None] * len(items)
    for indexes in groups.values():
        for index, result in zip(indexes, send_group([items[i] for i in indexes]), strict=True):
            results[index] = result
    return results  # type: ignore[return-value]


def public(item: dict) -> dict:
    """The item without its adapter-private keys (named with a leading underscore)."""
    return {key: value for key, value in item.items() if not key.startswith("_")}
