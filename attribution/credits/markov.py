r"""The data-driven model: first-order Markov-chain removal effects (Anderl et al., "Mapping the
customer journey", 2016; the model of R's ChannelAttribution). Pure: no ORM, no I/O.

**Journeys.** Each journey is a sequence of states — campaigns, *Unattributed* being a state of
its own — framed as START → s₁ → … → sₙ → CONVERSION (a call) or → NULL (no call). The chain's
transition probabilities are the observed frequencies:

    P(a → b) = count(a → b) / Σ_x count(a → x)

**Conversion probability.** Let x_s be the probability of being absorbed in CONVERSION from
state s. Then x_CONVERSION = 1, x_NULL = 0 and, for every other state, x_s = Σ_t P(s → t) x_t.
In integer form, with T_s = Σ_t count(s → t):

    T_s x_s − Σ_{t transient} count(s → t) x_t = count(s → CONVERSION)

a linear system solved here exactly over the rationals (Gaussian elimination on Fractions; the
states are an account's campaigns, a few dozen at most). P(conversion) = x_START.

**Removal effect.** Removing state c sends every transition into c to NULL instead: x_c = 0,
every other equation unchanged. Then

    RE(c) = (P(conversion) − P(conversion without c)) / P(conversion)

in [0, 1]: the share of conversions that would be lost without c. With no conversion at all,
every effect is 0. Self-loops (c → c, a campaign touched twice in a row) change no absorption
probability, so paths are not collapsed.
"""

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from fractions import Fraction


class _Marker(str):
    """A state that is no campaign: distinct from every campaign id and from None."""


START = _Marker("(start)")
CONVERSION = _Marker("(conversion)")
NULL = _Marker("(null)")
_NOTHING = _Marker("(nothing)")

State = Hashable
Transitions = Counter[tuple[State, State]]


def transition_counts(journeys: Iterable[tuple[Sequence[State], bool]]) -> Transitions:
    """Count transitions over `(path, converted)` journeys, START and the end state included.
    An empty path is no journey."""
    counts: Transitions = Counter()
    for path, converted in journeys:
        if not path:
            continue
        states = [START, *path, CONVERSION if converted else NULL]
        counts.update(zip(states, states[1:], strict=False))
    return counts


def conversion_probability(counts: Transitions, removed: State = _NOTHING) -> Fraction:
    """P(START is absorbed in CONVERSION), exactly; with `removed`, that state leads to NULL.
    (A campaign state may be None: Unattributed.)"""
    states = sorted(
        {a for a, _ in counts} - {START} | {b for _, b in counts} - {CONVERSION, NULL},
        key=repr,
    )
    transient = [s for s in states if s != removed]
    index = {s: i for i, s in enumerate(transient)}
    totals: Counter[State] = Counter()
    for (a, _), n in counts.items():
        totals[a] += n
    size = len(transient)
    # Augmented rows [A | b] of T_s x_s − Σ count(s → t) x_t = count(s → CONVERSION).
    rows = [[Fraction(0)] * (size + 1) for _ in range(size)]
    for s, i in index.items():
        rows[i][i] += totals[s] or 1  # a state with no way out is absorbed, converting nowhere
    for (a, b), n in counts.items():
        if a not in index:
            continue
        if b == CONVERSION:
            rows[index[a]][size] += n
        elif b in index:
            rows[index[a]][index[b]] -= n
    x = _solve(rows)
    start_total = totals[START]
    if not start_total:
        return Fraction(0)
    reached = sum(
        (n * (1 if b == CONVERSION else x[index[b]] if b in index else 0))
        for (a, b), n in counts.items()
        if a == START
    )
    return Fraction(reached, start_total)


def removal_effects(counts: Transitions) -> dict[State, Fraction]:
    """RE(c) for every campaign state c in the journeys (see the module docstring)."""
    states = {a for a, _ in counts} | {b for _, b in counts}
    campaigns = [s for s in states if not isinstance(s, _Marker)]
    base = conversion_probability(counts)
    if not base:
        return dict.fromkeys(campaigns, Fraction(0))
    return {c: (base - conversion_probability(counts, removed=c)) / base for c in campaigns}


def _solve(rows: list[list[Fraction]]) -> list[Fraction]:
    """Gauss–Jordan elimination with exact Fractions on an augmented, non-singular system."""
    size = len(rows)
    for col in range(size):
        pivot = next(r for r in range(col, size) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        lead = rows[col][col]
        rows[col] = [v / lead for v in rows[col]]
        for r in range(size):
            factor = rows[r][col]
            if r != col and factor:
                rows[r] = [v - factor * p for v, p in zip(rows[r], rows[col], strict=True)]
    return [row[size] for row in rows]
