"""The attribution models as pure functions of a call's journey (PRODUCT.md, "Touchpoints and
models"). No ORM, no I/O.

Shares are exact: each model yields integer weights (or exact binary fractions), and
`apportion` turns them into integer *units* of 10⁻¹⁵ that add up to exactly 10¹⁵ — the stored
15-place decimals of one call sum to exactly 1. Each share is first rounded down; the units still
missing (fewer than the number of touches) go one each to the touches with the largest remainders
(the largest-remainder method), ties to the earlier touch.

Time decay weights each touch 2^(−Δ/7 days). That power is irrational, so its weight is the IEEE
double nearest to it (relative error ≤ 2⁻⁵³); normalising and apportioning those weights is exact.
A stored share is therefore within one unit (10⁻¹⁵) of the true share, like any share rounded to
15 places, and the shares of a call still sum to exactly 1.
"""

from collections.abc import Hashable, Mapping, Sequence
from fractions import Fraction
from functools import lru_cache
from math import lcm

PLACES = 15
UNIT = 10**PLACES  # 1 as a number of units of 10⁻¹⁵
HALF_LIFE_MICROSECONDS = 7 * 24 * 3600 * 1_000_000
MODELS = ("last_touch", "first_touch", "linear", "time_decay", "position_based", "data_driven")

Shares = tuple[int, ...]  # one share per touch, in units of 10⁻¹⁵, summing to UNIT


def apportion(weights: Sequence[int | Fraction]) -> Shares:
    """Split UNIT in proportion to non-negative weights (at least one positive), exactly.

    Largest remainder: floor every share, then give the missing units to the largest
    remainders, ties to the earlier position. Deterministic, so the bulk and per-call paths
    agree to the last digit."""
    denominators = [w.denominator for w in weights if isinstance(w, Fraction)]
    scale = lcm(*denominators) if denominators else 1
    return _apportion_integers([int(w * scale) for w in weights])


def _apportion_integers(integers: list[int]) -> Shares:
    total = sum(integers)
    if total <= 0 or min(integers) < 0:
        raise ValueError(f"weights must be non-negative with a positive sum: {integers!r}")
    floors, remainders = zip(*(divmod(w * UNIT, total) for w in integers), strict=True)
    units = list(floors)
    missing = UNIT - sum(units)
    if missing:
        ranked = sorted(range(len(units)), key=lambda i: (-remainders[i], i))
        for i in ranked[:missing]:
            units[i] += 1
    return tuple(units)


def last_touch(n: int) -> Shares:
    return (0,) * (n - 1) + (UNIT,)


def first_touch(n: int) -> Shares:
    return (UNIT,) + (0,) * (n - 1)


@lru_cache(maxsize=256)
def linear(n: int) -> Shares:
    return apportion([1] * n)


@lru_cache(maxsize=256)
def position_based(n: int) -> Shares:
    """40/20/40: n=1 all, n=2 half each, else 0.4 first and last, 0.2 shared by the middle.
    As integer weights: 2(n−2) for the ends and 1 for each middle touch, out of 5(n−2)."""
    if n <= 2:
        return linear(n)
    ends = 2 * (n - 2)
    return apportion([ends] + [1] * (n - 2) + [ends])


def time_decay(ages_us: Sequence[int]) -> Shares:
    """Weights 2^(−Δ/7 days), Δ = call start − touch start in microseconds, normalised."""
    if len(ages_us) == 1:
        return (UNIT,)
    # Each double is an exact binary fraction n/2^k: scaled to the largest 2^k, all integers.
    ratios = [(2.0 ** (-age / HALF_LIFE_MICROSECONDS)).as_integer_ratio() for age in ages_us]
    scale = max(d for _, d in ratios)
    return _apportion_integers([n * (scale // d) for n, d in ratios])


def data_driven(path: Sequence[Hashable], effects: Mapping[Hashable, Fraction]) -> Shares:
    """Split the call among the campaigns (states) on its path in proportion to their removal
    effects, each campaign's share split equally among its touches; linear when every
    campaign on the path has effect 0 (or none is known)."""
    touches: dict[Hashable, int] = {}
    for state in path:
        touches[state] = touches.get(state, 0) + 1
    weights = [Fraction(effects.get(state, 0)) / touches[state] for state in path]
    if not any(weights):
        return linear(len(path))
    return apportion(weights)


class DataDriven:
    """`data_driven` over one set of removal effects, memoised by path: an account's calls
    share few distinct campaign sequences."""

    def __init__(self, effects: Mapping[Hashable, Fraction]):
        self.effects = {state: Fraction(effect) for state, effect in effects.items()}
        self._memo: dict[tuple, Shares] = {}

    def __call__(self, path: Sequence[Hashable]) -> Shares:
        key = tuple(path)
        shares = self._memo.get(key)
        if shares is None:
            shares = self._memo[key] = data_driven(key, self.effects)
        return shares


def credits(
    *, path: Sequence[Hashable], ages_us: Sequence[int], effects: Mapping[Hashable, Fraction]
) -> dict[str, Shares]:
    """Every model's shares for one call: `path` is the campaign (state) of each touch, oldest
    first, `ages_us` each touch's age at the call in microseconds."""
    n = len(path)
    return {
        "last_touch": last_touch(n),
        "first_touch": first_touch(n),
        "linear": linear(n),
        "time_decay": time_decay(ages_us),
        "position_based": position_based(n),
        "data_driven": data_driven(path, effects),
    }


def as_text(units: int) -> str:
    """A share as the plain 15-place decimal PostgreSQL stores (`0.333333333333333`)."""
    return f"{units // UNIT}.{units % UNIT:0{PLACES}d}"
