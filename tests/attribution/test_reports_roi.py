"""ROI figures pinned by hand on the account of report_helpers (its docstring has the calls,
journeys, outcomes and spend): last touch, linear and position based, every grouping."""

from decimal import Decimal

import pytest

from attribution.reports import rollups, selectors
from tests.attribution.report_helpers import END, START, build_world

D = Decimal


@pytest.fixture
def world(account):
    return build_world(account)


def roi(account, group_by="campaign", model="last_touch"):
    assert rollups.catch_up(account=account, start=START, end=END)
    return selectors.roi(account=account, start=START, end=END, group_by=group_by, model=model)


def figures(calls, answered, callers, qualified, conversions, revenue, cost, *ratios):
    rate, per_call, per_answered, cpa, roi_, roas = ratios
    return {
        "calls": D(calls),
        "answered_calls": D(answered),
        "unique_callers": callers,
        "qualified_calls": D(qualified),
        "conversions": D(conversions),
        "revenue": D(revenue),
        "cost": D(cost),
        "conversion_rate": rate and D(rate),
        "cost_per_call": per_call and D(per_call),
        "cost_per_answered_call": per_answered and D(per_answered),
        "cpa": cpa and D(cpa),
        "roi": roi_ and D(roi_),
        "roas": roas and D(roas),
    }


def test_last_touch_by_campaign(account, world):
    report = roi(account).shown()
    assert report["currency"] == "USD"
    assert report["model"] == "last_touch"
    assert report["rows"] == [
        # Mail: spend and no calls still has a row; every per-call ratio is null.
        {"campaign": world.mail.pk, "campaign_name": "Mail",
         **figures("0", "0", 0, "0", "0", "0", "25", None, None, None, None, "-1", "0")},
        # Search: A and B (its last touch); keyword spend rolls up (100 + 40 + 60); the spam
        # call S and the calls of the days before and after (X, F) count nowhere.
        {"campaign": world.search.pk, "campaign_name": "Search",
         **figures("2", "2", 2, "2", "2", "500", "200", "1", "100", "100", "100", "1.5", "2.5")},
        # Social: C only (B's first touch gets 0 under last touch, so B's caller is not one).
        {"campaign": world.social.pk, "campaign_name": "Social",
         **figures("1", "0", 1, "0", "0", "0", "30", "0", "30", None, None, "-1", "0")},
        # Unattributed last: D, withheld caller (no number), no spend: cost ratios null.
        {"campaign": None, "campaign_name": "Unattributed",
         **figures("1", "1", 0, "1", "1", "50", "0", "1", "0", "0", "0", None, None)},
    ]  # fmt: skip
    # Totals add the rows; callers are distinct over the range (0001 called twice); the
    # ratios come from the totals: 3/4, 255/4, 255/3, 255/3, 295/255, 550/255.
    assert report["totals"] == figures(
        "4", "3", 2, "3", "3", "550", "255", "0.75", "63.75", "85", "85", "1.1569", "2.1569"
    )
    assert str(report["totals"]["cost_per_call"]) == "63.75"
    assert str(report["rows"][1]["revenue"]) == "500.00"


def test_linear_splits_a_call_in_thirds(account, world):
    rows = {row.group["campaign_name"]: row for row in roi(account, model="linear").rows}
    search = rows["Search"]
    # A whole, and B's two Search touches: 0.333333333333333 + 0.333333333333334.
    assert search.figures.calls == D("1.666666666666667")
    assert search.figures.revenue == D("433.3333333333334")  # 300 + 200 × 0.666666666666667
    assert search.shown() == {
        "campaign": world.search.pk,
        "campaign_name": "Search",
        **figures(
            "1.6667", "1.6667", 2, "1.6667", "1.6667", "433.33", "200",
            "1", "120", "120", "120", "1.1667", "2.1667",
        ),
    }  # fmt: skip
    # Social: B's first third and C; B's caller counts here too now (credit > 0).
    assert rows["Social"].shown() == {
        "campaign": world.social.pk,
        "campaign_name": "Social",
        **figures(
            "1.3333", "0.3333", 2, "0.3333", "0.3333", "66.67", "30",
            "0.25", "22.5", "90", "90", "1.2222", "2.2222",
        ),
    }  # fmt: skip
    report = roi(account, model="linear")
    assert report.totals.calls == D("4")  # every call's credits add up to 1
    assert report.totals.revenue == D("550")
    assert report.totals.unique_callers == 2


def test_position_based_by_keyword(account, world):
    report = roi(account, group_by="keyword", model="position_based").shown()
    assert [
        (row["campaign_name"], row["keyword_text"], row["calls"], row["unique_callers"],
         row["revenue"], row["cost"], row["cost_per_call"])
        for row in report["rows"]
    ] == [
        ("Mail", None, D("0.0000"), 0, D("0.00"), D("25.00"), None),
        # The campaign's own calls and spend without a keyword: Search's 100 of 03-02.
        ("Search", None, D("0.0000"), 0, D("0.00"), D("100.00"), None),
        # A whole and B's middle touch (0.2): 300 + 200 × 0.2.
        ("Search", "boiler repair", D("1.2000"), 2, D("340.00"), D("40.00"), D("33.33")),
        # B's last touch (0.4).
        ("Search", "plumber near me", D("0.4000"), 1, D("80.00"), D("60.00"), D("150.00")),
        ("Social", None, D("1.4000"), 2, D("80.00"), D("30.00"), D("21.43")),
        ("Unattributed", None, D("1.0000"), 0, D("50.00"), D("0.00"), D("0.00")),
    ]  # fmt: skip
    boiler = report["rows"][2]
    assert boiler["keyword"] == world.boiler.pk
    assert boiler["campaign"] == world.search.pk
    assert report["totals"]["calls"] == D("4.0000")
    assert report["totals"]["cost"] == D("255.00")


def test_by_channel_unattributed_has_no_channel(account, world):
    rows = roi(account, group_by="channel").shown()["rows"]
    assert [(r["channel"], r["channel_name"], r["calls"], r["cost"]) for r in rows] == [
        ("email", "Email", D("0.0000"), D("25.00")),
        ("paid_search", "Paid search", D("2.0000"), D("200.00")),
        ("paid_social", "Paid social", D("1.0000"), D("30.00")),
        (None, "Unattributed", D("1.0000"), D("0.00")),
    ]


@pytest.mark.parametrize(
    ("group_by", "periods"),
    [
        # Days in New York: A's 00:30 is 03-02, D's 23:59 is 03-04. Callers per day: 0001;
        # 0002; 0001 again (C) — D has no number.
        (
            "day",
            [("2026-03-02", "1", 1, "100"), ("2026-03-03", "1", 1, "70"),
             ("2026-03-04", "2", 1, "85")],
        ),
        # One ISO week (03-02 is a Monday), one month: 0001 counts once.
        ("week", [("2026-03-02", "4", 2, "255")]),
        ("month", [("2026-03-01", "4", 2, "255")]),
    ],
)  # fmt: skip
def test_periods_in_the_accounts_time_zone(account, world, group_by, periods):
    rows = roi(account, group_by=group_by).shown()["rows"]
    assert [
        (row["period"].isoformat(), row["calls"], row["unique_callers"], row["cost"])
        for row in rows
    ] == [(p, D(calls).quantize(D("0.0001")), n, D(cost).quantize(D("0.01")))
          for p, calls, n, cost in periods]  # fmt: skip


def test_another_accounts_rows_never_show(account, other_account, world):
    build_world(other_account)
    report = roi(account)
    assert {row.group["campaign"] for row in report.rows} == {
        world.search.pk, world.social.pk, world.mail.pk, None,
    }  # fmt: skip
    assert report.totals.cost == D("255")
