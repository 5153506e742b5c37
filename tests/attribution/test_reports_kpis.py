"""Call KPIs, today's live figures and data freshness, pinned by hand."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from attribution.models import RollupDirtyDay
from attribution.reports import rollups, selectors
from tests.factories import CallFactory, CampaignFactory, OutcomeFactory

D = Decimal
NY = ZoneInfo("America/New_York")
START, END = dt.date(2026, 3, 2), dt.date(2026, 3, 3)  # a Monday and a Tuesday


def local(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=NY)


@pytest.fixture
def search(account):
    search = CampaignFactory(account=account, name="Search")

    def call(at, caller, status, campaign=search, **fields):
        return CallFactory(
            account=account, started_at=at, caller_e164=caller, status=status,
            campaign=campaign, **fields,
        )  # fmt: skip

    call(local(1, 9, month=2), "+14155550002", "answered")  # before the range: 0002 is known
    k1 = call(local(2, 9), "+14155550001", "answered", talk_seconds=100, agent="ann",
              transferred=True)  # fmt: skip
    call(local(2, 10), "+14155550001", "answered", talk_seconds=110, agent="bob")
    call(local(3, 9), "+14155550002", "abandoned")
    call(local(3, 9, 15), "+14155550004", "answered", agent="ann")  # talk time unknown
    call(local(3, 9, 30), "", "missed", campaign=None)
    call(local(3, 9, 45), "+14155550003", "answered", spam=True, talk_seconds=5)
    OutcomeFactory(account=account, call=k1, stage="won", value=D("80"))
    return search


def test_call_kpis_by_campaign(account, search):
    report = selectors.call_kpis(account=account, start=START, end=END).shown()
    assert report["rows"] == [
        {
            "campaign": search.pk,
            "campaign_name": "Search",
            "calls": 4,  # the spam call counts only in the spam share
            "answered": 3,
            "answer_rate": D("0.7500"),
            "abandoned": 1,
            "abandonment_rate": D("0.2500"),
            "average_handle_seconds": D("105.0"),  # (100 + 110) / 2: unknown talk left out
            "transferred": 1,
            "transfer_rate": D("0.3333"),  # of the answered calls
            "repeat_calls": 2,  # 0001's second call; 0002, who called in February
            "repeat_caller_rate": D("0.5000"),
            "first_time_callers": 2,  # 0001, 0004
            "spam_calls": 1,
            "spam_share": D("0.2000"),  # 1 of 5
            "conversions": 1,
            "conversion_rate": D("0.2500"),
        },
        {
            "campaign": None,
            "campaign_name": "Unattributed",
            "calls": 1,
            "answered": 0,
            "answer_rate": D("0.0000"),
            "abandoned": 0,
            "abandonment_rate": D("0.0000"),
            "average_handle_seconds": None,
            "transferred": 0,
            "transfer_rate": None,
            "repeat_calls": 0,
            "repeat_caller_rate": None,  # no caller number
            "first_time_callers": 0,
            "spam_calls": 0,
            "spam_share": D("0.0000"),
            "conversions": 0,
            "conversion_rate": D("0.0000"),
        },
    ]
    totals = report["totals"]
    assert (totals["calls"], totals["spam_share"], totals["conversion_rate"]) == (
        5,
        D("0.1667"),
        D("0.2000"),
    )


def test_conversion_by_agent_and_the_heat_map(account, search):
    report = selectors.call_kpis(account=account, start=START, end=END, group_by="day")
    assert [agent.shown() for agent in report.agents] == [
        {"agent": "ann", "calls": 2, "conversions": 1, "conversion_rate": D("0.5000")},
        {"agent": None, "calls": 2, "conversions": 0, "conversion_rate": D("0.0000")},
        {"agent": "bob", "calls": 1, "conversions": 0, "conversion_rate": D("0.0000")},
    ]
    busy = {(c.weekday, c.hour): (c.calls, c.conversions) for c in report.heat_map if c.calls}
    assert busy == {(0, 9): (1, 1), (0, 10): (1, 0), (1, 9): (3, 0)}  # Monday, Tuesday
    assert [(c.weekday, c.hour) for c in report.heat_map[:2]] == [(0, 0), (0, 1)]
    assert [row.group["period"] for row in report.rows] == [START, END]


def test_live_today_counts_so_far_today_in_the_accounts_time_zone(account, search):
    now = timezone.now()
    today_start = now.astimezone(NY).replace(hour=0, minute=0, second=0, microsecond=0)
    won = CallFactory(account=account, started_at=now, status="answered")
    CallFactory(account=account, started_at=today_start, status="missed")
    CallFactory(account=account, started_at=today_start - dt.timedelta(seconds=1))  # yesterday
    CallFactory(account=account, started_at=now, spam=True)
    OutcomeFactory(account=account, call=won, stage="won", value=D("120.50"))
    OutcomeFactory(account=account, call=won, stage="lost", value=D("99"))
    live = selectors.live_today(account=account)
    assert (live.day, live.calls, live.answered, live.conversions, live.revenue) == (
        now.astimezone(NY).date(),
        2,
        1,
        1,
        D("120.50"),
    )
    assert live.shown()["revenue"] == D("120.50")


def test_data_freshness_is_the_oldest_change_waiting_else_now(account, search):
    waiting = RollupDirtyDay.objects.filter(account_id=account.pk)
    oldest = min(waiting.values_list("logged_at", flat=True))
    assert selectors.data_freshness(account=account) == oldest
    # Days outside a range do not make it stale.
    RollupDirtyDay.objects.filter(account_id=account.pk).update(day=dt.date(2020, 1, 1))
    before = timezone.now()
    assert selectors.data_freshness(account=account, start=START, end=END) >= before
    rollups.refresh_account(account_id=account.pk)
    assert selectors.data_freshness(account=account) >= before
