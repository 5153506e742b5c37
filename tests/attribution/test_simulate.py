"""The attribution simulator (bench/simulate): its pure pieces, and a small run through the real
allocation and call join that must keep joining calls to the right session."""

from datetime import UTC, datetime, timedelta

import pytest

from bench.simulate import scoring, sweep, traffic
from bench.simulate.market import Market

SMALL = Market(days=1, visitors_per_day=160, call_share=0.5)
T0 = datetime(2025, 3, 3, 5, 0, tzinfo=UTC)


def test_arrivals_are_the_same_for_a_seed_and_differ_across_seeds():
    first = traffic.plan(SMALL, seed=1)
    again = traffic.plan(SMALL, seed=1)
    other = traffic.plan(SMALL, seed=2)
    assert first == again
    assert [v.start for v in first.visits] != [v.start for v in other.visits]


def test_arrivals_follow_the_daily_profile():
    market = Market(days=4, visitors_per_day=2000)
    starts = traffic.arrivals(market, traffic.random.Random(3))
    local_hours = [(at + timedelta(hours=-5)).hour for at in starts]
    night = sum(1 for hour in local_hours if 2 <= hour < 5)
    late_morning = sum(1 for hour in local_hours if 9 <= hour < 12)
    # The profile's weights: 0.08-0.1 at night against 1.75-1.95 in the late morning.
    assert 15 < late_morning / night < 25
    expected = 4 * 2000 / (1 - market.bot_share)
    assert abs(len(starts) - expected) < 4 * expected**0.5


def test_rate_is_the_profile_interpolated_between_hour_middles():
    market = Market(visitors_per_day=1440 * 0.85, bot_share=0.15)  # one arrival a minute
    mean = sum(market.hourly_profile) / 24
    at_middle_of_10 = T0 + timedelta(hours=10, minutes=30)  # 10:30 local
    assert traffic.rate_per_minute(market, at_middle_of_10) == pytest.approx(1.9 / mean)
    at_11 = T0 + timedelta(hours=11)  # halfway between 10:30 (1.9) and 11:30 (1.95)
    assert traffic.rate_per_minute(market, at_11) == pytest.approx(1.925 / mean)


def test_a_visit_sends_a_heartbeat_every_minute_while_on_the_page():
    requests = traffic.requests_of(Market(), T0, minutes=3.5)
    assert requests == tuple(T0 + timedelta(seconds=s) for s in (0, 60, 120, 180))
    assert traffic.requests_of(Market(), T0, minutes=0.4) == (T0,)


def test_calls_dial_the_number_of_their_true_visit():
    market = SMALL.scaled(earlier_number_share=0.5, return_share=0.6)
    plan = traffic.plan(market, seed=5)
    visits = {visit.id: visit for visit in plan.visits}
    kinds = {call.kind for call in plan.calls}
    assert kinds == {traffic.ON_PAGE, traffic.AFTER_LEAVING, traffic.EARLIER_NUMBER}
    for call in plan.calls:
        truth = visits[call.visit]
        assert not truth.bot
        assert truth.visitor == call.caller
        if call.kind == traffic.ON_PAGE:
            assert truth.start <= call.at <= truth.leaves
        elif call.kind == traffic.AFTER_LEAVING:
            assert call.at > truth.leaves
        else:  # dialled on a later visit, from the number the earlier visit showed
            later = [v for v in plan.visits if v.earlier == truth.id]
            assert len(later) == 1
            assert later[0].start <= call.at <= later[0].leaves
    assert [call.id for call in plan.calls] == list(range(len(plan.calls)))
    assert [call.at for call in plan.calls] == sorted(call.at for call in plan.calls)


def test_recommended_size_is_erlang_b_at_the_busiest_hour_and_mean_lease():
    market = Market()
    pool = market.sources[0].campaign
    # 12 leases starting in one hour, each 5 min on the page + 30 min idle: 12 × 35/60 = 7 E.
    visits = [
        traffic.PlannedVisit(n, n, 0, False, traffic.requests_of(market, T0, 5.2), T0)
        for n in range(12)
    ]
    sizes = traffic.recommended_sizes(market, traffic.Plan(visits, [], T0), idle_seconds=1800)
    assert sizes == {pool: 14}  # B(13, 7) = 1.44%, B(14, 7) = 0.71%


def _facts(**overrides) -> scoring.CallFacts:
    fields = {
        "kind": traffic.AFTER_LEAVING,
        "true_session": "a",
        "true_campaign": 1,
        "after_lease": False,
        "session": "a",
        "campaign": 1,
        "confidence": scoring.EXACT,
    }
    return scoring.CallFacts(**{**fields, **overrides})


def test_scoring_names_the_cause_of_each_wrong_join():
    calls = [
        _facts(),
        _facts(session="b", after_lease=True),
        _facts(session=None, after_lease=True, confidence=scoring.SOURCE),
        _facts(session="b", campaign=2, confidence=scoring.AMBIGUOUS),
        _facts(session="b", kind=traffic.EARLIER_NUMBER, after_lease=True),
    ]
    result = scoring.score(calls)
    assert (result.calls, result.right_session, result.right_campaign) == (5, 1, 4)
    assert result.causes == {
        scoring.RELEASED: 1,
        scoring.LAPSED: 1,
        scoring.SHARED: 1,
        scoring.EARLIER: 1,
    }
    assert result.confidence == {scoring.EXACT: 3, scoring.SOURCE: 1, scoring.AMBIGUOUS: 1}


@pytest.mark.django_db(transaction=False)
def test_a_generous_pool_joins_99_percent_of_calls_to_the_right_session():
    row = sweep.run_one(SMALL, seed=8, idle_minutes=30, factor=2.0, grace_minutes=30)
    assert row.calls > 80
    assert row.right_session >= 0.99
    assert row.right_campaign >= 0.99
    assert row.exhaustion == 0.0
    # The project's own sizing, measured from the leases the run wrote, agrees with the plan's.
    assert row.measured_recommended == row.recommended
