"""Pure rules of CRM outcomes: which call an outcome belongs to, when a report is old news,
and how a change is written down. No ORM, no I/O: `matching` reads the candidates.

Which call (PRODUCT.md, "Outcome to call"), first rule that finds one:
1. `call`: the outcome names it, by our id or by the provider's external id (`call`);
2. `phone`: the most recent non-spam call from the outcome's caller number at or before
   `occurred_at`, and no earlier than the match window before it (`phone`);
3. `email`: the same rule over the calls whose session carries the outcome's email, or which
   another outcome with that email was matched to (`email`);
4. none: `unmatched`, kept and matched again when a call arrives.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

CALL, PHONE, EMAIL, UNMATCHED = "call", "phone", "email", "unmatched"

# What history records of an outcome, in this order; `call` is the call's id.
TRACKED = (
    "stage",
    "value",
    "currency",
    "occurred_at",
    "call",
    "call_external_id",
    "caller_e164",
    "caller_raw",
    "email",
    "match_method",
)
# A change to one of these asks the question "which call?" again.
MATCH_INPUTS = ("call_external_id", "caller_e164", "email")


@dataclass(frozen=True)
class Wanted:
    """What one outcome offers to find its call."""

    occurred_at: datetime
    outcome_id: int | None = None  # None for an outcome not stored yet
    call_id: int | None = None  # named by our id
    call_external_id: str = ""
    caller_e164: str = ""
    email: str = ""


@dataclass(frozen=True)
class Candidate:
    """A call that may be an outcome's, with what can tie it to one."""

    call_id: int
    started_at: datetime
    spam: bool
    external_id: str
    caller_e164: str
    session_email: str = ""  # lower case
    # (outcome id, email) of other outcomes already matched to this call
    outcome_emails: frozenset[tuple[int, str]] = frozenset()


@dataclass(frozen=True)
class Match:
    call_id: int | None
    method: str


NO_MATCH = Match(None, UNMATCHED)


def window_start(occurred_at: datetime, window_days: int) -> datetime:
    """The earliest start a call may have to be an outcome's: the window is inclusive."""
    return occurred_at - timedelta(days=window_days)


def in_window(started_at: datetime, occurred_at: datetime, window_days: int) -> bool:
    return window_start(occurred_at, window_days) <= started_at <= occurred_at


def named_calls(wanted: Wanted, candidates: Iterable[Candidate]) -> list[Candidate]:
    """The calls whose provider external id the outcome names (one per provider)."""
    if not wanted.call_external_id:
        return []
    return [c for c in candidates if c.external_id == wanted.call_external_id]


def decide(wanted: Wanted, candidates: Iterable[Candidate], *, window_days: int) -> Match:
    """The call `wanted` belongs to among `candidates` (module docstring). An external id
    naming calls of several providers names none of them: the API refuses it before this."""
    if wanted.call_id is not None:
        return Match(wanted.call_id, CALL)
    candidates = list(candidates)
    named = named_calls(wanted, candidates)
    if len(named) == 1:
        return Match(named[0].call_id, CALL)
    eligible = [
        c
        for c in candidates
        if not c.spam and in_window(c.started_at, wanted.occurred_at, window_days)
    ]
    if wanted.caller_e164:
        by_phone = [c for c in eligible if c.caller_e164 == wanted.caller_e164]
        if by_phone:
            return Match(_latest(by_phone).call_id, PHONE)
    if wanted.email:
        by_email = [c for c in eligible if _carries(c, wanted)]
        if by_email:
            return Match(_latest(by_email).call_id, EMAIL)
    return NO_MATCH


def _carries(candidate: Candidate, wanted: Wanted) -> bool:
    if candidate.session_email == wanted.email:
        return True
    return any(
        email == wanted.email and outcome_id != wanted.outcome_id
        for outcome_id, email in candidate.outcome_emails
    )


def _latest(calls: list[Candidate]) -> Candidate:
    return max(calls, key=lambda c: (c.started_at, c.call_id))


def is_stale(*, stored: datetime, incoming: datetime) -> bool:
    """A report about an earlier moment than the one stored is old news (webhooks arrive late
    and out of order): it changes nothing. The same moment again is a correction."""
    return incoming < stored


def plan_match(*, before: dict | None, after: dict, given: Iterable[str]) -> Wanted | None:
    """What to match `after` (an outcome's fields once a report is applied) with, or None to
    keep its call. An outcome that named its call keeps it until a report names another or
    takes the name back (`call: null`); any other is matched again while it has no call, or
    when its caller, email or external call id changed."""
    given = set(given)
    named = after["call"] if "call" in given else None
    wanted = Wanted(
        occurred_at=after["occurred_at"],
        outcome_id=after.get("id"),
        call_id=named,
        call_external_id=after["call_external_id"],
        caller_e164=after["caller_e164"],
        email=after["email"],
    )
    if before is None or named is not None or "call" in given:
        return wanted
    inputs_changed = any(before[name] != after[name] for name in MATCH_INPUTS)
    if before["match_method"] == CALL and "call_external_id" not in given:
        return None
    if before["match_method"] == UNMATCHED or inputs_changed:
        return wanted
    return None


def diff(before: dict | None, after: dict) -> dict[str, list]:
    """`{field: [old, new]}` of the tracked fields that differ, as JSON values (decimals as
    strings with 4 places, moments in ISO 8601 UTC). A new outcome's old values are null."""
    changes = {}
    for name in TRACKED:
        old = before[name] if before is not None else None
        new = after[name]
        if before is None and new in (None, ""):
            continue
        if old != new:
            changes[name] = [as_json(old), as_json(new)]
    return changes


def as_json(value):
    if isinstance(value, Decimal):
        return f"{value:.4f}"
    if isinstance(value, datetime):
        text = value.astimezone(UTC).isoformat()
        return text.removesuffix("+00:00") + "Z"
    return value
