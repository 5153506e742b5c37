"""The rule-based attribution models and exact apportioning (attribution.credits.rules)."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attribution.credits import rules

DAY_US = 24 * 3600 * 1_000_000
CAMPAIGNS = st.sampled_from([None, 1, 2, 3, 4])
AGES = st.integers(min_value=0, max_value=365 * DAY_US)
EFFECTS = st.dictionaries(
    st.sampled_from([None, 1, 2, 3, 4]), st.fractions(min_value=0, max_value=1)
)


def decimals(shares: rules.Shares) -> list[Decimal]:
    return [Decimal(rules.as_text(units)) for units in shares]


@st.composite
def journeys(draw):
    n = draw(st.integers(min_value=1, max_value=12))
    path = draw(st.lists(CAMPAIGNS, min_size=n, max_size=n))
    ages = sorted(draw(st.lists(AGES, min_size=n, max_size=n)), reverse=True)
    return path, ages


@given(journeys(), EFFECTS)
def test_every_model_gives_non_negative_shares_that_sum_to_exactly_one(journey, effects):
    path, ages = journey
    for model, shares in rules.credits(path=path, ages_us=ages, effects=effects).items():
        assert len(shares) == len(path), model
        assert min(shares) >= 0, model
        assert sum(decimals(shares)) == Decimal(1), model


@given(st.integers(min_value=1, max_value=30))
def test_last_and_first_touch_give_all_credit_to_one_touch(n):
    assert decimals(rules.last_touch(n)) == [Decimal(0)] * (n - 1) + [Decimal(1)]
    assert decimals(rules.first_touch(n)) == [Decimal(1)] + [Decimal(0)] * (n - 1)


@given(st.integers(min_value=1, max_value=30))
def test_linear_is_uniform_the_remainder_going_to_the_earliest_touches(n):
    floor, missing = divmod(rules.UNIT, n)
    assert rules.linear(n) == (floor + 1,) * missing + (floor,) * (n - missing)


def test_linear_thirds_are_exact_to_fifteen_places():
    assert [rules.as_text(u) for u in rules.linear(3)] == [
        "0.333333333333334",
        "0.333333333333333",
        "0.333333333333333",
    ]


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, ["1"]),
        (2, ["0.5", "0.5"]),
        (3, ["0.4", "0.2", "0.4"]),
        (7, ["0.4", "0.04", "0.04", "0.04", "0.04", "0.04", "0.4"]),
    ],
)
def test_position_based_is_40_20_40(n, expected):
    assert decimals(rules.position_based(n)) == [Decimal(e) for e in expected]


def test_time_decay_halves_a_touch_per_week_of_age():
    # Weights 2^(−7/7) = ½ and 2^0 = 1: shares ⅓ and ⅔, the spare unit to the larger remainder.
    assert [rules.as_text(u) for u in rules.time_decay([7 * DAY_US, 0])] == [
        "0.333333333333333",
        "0.666666666666667",
    ]
    # Two weeks: ¼ against 1, so exactly 0.2 and 0.8.
    assert decimals(rules.time_decay([14 * DAY_US, 0])) == [Decimal("0.2"), Decimal("0.8")]


def test_time_decay_gives_touches_of_the_same_age_equal_credit():
    assert rules.time_decay([3 * DAY_US, 3 * DAY_US]) == rules.linear(2)
    assert rules.time_decay([DAY_US]) == (rules.UNIT,)


def test_data_driven_splits_in_proportion_to_removal_effects_then_among_touches():
    effects = {"A": Fraction(1, 3), "B": Fraction(1)}
    # A's ⅓ and B's 1 out of 4/3: A ¼ (⅛ for each of its two touches), B ¾.
    assert decimals(rules.data_driven(["A", "B", "A"], effects)) == [
        Decimal("0.125"),
        Decimal("0.75"),
        Decimal("0.125"),
    ]


def test_data_driven_falls_back_to_linear_when_every_effect_on_the_path_is_zero():
    effects = {"A": Fraction(0), "B": Fraction(1)}
    assert rules.data_driven(["A", "C", "A"], effects) == rules.linear(3)


def test_data_driven_gives_nothing_to_a_campaign_without_effect_beside_one_with():
    effects = {"A": Fraction(0), None: Fraction(1, 2)}
    assert decimals(rules.data_driven(["A", None], effects)) == [Decimal(0), Decimal(1)]


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20))
def test_apportion_never_moves_a_share_more_than_one_unit_from_the_exact_value(weights):
    if not any(weights):
        weights[0] = 1
    total = sum(weights)
    for weight, units in zip(weights, rules.apportion(weights), strict=True):
        assert abs(units - Fraction(weight * rules.UNIT, total)) < 1


def test_apportion_refuses_weights_that_share_nothing():
    with pytest.raises(ValueError, match="positive sum"):
        rules.apportion([0, 0])
