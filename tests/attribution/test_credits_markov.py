"""The data-driven model's removal effects (attribution.credits.markov), against examples
computed by hand."""

from collections import Counter
from fractions import Fraction

from attribution.credits import markov
from attribution.credits.markov import CONVERSION, NULL, START

# Four journeys over campaigns A and B:
#   A → B → conversion,  A → null,  B → conversion,  B → null.
# P(A→B) = P(A→null) = ½; P(B→conv) = ⅔, P(B→null) = ⅓; P(start→A) = P(start→B) = ½.
# x_B = ⅔, x_A = ½·⅔ = ⅓, P(conversion) = ½·⅓ + ½·⅔ = ½.
# Without A (start→A leads to null): ½·⅔ = ⅓, so RE(A) = (½ − ⅓) / ½ = ⅓.
# Without B (A→B and start→B lead to null): 0, so RE(B) = (½ − 0) / ½ = 1.
JOURNEYS = [(["A", "B"], True), (["A"], False), (["B"], True), (["B"], False)]


def test_transitions_count_every_step_from_start_to_the_end_state():
    assert markov.transition_counts(JOURNEYS) == Counter(
        {
            (START, "A"): 2,
            (START, "B"): 2,
            ("A", "B"): 1,
            ("A", NULL): 1,
            ("B", CONVERSION): 2,
            ("B", NULL): 1,
        }
    )


def test_conversion_probability_matches_the_hand_computation():
    counts = markov.transition_counts(JOURNEYS)
    assert markov.conversion_probability(counts) == Fraction(1, 2)
    assert markov.conversion_probability(counts, removed="A") == Fraction(1, 3)
    assert markov.conversion_probability(counts, removed="B") == 0


def test_removal_effects_match_the_hand_computation():
    effects = markov.removal_effects(markov.transition_counts(JOURNEYS))
    assert effects == {"A": Fraction(1, 3), "B": Fraction(1)}


def test_unattributed_is_a_state_of_its_own():
    # None → A → conversion, None → null: x_A = 1, x_None = ½, P = ½.
    # Without A: 0 (RE 1); without Unattributed: 0 (RE 1).
    journeys = [([None, "A"], True), ([None], False)]
    effects = markov.removal_effects(markov.transition_counts(journeys))
    assert effects == {None: Fraction(1), "A": Fraction(1)}


def test_a_campaign_touched_twice_in_a_row_has_the_same_effects_as_once():
    repeated = [(["A", "A", "B"], True), (["A"], False), (["B", "B"], True), (["B"], False)]
    assert markov.removal_effects(markov.transition_counts(repeated)) == markov.removal_effects(
        markov.transition_counts(JOURNEYS)
    )


def test_a_campaign_that_only_leads_to_others_still_has_an_effect():
    # Add C → A → null. Counts: start→A 2, start→B 2, start→C 1; A→B 1, A→null 2; C→A 1.
    # x_B = ⅔, x_A = ⅓·⅔ = 2/9, x_C = x_A = 2/9; P = (2·2/9 + 2·⅔ + 2/9) / 5 = 2/5.
    # Without C: (2·2/9 + 2·⅔) / 5 = 16/45, RE(C) = (2/5 − 16/45) / (2/5) = 1/9.
    # Without A: 2·⅔ / 5 = 4/15, RE(A) = ⅓. Without B: 0, RE(B) = 1.
    journeys = [*JOURNEYS, (["C", "A"], False)]
    counts = markov.transition_counts(journeys)
    assert markov.conversion_probability(counts) == Fraction(2, 5)
    assert markov.removal_effects(counts) == {
        "A": Fraction(1, 3),
        "B": Fraction(1),
        "C": Fraction(1, 9),
    }


def test_no_conversion_gives_every_campaign_effect_zero():
    journeys = [(["A", "B"], False), (["B"], False)]
    assert markov.removal_effects(markov.transition_counts(journeys)) == {
        "A": Fraction(0),
        "B": Fraction(0),
    }


def test_empty_paths_are_no_journeys():
    assert markov.transition_counts([([], True)]) == Counter()
    assert markov.removal_effects(Counter()) == {}
