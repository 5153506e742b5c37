"""Pure rules of the outbox: deduplication keys, values, backoff. No ORM, no I/O."""

import datetime as dt
import hashlib
import random
from decimal import Decimal

# Exponential backoff with jitter: 30 s, 1 min, 2 min, … capped at 6 hours (Google's wait for
# a conversion "too recent" to upload), each drawn from [½, 1] of the step so a burst of
# failures does not come back as a burst.
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 6 * 3600


def dedup_key(*, trigger: str, action: str, outcome_id: int | None, call_id: int | None) -> str:
    """The key the platform deduplicates on (Google orderId/transactionId, Meta event_id, the
    webhook's event id) and the outbox's unique key per destination: deterministic, so
    re-saving an outcome or replaying a call never makes a second conversion. No personal data
    (Google rejects an orderId containing PII), ≤ 64 characters."""
    subject = f"o{outcome_id}" if outcome_id is not None else f"c{call_id}"
    digest = hashlib.sha256(action.encode()).hexdigest()[:10]
    return f"cp-{subject}-{trigger}-{digest}"


def restatement_key(base: str, version: int) -> str:
    """The key of the `version`-th value (2, 3, …) of a conversion already sent."""
    return f"{base}-v{version}"


def retraction_key(base: str) -> str:
    """The key of the withdrawal of a conversion already sent (its deal was lost)."""
    return f"{base}-x"


def rule_value(
    *, value_rule: str, fixed_value: Decimal | None, outcome_value: Decimal | None
) -> Decimal | None:
    if value_rule == "fixed":
        return fixed_value
    if value_rule == "outcome":
        return outcome_value
    return None


def backoff(
    attempts: int,
    *,
    retry_after: float | None = None,
    rand=random.random,
    base: float = BACKOFF_BASE_SECONDS,
    cap: float = BACKOFF_CAP_SECONDS,
) -> float:
    """Seconds to wait before attempt `attempts + 1`: the platform's named wait when it gave
    one (a 429's Retry-After, Google's TOO_RECENT_*), never less than our own backoff."""
    step = min(cap, base * 2 ** max(attempts - 1, 0))
    ours = step * (0.5 + rand() / 2)
    return max(ours, retry_after or 0.0)


def next_attempt(
    now: dt.datetime,
    attempts: int,
    retry_after: float | None,
    *,
    base: float = BACKOFF_BASE_SECONDS,
    cap: float = BACKOFF_CAP_SECONDS,
) -> dt.datetime:
    seconds = backoff(attempts, retry_after=retry_after, base=base, cap=cap)
    return now + dt.timedelta(seconds=seconds)


# What each kind of destination needs before it can send: (config keys, credential keys).
REQUIRED = {
    "google_data_manager": (("customer_id",), ("client_id", "client_secret", "refresh_token")),
    "google_ads": (
        ("customer_id",),
        ("client_id", "client_secret", "refresh_token", "developer_token"),
    ),
    "meta": (("pixel_id",), ("access_token",)),
    "microsoft_ads": (
        ("customer_id", "account_id"),
        ("client_id", "refresh_token", "developer_token"),
    ),
    "webhook": (("url",), ("secret",)),
}


def missing_settings(*, kind: str, config: dict, credentials: dict) -> dict[str, list[str]]:
    """Field errors for what a destination of `kind` lacks (empty when it can send)."""
    config_keys, credential_keys = REQUIRED[kind]
    errors = {}
    lacking = [key for key in config_keys if not str(config.get(key) or "").strip()]
    if lacking:
        errors["config"] = [f"A {kind} destination needs config: {', '.join(lacking)}."]
    lacking = [key for key in credential_keys if not str(credentials.get(key) or "").strip()]
    if lacking:
        errors["credentials"] = [f"A {kind} destination needs credentials: {', '.join(lacking)}."]
    return errors
