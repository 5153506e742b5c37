"""The report arithmetic (attribution.reports.figures and groups), pure: every figure, every
null, rounding once and half-up, totals that add up exactly."""

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from attribution.models import AttributionModel
from attribution.reports import figures, groups
from attribution.reports.figures import Figures

D = Decimal


def test_every_figure_of_a_group_is_computed_from_its_sums():
    group = Figures(
        calls=D("3"),
        answered_calls=D("2"),
        unique_callers=2,
        qualified_calls=D("1.5"),
        conversions=D("1.5"),
        revenue=D("150"),
        cost=D("100"),
    )
    assert group.shown() == {
        "calls": D("3.0000"),
        "answered_calls": D("2.0000"),
        "unique_callers": 2,
        "qualified_calls": D("1.5000"),
        "conversions": D("1.5000"),
        "revenue": D("150.00"),
        "cost": D("100.00"),
        "conversion_rate": D("0.5000"),  # 1.5 / 3
        "cost_per_call": D("33.33"),  # 100 / 3
        "cost_per_answered_call": D("50.00"),  # 100 / 2
        "cpa": D("66.67"),  # 100 / 1.5
        "roi": D("0.5000"),  # (150 - 100) / 100
        "roas": D("1.5000"),  # 150 / 100
    }


def test_each_ratio_is_null_when_its_divisor_is_zero():
    no_calls = Figures(cost=D("10"))
    assert no_calls.conversion_rate is None
    assert no_calls.cost_per_call is None
    assert no_calls.cost_per_answered_call is None
    assert no_calls.cpa is None
    assert no_calls.roi == -1  # spend without calls: all of it lost
    assert no_calls.roas == 0

    no_cost = Figures(calls=D("2"), answered_calls=D("0"), conversions=D("1"), revenue=D("9"))
    assert no_cost.cost_per_answered_call is None  # answered 0
    assert no_cost.roi is None
    assert no_cost.roas is None
    assert no_cost.cpa == 0
    assert no_cost.shown()["cpa"] == D("0.00")
    assert no_cost.shown()["roi"] is None


def test_ratios_are_exact_fractions_until_shown():
    group = Figures(calls=D("3"), conversions=D("1"), cost=D("1"))
    assert group.conversion_rate == Fraction(1, 3)
    assert group.cost_per_call == Fraction(1, 3)
    assert group.shown()["conversion_rate"] == D("0.3333")
    assert group.shown()["cost_per_call"] == D("0.33")


@pytest.mark.parametrize(
    ("value", "places", "shown"),
    [
        (D("0.125"), 2, D("0.13")),  # half-up, not to even
        (D("0.135"), 2, D("0.14")),
        (D("0.12345"), 4, D("0.1235")),
        (D("-0.12345"), 4, D("-0.1235")),  # a tie goes away from zero
        (D("-0.00004"), 4, D("0.0000")),  # no negative zero
        (Fraction(2, 3), 4, D("0.6667")),
        (Fraction(-1, 8), 2, D("-0.13")),
        (D("1234.5"), 2, D("1234.50")),
        (D("0"), 4, D("0.0000")),
        (None, 2, None),
        (7, None, 7),
    ],
)
def test_show_rounds_once_half_up(value, places, shown):
    result = figures.show(value, places)
    assert result == shown
    if isinstance(shown, Decimal):
        assert str(result) == str(shown)  # with its places: "1234.50"


def test_totals_add_the_rows_exactly_and_round_once():
    third = D("0.333333333333333")  # 15 places, as stored
    rows = [Figures(calls=third, cost=D("0.3333")) for _ in range(3)]
    total = figures.add(rows, unique_callers=1)
    assert total.calls == D("0.999999999999999")
    assert [row.shown()["calls"] for row in rows] == [D("0.3333")] * 3
    assert total.shown()["calls"] == D("1.0000")  # not 0.9999: rounded once, from the sum
    assert total.cost == D("0.9999")
    assert total.shown()["cost"] == D("1.00")
    assert total.unique_callers == 1  # given: distinct over the range, not a sum


def test_totals_stay_exact_beyond_pythons_default_28_digits():
    revenue = D("123456789012.3456789012345678901")  # 31 digits, 19 places
    total = figures.add([Figures(revenue=revenue), Figures(revenue=revenue)], unique_callers=0)
    assert total.revenue == D("246913578024.6913578024691357802")


def test_the_models_are_the_attribution_models_in_their_bit_order():
    assert tuple(AttributionModel.values) == groups.MODELS


def test_a_range_may_not_end_before_it_starts_or_cover_over_two_years():
    groups.check_range(dt.date(2026, 1, 1), dt.date(2026, 1, 1))
    groups.check_range(dt.date(2024, 1, 1), dt.date(2025, 12, 31))  # 731 days
    with pytest.raises(groups.BadRange, match="before start"):
        groups.check_range(dt.date(2026, 1, 2), dt.date(2026, 1, 1))
    with pytest.raises(groups.BadRange, match="732 days"):
        groups.check_range(dt.date(2024, 1, 1), dt.date(2026, 1, 1))


@pytest.mark.parametrize(
    ("period", "day", "first"),
    [
        ("day", dt.date(2026, 3, 4), dt.date(2026, 3, 4)),
        ("week", dt.date(2026, 3, 4), dt.date(2026, 3, 2)),  # a Wednesday → its Monday
        ("week", dt.date(2026, 3, 1), dt.date(2026, 2, 23)),  # a Sunday → the Monday before
        ("month", dt.date(2026, 3, 31), dt.date(2026, 3, 1)),
    ],
)
def test_a_period_starts_on_its_day_monday_or_first_of_the_month(period, day, first):
    assert groups.period_start(day, period) == first
