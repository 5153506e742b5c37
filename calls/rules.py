"""Pure rules about calls: how statuses advance, and the automatic spam rule. No ORM, no I/O."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

# How far a call has got. A status never gives way to a lower one, so callbacks that arrive
# late, twice or out of order cannot move a call backwards (PRODUCT.md, calls): a `ringing`
# after `completed` changes nothing, and "completed with no answered dial" (abandoned) cannot
# undo a dial result already known. A recording after an unanswered dial upgrades it to
# voicemail; an answered dial outranks everything.
STATUS_RANK = {
    "ringing": 0,
    "in_progress": 1,
    "abandoned": 2,
    "failed": 3,
    "busy": 3,
    "missed": 3,
    "voicemail": 4,
    "answered": 5,
}
FINISHED = frozenset(STATUS_RANK) - {"ringing", "in_progress"}

SHORT_CALL_SECONDS = 10
BURST_CALLS = 3
BURST_WINDOW = timedelta(hours=1)


def advance(current: str, incoming: str) -> str:
    """The status a call should have after `incoming` arrives on a call at `current`."""
    return incoming if STATUS_RANK[incoming] > STATUS_RANK[current] else current


def is_short(status: str, duration_seconds: int) -> bool:
    return status in FINISHED and duration_seconds < SHORT_CALL_SECONDS


@dataclass(frozen=True)
class CallStamp:
    id: int
    started_at: datetime


def burst_members(short_calls: Iterable[CallStamp]) -> set[int]:
    """Ids of the short calls that belong to a burst: 3 or more short calls of one caller
    within one hour. Every call of such a window is marked (PRODUCT.md, "Spam")."""
    calls = sorted(short_calls, key=lambda c: c.started_at)
    marked: set[int] = set()
    start = 0
    for end, call in enumerate(calls):
        while call.started_at - calls[start].started_at > BURST_WINDOW:
            start += 1
        if end - start + 1 >= BURST_CALLS:
            marked.update(c.id for c in calls[start : end + 1])
    return marked
