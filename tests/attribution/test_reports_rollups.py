"""The rollups equal the naive aggregate over the raw rows, for every model and grouping, on
random data: after a refresh, after a report's catch-up of its range alone, after the refresh
of every other change, and a rebuild finds the same rollups (test_reports_maintenance.py has
each kind of write reaching the next report)."""

import datetime as dt
import random
from decimal import Decimal

from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attribution.models import Touchpoint
from attribution.reports import groups, naive, reading, rollups
from calls.models import Call
from campaigns.models import DailyCost
from tests.factories import (
    AccountFactory,
    CallFactory,
    CampaignFactory,
    KeywordFactory,
    OutcomeFactory,
)

GROUPINGS = (*groups.GROUP_BYS, "campaign_day", "campaign_month")
FIRST_DAY = dt.date(2026, 3, 1)
UTC = dt.UTC


def shares(rng: random.Random, n: int) -> list[Decimal]:
    """n random credits with 15 places adding up to exactly 1, some of them 0."""
    if n == 1:
        return [Decimal(1)]
    weights = [rng.choice([0, 0, 1, 2, 3, 7]) for _ in range(n)]
    if not any(weights):
        weights[-1] = 1
    units = [w * 10**15 // sum(weights) for w in weights]
    units[-1] += 10**15 - sum(units)
    return [Decimal(u).scaleb(-15) for u in units]


class World:
    """One random account: campaigns over two channels, keywords, a small pool of callers
    (so callers repeat across days, campaigns and keywords), calls over ~6 weeks around
    midnight in the account's time zone, touchpoints with random fractional credits, outcomes,
    costs at campaign and keyword level."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        tz = rng.choice(["America/New_York", "Europe/London", "Asia/Kolkata", "UTC"])
        self.account = AccountFactory(time_zone=tz)
        self.campaigns = [
            CampaignFactory(account=self.account, channel=rng.choice(["display", "email"]))
            for _ in range(3)
        ]
        self.keywords = [KeywordFactory(campaign=rng.choice(self.campaigns)) for _ in range(3)]
        # Repeating numbers, no number, and one that is not E.164 (no number either).
        self.callers = [f"+1415555{n:04d}" for n in range(6)] + ["", "+0123"]

    def instant(self) -> dt.datetime:
        day = dt.datetime(2026, 3, 1, tzinfo=UTC) + dt.timedelta(days=self.rng.randrange(45))
        # Often near midnight somewhere: UTC, New York, London and Kolkata days disagree.
        return day + dt.timedelta(
            hours=self.rng.choice([0, 3, 4, 5, 18, 19, 23]), minutes=self.rng.randrange(60)
        )

    def target(self):
        campaign = self.rng.choice([None, *self.campaigns])
        keywords = [k for k in self.keywords if campaign and k.campaign_id == campaign.pk]
        return campaign, self.rng.choice([None, *keywords])

    def add_calls(self, n: int) -> list[Call]:
        calls = []
        for _ in range(n):
            campaign, keyword = self.target()
            calls.append(
                CallFactory(
                    account=self.account,
                    campaign=campaign,
                    keyword=keyword,
                    caller_e164=self.rng.choice(self.callers),
                    started_at=self.instant(),
                    status=self.rng.choice(["answered", "answered", "missed", "abandoned"]),
                    spam=self.rng.random() < 0.1,
                )
            )
        for call in calls:
            if self.rng.random() < 0.8:  # else: credits not computed yet
                self.touch(call)
            if self.rng.random() < 0.4:
                OutcomeFactory(
                    account=self.account,
                    call=call,
                    stage=self.rng.choice(["lead", "qualified", "won", "won", "lost"]),
                    value=self.rng.choice([None, Decimal("99.99"), Decimal("1234.5678")]),
                )
        return calls

    def touch(self, call: Call) -> None:
        Touchpoint.objects.filter(call=call).delete()
        n = self.rng.choice([1, 1, 2, 3])
        credits = {model: shares(self.rng, n) for model in groups.MODELS}
        for position in range(n):
            campaign, keyword = self.target() if position < n - 1 else (call.campaign, call.keyword)
            Touchpoint.objects.create(
                account=self.account,
                call=call,
                position=position,
                campaign=campaign,
                keyword=keyword,
                touched_at=call.started_at,
                **{model: credits[model][position] for model in groups.MODELS},
            )

    def add_costs(self, n: int) -> None:
        for _ in range(n):
            campaign, keyword = self.target()
            DailyCost.objects.update_or_create(
                account=self.account,
                campaign=campaign or self.campaigns[0],
                keyword=keyword,
                date=FIRST_DAY + dt.timedelta(days=self.rng.randrange(45)),
                defaults={
                    "amount": Decimal(self.rng.randrange(0, 100_000)) / 100,
                    "currency": "USD",
                },
            )

    def churn(self) -> None:
        """Every kind of change: calls moved, marked spam, deleted; outcomes restaged; credits
        recomputed; costs changed and deleted; a campaign's channel changed."""
        calls = list(Call.objects.filter(account=self.account))
        for call in self.rng.sample(calls, k=min(6, len(calls))):
            action = self.rng.randrange(5)
            if action == 0:
                Call.objects.filter(pk=call.pk).update(started_at=self.instant())
            elif action == 1:
                Call.objects.filter(pk=call.pk).update(spam=not call.spam)
            elif action == 2:
                call.outcomes.update(stage="won", value=Decimal("10.0001"))
            elif action == 3:
                self.touch(call)
            else:
                call.outcomes.all().delete()
                call.touchpoints.all().delete()
                call.delete()
        costs = list(DailyCost.objects.filter(account=self.account))
        for cost in self.rng.sample(costs, k=min(2, len(costs))):
            cost.delete()
        self.add_costs(2)
        self.add_calls(4)
        campaign = self.rng.choice(self.campaigns)
        campaign.channel = "offline" if campaign.channel != "offline" else "display"
        campaign.save(update_fields=["channel"])


def assert_rollups_equal_naive(account, start: dt.date, end: dt.date) -> None:
    for model in groups.MODELS:
        for group_by in GROUPINGS:
            rolled = reading.grouped(
                account_id=account.pk, start=start, end=end, group_by=group_by, model=model
            )
            raw = naive.grouped(
                account_id=account.pk,
                time_zone=account.time_zone,
                start=start,
                end=end,
                group_by=group_by,
                model=model,
            )
            if group_by.startswith("campaign_"):  # the finance export shows no callers
                raw = type(raw)(
                    rows={
                        k: type(f)(**{**vars(f), "unique_callers": 0}) for k, f in raw.rows.items()
                    },
                    unique_callers=0,
                )
            assert rolled == raw, (model, group_by, start, end)


def random_ranges(rng: random.Random) -> list[tuple[dt.date, dt.date]]:
    ranges = [(FIRST_DAY - dt.timedelta(days=1), FIRST_DAY + dt.timedelta(days=46))]
    for _ in range(2):
        start = FIRST_DAY + dt.timedelta(days=rng.randrange(40))
        ranges.append((start, start + dt.timedelta(days=rng.randrange(12))))
    return ranges


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_the_rollups_equal_the_naive_aggregate_for_every_model_and_grouping(db, monkeypatch, seed):
    rng = random.Random(seed)
    world = World(rng)
    world.add_calls(30)
    world.add_costs(8)
    rollups.refresh_account(account_id=world.account.pk)
    for start, end in random_ranges(rng):
        assert_rollups_equal_naive(world.account, start, end)

    world.churn()
    # A report rolls up only its own range's days: right for that range, whatever waits
    # outside it (a caller's previous day before the range counts the same wherever it is).
    monkeypatch.setattr(rollups, "SYNC_DAYS", 100)
    (start, end), *_ = random_ranges(rng)[1:]
    assert rollups.catch_up(account=world.account, start=start, end=end)
    assert_rollups_equal_naive(world.account, start, end)
    # Then the sweeper's refresh of the other changed days.
    rollups.refresh_account(account_id=world.account.pk)
    for start, end in random_ranges(rng):
        assert_rollups_equal_naive(world.account, start, end)

    before = snapshot(world.account)  # a rebuild from scratch finds the same rollups
    rollups.rebuild_account(account=world.account)
    assert snapshot(world.account) == before


def snapshot(account) -> dict:
    from attribution.reports.rollup_sql import FIGURES

    queries = {
        "keyword days": f"""SELECT day, campaign_id, keyword_id, cost, {", ".join(FIGURES)}
            FROM attribution_rollupkeywordday WHERE account_id = %s
            ORDER BY day, campaign_id, keyword_id""",
        "campaign days": f"""SELECT day, campaign_id, cost, {", ".join(FIGURES)}
            FROM attribution_rollupcampaignday WHERE account_id = %s ORDER BY day, campaign_id""",
        "caller days": """SELECT day, caller, campaign_id, keyword_id, models_mask
            FROM attribution_rollupcallerday WHERE account_id = %s
            ORDER BY day, caller, campaign_id, keyword_id""",
        "reach": """SELECT level, model, day, campaign_id, keyword_id, channel, firsts, reach
            FROM attribution_rollupreach WHERE account_id = %s
            ORDER BY level, model, day, campaign_id, keyword_id, channel""",
    }
    found = {}
    with connection.cursor() as cursor:
        for name, sql in queries.items():
            cursor.execute(sql, [account.pk])
            found[name] = cursor.fetchall()
    # A refresh may leave trailing entries equal to `firsts` in an array: the same counts.
    found["reach"] = [(*row[:-1], _trimmed(row[-1], row[-2])) for row in found["reach"]]
    return found


def _trimmed(reach: list[int], firsts: int) -> list[int]:
    reach = list(reach)
    while reach and reach[-1] == firsts:
        reach.pop()
    return reach
