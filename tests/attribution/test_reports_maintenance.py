"""Incremental maintenance: each kind of write reaches the next report, through the database's
triggers and the sweeper; a report catches a few small days up itself; the rebuild command."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from attribution.models import RollupDirtyDay, Touchpoint
from attribution.reports import rollups, selectors, tasks
from calls.models import Call
from campaigns.models import DailyCost
from tests.attribution.report_helpers import build_world, touch, utc
from tests.factories import CallFactory, CostFactory, OutcomeFactory

D = Decimal


START, END = dt.date(2026, 3, 2), dt.date(2026, 3, 4)


def report(account, model="last_touch"):
    """The report as the sweeper leaves it: its task runs (eagerly here), no catch-up."""
    tasks.sweep_rollups_task.delay()
    return {
        row.group["campaign_name"]: row.figures
        for row in selectors.roi(account=account, start=START, end=END, model=model).rows
    }


@pytest.fixture
def world(account):
    return build_world(account)


def test_a_new_call_shows_up_in_the_next_report(account, world):
    assert report(account)["Social"].calls == 1
    call = CallFactory(
        account=account, campaign=world.social, started_at=utc(3, 20), caller_e164="+14155550077"
    )
    touch(call, 0, world.social)
    social = report(account)["Social"]
    assert (social.calls, social.unique_callers) == (2, 2)


def test_a_call_without_credits_yet_counts_on_its_own_campaign(account, world):
    CallFactory(account=account, campaign=world.mail, started_at=utc(3, 20))
    assert report(account)["Mail"].calls == 1


def test_an_outcome_shows_up_in_the_next_report(account, world):
    assert report(account)["Social"].conversions == 0
    OutcomeFactory(account=account, call=world.calls["C"], stage="won", value=D("75.25"))
    social = report(account)["Social"]
    assert (social.conversions, social.revenue, social.qualified_calls) == (1, D("75.25"), 1)


def test_a_cost_change_shows_up_in_the_next_report(account, world):
    assert report(account)["Mail"].cost == D("25")
    DailyCost.objects.filter(campaign=world.mail).update(amount=D("30.50"))
    CostFactory(campaign=world.mail, keyword=None, date=dt.date(2026, 3, 2), amount=D("1"))
    assert report(account)["Mail"].cost == D("31.50")


def test_a_credit_change_shows_up_in_the_next_report(account, world):
    assert report(account, "linear")["Social"].calls == D("1.333333333333333")
    # The credits engineer's recompute replaces a call's touchpoints whole.
    Touchpoint.objects.filter(call=world.calls["B"]).update(linear=D("0.5"))
    Touchpoint.objects.filter(call=world.calls["B"], position=1).update(linear=D("0"))
    assert report(account, "linear")["Social"].calls == D("1.5")


def test_a_spam_mark_and_a_bulk_sql_write_show_up(account, world):
    Call.objects.filter(pk=world.calls["C"].pk).update(spam=True)
    assert "Social" in report(account)  # its spend still gives it a row
    assert report(account)["Social"].calls == 0
    with connection.cursor() as cursor:  # no ORM at all
        cursor.execute("UPDATE calls_call SET spam = false WHERE id = %s", [world.calls["C"].pk])
    assert report(account)["Social"].calls == 1


def test_a_new_time_zone_rolls_the_whole_account_up_again(account, world):
    report(account)
    account.time_zone = "UTC"
    account.save(update_fields=["time_zone"])
    assert list(RollupDirtyDay.objects.filter(account_id=account.pk).values_list("day")) == [
        (None,)
    ]
    # In UTC, X (03-02 04:30) is in the range and D (03-05 04:59) is not.
    figures = report(account)
    assert figures["Search"].calls == 3
    assert "Unattributed" not in figures


def test_a_report_catches_up_a_few_days_but_not_many(account, world, monkeypatch):
    assert rollups.catch_up(account=account, start=START, end=END)
    assert not RollupDirtyDay.objects.filter(account_id=account.pk, day__range=(START, END))
    assert RollupDirtyDay.objects.filter(account_id=account.pk, day=dt.date(2026, 3, 5))
    monkeypatch.setattr(rollups, "SYNC_DAYS", 1)
    # Only the calls whose report columns change are logged: A, B and D, one on each day.
    Call.objects.filter(account=account).update(status="missed")
    assert not rollups.catch_up(account=account, start=START, end=END)  # 3 days: the sweeper's
    assert rollups.catch_up(account=account, start=START, end=START)
    monkeypatch.setattr(rollups, "SYNC_CALLS", 0)
    Call.objects.filter(pk=world.calls["C"].pk).update(status="answered")
    assert not rollups.catch_up(account=account, start=END, end=END)  # too many calls


def test_the_sweeper_queues_one_task_per_account_and_skips_deleted_ones(account, world):
    assert tasks.sweep_rollups_task.delay().get() == 1
    assert tasks.sweep_rollups_task.delay().get() == 0
    RollupDirtyDay.objects.create(account_id=10**9, day=dt.date(2026, 1, 1))
    assert tasks.refresh_rollups_task(10**9) == 0
    assert not RollupDirtyDay.objects.filter(account_id=10**9).exists()


def test_the_command_rebuilds_one_account_or_all(account, world, capsys):
    call_command("rebuildrollups", str(account.pk), verbosity=0)
    out = capsys.readouterr().out
    assert out.startswith(f"Account {account.pk} ({account.name}): 5 days in ")
    assert not RollupDirtyDay.objects.filter(account_id=account.pk).exists()
    assert report(account)["Search"].calls == 2
    call_command("rebuildrollups", "--all", verbosity=0)
    assert "5 days" in capsys.readouterr().out
    with pytest.raises(CommandError, match="ACCOUNT_ID or --all"):
        call_command("rebuildrollups")


def test_a_refresh_skips_an_account_whose_refresh_is_running(account, world):
    """Another process holds the account's lock (a long rebuild): the sweeper's refresh and a
    report's catch-up return at once, and the logged days wait for the next sweep."""
    import psycopg

    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"] or None,
        autocommit=True,
    )
    try:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [rollups._LOCK_KEY, account.pk])
        assert rollups.refresh_account(account_id=account.pk) == 0
        assert not rollups.catch_up(account=account, start=START, end=END)
        assert RollupDirtyDay.objects.filter(account_id=account.pk).exists()
    finally:
        other.close()
    assert rollups.refresh_account(account_id=account.pk) == 5
    assert not RollupDirtyDay.objects.filter(account_id=account.pk).exists()
