"""Credits recomputed from the database: touchpoints, stored shares, the per-call and bulk paths,
the removal effects' journeys, the task and the command."""

import datetime as dt
import random
from collections import Counter
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attribution.credits import selectors, services, tasks, threads
from attribution.credits.markov import CONVERSION, NULL, START
from attribution.models import Touchpoint
from attribution.models.credits import RemovalEffect
from tests.factories import (
    AccountFactory,
    CallFactory,
    CampaignFactory,
    KeywordFactory,
    SessionFactory,
)

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
MODELS = ["last_touch", "first_touch", "linear", "time_decay", "position_based", "data_driven"]
COLUMNS = ["call_id", "position", "session_id", "campaign_id", "keyword_id", "touched_at", *MODELS]


def days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


def rows(account) -> list[tuple]:
    return list(
        Touchpoint.objects.filter(account=account)
        .order_by("call_id", "position")
        .values_list(*COLUMNS)
    )


def shares(call, model: str) -> list[Decimal]:
    return list(call.touchpoints.order_by("position").values_list(model, flat=True))


@pytest.fixture
def campaigns(account):
    return CampaignFactory(account=account, name="A"), CampaignFactory(account=account, name="B")


@pytest.fixture
def journey(account, campaigns):
    """Visitor v's sessions around one call (30-day lookback), with strangers around it."""
    a, b = campaigns
    at = NOW - days(1)

    def visit(visitor, campaign, started_at, **fields):
        return SessionFactory(
            account=account, visitor_id=visitor, campaign=campaign, started_at=started_at, **fields
        )

    session = {
        "too_old": visit("v", a, at - days(31)),
        "first": visit("v", a, at - days(20)),
        "bot": visit("v", b, at - days(10), is_bot=True),
        "second": visit("v", b, at - days(7)),
        "stranger": visit("w", b, at - days(3)),
        "own": visit("v", a, at - dt.timedelta(hours=1)),
        "later": visit("v", b, at + days(1)),
    }
    other = AccountFactory()
    SessionFactory(account=other, visitor_id="v", started_at=at - days(2))
    call = CallFactory(account=account, session=session["own"], campaign=a, started_at=at)
    return call, session


def test_touchpoints_are_the_visitors_sessions_of_the_lookback_window_ending_with_the_call(
    account, journey
):
    call, session = journey
    services.recompute_credits(account=account, call_ids=[call.pk])
    touches = call.touchpoints.order_by("position")
    assert [t.session_id for t in touches] == [
        session["first"].pk,
        session["second"].pk,
        session["own"].pk,
    ]
    assert [t.position for t in touches] == [0, 1, 2]
    assert [t.touched_at for t in touches] == [
        session["first"].started_at,
        session["second"].started_at,
        session["own"].started_at,
    ]
    assert [t.campaign.name for t in touches] == ["A", "B", "A"]


def test_the_lookback_window_is_the_accounts(account, journey):
    call, session = journey
    account.lookback_days = 8
    account.save()
    services.recompute_credits(account=account, call_ids=[call.pk])
    assert list(call.touchpoints.order_by("position").values_list("session_id", flat=True)) == [
        session["second"].pk,
        session["own"].pk,
    ]


def test_every_model_is_stored_exactly_for_a_three_touch_call(account, journey, campaigns):
    call, _ = journey
    a, b = campaigns
    RemovalEffect.objects.create(
        account=account, campaign=a, effect=Decimal(1) / 3, computed_at=NOW
    )
    RemovalEffect.objects.create(account=account, campaign=b, effect=Decimal(1), computed_at=NOW)
    assert services.recompute_credits(account=account, call_ids=[call.pk]) == 3
    assert shares(call, "last_touch") == [Decimal(0), Decimal(0), Decimal(1)]
    assert shares(call, "first_touch") == [Decimal(1), Decimal(0), Decimal(0)]
    assert shares(call, "linear") == [
        Decimal("0.333333333333334"),
        Decimal("0.333333333333333"),
        Decimal("0.333333333333333"),
    ]
    assert shares(call, "position_based") == [Decimal("0.4"), Decimal("0.2"), Decimal("0.4")]
    # Ages 20 days, 7 days and 1 hour: weights 2^(−20/7), 2^(−1), 2^(−1/168), normalised;
    # each stored share within one unit of the 15th place of the exact one, summing to 1.
    weights = [Fraction(2 ** (-20 / 7)), Fraction(1, 2), Fraction(2 ** (-1 / 168))]
    exact = [w / sum(weights) for w in weights]
    decay = shares(call, "time_decay")
    assert [round(float(d), 6) for d in decay] == [0.084468, 0.306017, 0.609515]
    assert all(
        abs(Fraction(d) - e) < Fraction(1, 10**15) for d, e in zip(decay, exact, strict=True)
    )
    assert sum(decay) == 1
    # A's stored 0.333333333333333 over its two touches, B's 1: A ⅛ − ε each, B ¾ + 2ε,
    # exactly (0.124999999999999…, 0.750000000000000…); the two spare units go to A's
    # larger remainders.
    assert shares(call, "data_driven") == [Decimal("0.125"), Decimal("0.75"), Decimal("0.125")]


def test_a_call_without_a_session_has_one_touch_its_campaign_and_keyword(account, campaigns):
    keyword = KeywordFactory(campaign=campaigns[0], account=account)
    call = CallFactory(account=account, campaign=campaigns[0], keyword=keyword, started_at=NOW)
    unattributed = CallFactory(account=account, started_at=NOW)
    services.recompute_credits(account=account, call_ids=[call.pk, unattributed.pk])
    touch = call.touchpoints.get()
    assert (touch.position, touch.session_id, touch.campaign_id, touch.keyword_id) == (
        0,
        None,
        campaigns[0].pk,
        keyword.pk,
    )
    assert touch.touched_at == NOW
    assert [getattr(touch, m) for m in MODELS] == [Decimal(1)] * 6
    assert unattributed.touchpoints.get().campaign_id is None


def test_recompute_is_idempotent_and_replaces_a_calls_rows(account, journey, campaigns):
    call, session = journey
    services.recompute_credits(account=account, call_ids=[call.pk])
    first = rows(account)
    assert services.recompute_credits(account=account, call_ids=[call.pk, call.pk]) == 3
    assert rows(account) == first
    # The call moves to a stranger's session: its three old rows give way to one.
    call.session = session["stranger"]
    call.save()
    services.recompute_credits(account=account, call_ids=[call.pk])
    assert list(call.touchpoints.values_list("session_id", flat=True)) == [session["stranger"].pk]


def test_recompute_ignores_calls_of_another_account(account, other_account):
    stranger = CallFactory(account=other_account, started_at=NOW)
    assert services.recompute_credits(account=account, call_ids=[stranger.pk]) == 0
    assert not Touchpoint.objects.exists()


def test_the_bulk_path_removes_rows_of_calls_that_no_longer_exist(account):
    call = CallFactory(account=account, started_at=NOW)
    services.recompute_credits(account=account, call_ids=[call.pk])
    with connection.cursor() as cursor:  # a raw delete leaves the derived rows behind
        cursor.execute("DELETE FROM calls_call WHERE id = %s", [call.pk])
    assert services.recompute_account_credits(account=account) == 0
    assert not Touchpoint.objects.filter(account=account).exists()


def test_journeys_are_calls_paths_and_the_sessions_after_a_visitors_last_call(account, campaigns):
    a, b = campaigns
    at = NOW - days(10)
    # v1: A, B → call (converting A → B), then A alone (not converting).
    SessionFactory(account=account, visitor_id="v1", campaign=a, started_at=at - days(2))
    own = SessionFactory(account=account, visitor_id="v1", campaign=b, started_at=at)
    CallFactory(account=account, session=own, campaign=b, started_at=at)
    SessionFactory(account=account, visitor_id="v1", campaign=a, started_at=at + days(1))
    # v2 never called: B, Unattributed (a bot session and one older than 90 days left out).
    SessionFactory(account=account, visitor_id="v2", campaign=b, started_at=at)
    SessionFactory(account=account, visitor_id="v2", campaign=a, started_at=at, is_bot=True)
    SessionFactory(account=account, visitor_id="v2", started_at=at + days(1))
    SessionFactory(account=account, visitor_id="v2", campaign=a, started_at=NOW - days(91))
    # v3's only call is spam: no converting journey, its session a non-converting one.
    spammer = SessionFactory(account=account, visitor_id="v3", campaign=a, started_at=at)
    CallFactory(account=account, session=spammer, campaign=a, started_at=at, spam=True)
    # Calls without a session: their campaign, or Unattributed.
    CallFactory(account=account, campaign=a, started_at=at)
    CallFactory(account=account, started_at=at)
    CallFactory(account=account, campaign=b, started_at=NOW - days(91))  # out of the window

    counts = selectors.transition_counts(account=account, now=NOW)
    A, B = a.pk, b.pk  # noqa: N806
    assert counts == Counter(
        {
            (START, A): 4,  # v1's call, v1 after it, v3, the sessionless call
            (START, B): 1,  # v2
            (START, None): 1,  # the sessionless, campaignless call
            (A, B): 1,
            (B, CONVERSION): 1,
            (A, CONVERSION): 1,
            (None, CONVERSION): 1,
            (A, NULL): 2,  # v1 after the call, v3
            (B, None): 1,
            (None, NULL): 1,
        }
    )


def test_refreshing_removal_effects_stores_them_rounded_and_replaces_the_old(account, campaigns):
    a, b = campaigns
    stale = CampaignFactory(account=account, name="Gone")
    RemovalEffect.objects.create(account=account, campaign=stale, effect=1, computed_at=NOW)
    at = NOW - days(5)
    # The hand-computed example of test_credits_markov: RE(A) = ⅓, RE(B) = 1.
    for visitor, path, calls in [
        ("1", [a, b], True),
        ("2", [a], False),
        ("3", [b], True),
        ("4", [b], False),
    ]:
        for i, campaign in enumerate(path):
            session = SessionFactory(
                account=account, visitor_id=visitor, campaign=campaign, started_at=at + days(i)
            )
        if calls:
            CallFactory(
                account=account, session=session, campaign=path[-1], started_at=at + days(2)
            )
    # fmt: skip
    stored = services.refresh_removal_effects(account=account, now=NOW)
    assert stored == {a.pk: Decimal("0.333333333333333"), b.pk: Decimal("1.000000000000000")}
    assert (
        dict(RemovalEffect.objects.filter(account=account).values_list("campaign_id", "effect"))
        == stored
    )
    assert set(RemovalEffect.objects.values_list("computed_at", flat=True)) == {NOW}


def random_account(rng: random.Random, calls: int):
    """An account with random journeys: 40 visitors, 4 campaigns and Unattributed, bots,
    calls with and without sessions, spam, a random lookback."""
    account = AccountFactory(lookback_days=rng.choice([1, 7, 30, 90]))
    choices = [None, *(CampaignFactory(account=account) for _ in range(4))]
    sessions = []
    for _ in range(calls * 2):
        sessions.append(
            SessionFactory(
                account=account,
                visitor_id=f"v{rng.randrange(40)}",
                campaign=rng.choice(choices),
                is_bot=rng.random() < 0.1,
                started_at=NOW - dt.timedelta(seconds=rng.randrange(120 * 86400)),
            )
        )
    for _ in range(calls):
        session = rng.choice(sessions) if rng.random() < 0.8 else None
        started = session.started_at if session else NOW - days(rng.randrange(100))
        CallFactory(
            account=account,
            session=session,
            campaign=session.campaign if session else rng.choice(choices),
            started_at=started + dt.timedelta(seconds=rng.randrange(-60, 3600)),
            spam=rng.random() < 0.05,
        )
    return account


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_the_bulk_path_writes_exactly_the_rows_of_the_per_call_path(db, monkeypatch, seed):
    rng = random.Random(seed)
    account = random_account(rng, calls=300)
    monkeypatch.setattr(services, "CHUNK_CALLS", 37)  # many chunks, one cut inside each run
    written = services.recompute_account_credits(account=account)
    bulk = rows(account)
    assert written == len(bulk) >= 300

    Touchpoint.objects.filter(account=account).delete()
    ids = sorted(account.calls.values_list("pk", flat=True))
    rng.shuffle(ids)
    for start in range(0, len(ids), 50):
        services.recompute_credits(account=account, call_ids=ids[start : start + 50])
    assert rows(account) == bulk

    sums = (
        Touchpoint.objects.filter(account=account)
        .values("call_id")
        .annotate(**{m: Sum(m) for m in MODELS})
    )
    assert len(sums) == 300
    assert all(row[m] == 1 for row in sums for m in MODELS)


def test_the_task_recomputes_an_account_and_the_nightly_task_queues_every_account(
    account, journey, other_account
):
    call, _ = journey  # its fixture makes a third account
    assert tasks.recompute_account_credits_task(account.pk) == 3
    assert call.touchpoints.count() == 3
    assert tasks.recompute_account_credits_task(10**9) == 0
    assert tasks.recompute_credits_task.delay(account.pk, [call.pk]).get() == 3
    assert tasks.recompute_credits_task(10**9, [call.pk]) == 0
    assert tasks.recompute_all_credits_task.delay().get() == 3  # eager without a broker


def test_the_command_recomputes_one_account_or_all(account, journey, capsys):
    call, _ = journey
    call_command("recomputecredits", str(account.pk), verbosity=0)
    assert call.touchpoints.count() == 3
    assert capsys.readouterr().out == f"Account {account.pk} ({account.name}): 3 touchpoints.\n"
    call_command("recomputecredits", "--all", verbosity=0)
    assert "3 touchpoints" in capsys.readouterr().out


def test_the_command_needs_an_account_or_all(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ACCOUNT_ID or --all"):
        call_command("recomputecredits")
    with pytest.raises(CommandError, match="No account with id 999999"):
        call_command("recomputecredits", "999999")


@pytest.mark.django_db(transaction=True)
def test_the_bulk_path_on_its_own_connections_writes_the_rows_of_the_per_call_path(monkeypatch):
    # Outside a transaction the chunks (and the two Markov queries) run on two threads, each on
    # its own connection; the result is the same as call by call.
    account = random_account(random.Random(7), calls=120)
    monkeypatch.setattr(services, "CHUNK_CALLS", 25)
    on_threads = []
    run = threads._on_own_connection
    monkeypatch.setattr(
        threads, "_on_own_connection", lambda fn, item: on_threads.append(item) or run(fn, item)
    )
    written = services.recompute_account_credits(account=account)
    bulk = rows(account)
    assert written == len(bulk) >= 120
    assert len(on_threads) == 2 + 5  # the two Markov queries, then 5 chunks of 25 calls
    Touchpoint.objects.filter(account=account).delete()
    services.recompute_credits(account=account, call_ids=account.calls.values_list("pk", flat=True))
    assert rows(account) == bulk
    assert services.recompute_account_credits(account=account) == written
    assert rows(account) == bulk
