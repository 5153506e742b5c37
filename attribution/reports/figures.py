"""The report figures of PRODUCT.md ("Report figures"), as pure arithmetic: no ORM, no I/O.

A group's sums are exact `Decimal`s (credits have 15 places, revenue credit × value 19); the
ratios are exact `Fraction`s, `None` on a zero divisor. Nothing is rounded until `shown()`,
which rounds each figure once, half-up: money to 2 places, credited counts and rates to 4.
Sums are added under a 100-digit context, so a total is exact however many rows it adds
(Python's default 28 digits would round a large revenue with 19 decimals).
"""

import decimal
from collections.abc import Iterable
from dataclasses import dataclass, fields
from decimal import Decimal
from fractions import Fraction

ZERO = Decimal(0)
_EXACT = decimal.Context(prec=100, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.Inexact])

MONEY_PLACES = 2
RATE_PLACES = 4

# Shown precision of every figure: money 2 places, credited counts and rates 4, callers whole.
PLACES: dict[str, int | None] = {
    "calls": RATE_PLACES,
    "answered_calls": RATE_PLACES,
    "unique_callers": None,
    "qualified_calls": RATE_PLACES,
    "conversions": RATE_PLACES,
    "revenue": MONEY_PLACES,
    "cost": MONEY_PLACES,
    "conversion_rate": RATE_PLACES,
    "cost_per_call": MONEY_PLACES,
    "cost_per_answered_call": MONEY_PLACES,
    "cpa": MONEY_PLACES,
    "roi": RATE_PLACES,
    "roas": RATE_PLACES,
}
RATIOS = ("conversion_rate", "cost_per_call", "cost_per_answered_call", "cpa", "roi", "roas")


@dataclass(frozen=True)
class Figures:
    """One group's sums, exact. The ratios are derived, exact, and None on a zero divisor."""

    calls: Decimal = ZERO
    answered_calls: Decimal = ZERO
    unique_callers: int = 0
    qualified_calls: Decimal = ZERO
    conversions: Decimal = ZERO
    revenue: Decimal = ZERO
    cost: Decimal = ZERO

    @property
    def conversion_rate(self) -> Fraction | None:
        return ratio(self.conversions, self.calls)

    @property
    def cost_per_call(self) -> Fraction | None:
        return ratio(self.cost, self.calls)

    @property
    def cost_per_answered_call(self) -> Fraction | None:
        return ratio(self.cost, self.answered_calls)

    @property
    def cpa(self) -> Fraction | None:
        return ratio(self.cost, self.conversions)

    @property
    def roi(self) -> Fraction | None:
        return ratio(_EXACT.subtract(self.revenue, self.cost), self.cost)

    @property
    def roas(self) -> Fraction | None:
        return ratio(self.revenue, self.cost)

    def shown(self) -> dict[str, Decimal | int | None]:
        """Every figure, sums then ratios, rounded once for display (see PLACES)."""
        return {name: show(getattr(self, name), PLACES[name]) for name in PLACES}


SUMS = tuple(f.name for f in fields(Figures) if f.name != "unique_callers")


@dataclass(frozen=True)
class Grouped:
    """A report's figures before labels: each group's Figures by its key, and the distinct
    callers over the whole range (the total's unique_callers). Keys by grouping: campaign
    `(campaign_id,)`, keyword `(campaign_id, keyword_id)`, channel `(channel,)`, a period
    `(first_day,)`; None in a key is Unattributed (or a campaign's calls without a keyword)."""

    rows: dict[tuple, Figures]
    unique_callers: int


def ratio(numerator: Decimal, divisor: Decimal) -> Fraction | None:
    """numerator / divisor exactly; None when the divisor is 0 (PRODUCT.md: null)."""
    if divisor == 0:
        return None
    return Fraction(numerator) / Fraction(divisor)


def add(rows: Iterable[Figures], *, unique_callers: int) -> Figures:
    """The exact sum of the rows' sums. `unique_callers` is not additive (a caller in two rows
    is one caller of the total): the caller counts it separately over the whole range."""
    totals = dict.fromkeys(SUMS, ZERO)
    for row in rows:
        for name in SUMS:
            totals[name] = _EXACT.add(totals[name], getattr(row, name))
    return Figures(unique_callers=unique_callers, **totals)


def show(value: Decimal | Fraction | int | None, places: int | None) -> Decimal | int | None:
    """Round an exact value once, half-up (away from zero on a tie), to `places`."""
    if value is None or places is None:
        return value
    scaled = Fraction(value) * 10**places
    units = abs(scaled.numerator) * 2 + scaled.denominator  # 2|x| + 1 over 2: |x| + ½
    rounded = units // (2 * scaled.denominator)
    if scaled < 0:
        rounded = -rounded
    return Decimal(rounded).scaleb(-places, context=_EXACT)
