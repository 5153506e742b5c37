"""Scoring attributed calls against the ground truth, and naming why a join went wrong. Pure.

A call is joined to the right session when the stored call's session is the session of the
visit whose number the caller dialled; to the right campaign when the campaigns are equal (a
wrong session of the same campaign still credits the right campaign, not the right keyword).
"""

from collections import Counter
from dataclasses import dataclass, field

from bench.simulate.traffic import EARLIER_NUMBER

EXACT, AMBIGUOUS, SOURCE = "exact", "ambiguous", "source"  # calls.models.Confidence values

# Why a call was joined to the wrong session, most specific first.
EARLIER = "returning visitor dialled an earlier visit's number"
RELEASED = "called after the lease ended; number re-leased to another visitor"
LAPSED = "called after the lease ended; number idle (source)"
SHARED = "shared number (pool exhausted), another sharer chosen"
OTHER = "other"
CAUSES = (RELEASED, LAPSED, SHARED, EARLIER, OTHER)


@dataclass(frozen=True)
class CallFacts:
    """One call as the simulator saw it: the truth, what was stored, and what explains it."""

    kind: str
    true_session: object
    true_campaign: int | None
    after_lease: bool  # the call came at or after the true session's lease ended
    session: object | None
    campaign: int | None
    confidence: str


@dataclass
class Score:
    calls: int = 0
    right_session: int = 0
    right_campaign: int = 0
    confidence: Counter = field(default_factory=Counter)
    causes: Counter = field(default_factory=Counter)

    def share(self, count: int) -> float:
        return count / self.calls if self.calls else 0.0


def cause(facts: CallFacts) -> str | None:
    """None for a right join, else the reason it went wrong."""
    if facts.session == facts.true_session:
        return None
    if facts.kind == EARLIER_NUMBER:
        return EARLIER
    if facts.after_lease:
        return LAPSED if facts.confidence == SOURCE else RELEASED
    if facts.confidence == AMBIGUOUS:
        return SHARED
    return OTHER


def score(calls: list[CallFacts]) -> Score:
    result = Score()
    for facts in calls:
        result.calls += 1
        result.confidence[facts.confidence] += 1
        result.right_campaign += facts.campaign == facts.true_campaign
        why = cause(facts)
        if why is None:
            result.right_session += 1
        else:
            result.causes[why] += 1
    return result
