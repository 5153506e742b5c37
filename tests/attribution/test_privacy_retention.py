"""Account retention: a daily task anonymises calls (with their outcomes and outbox rows) and
sessions past the account's retention_days, audited, resumable, figures kept."""

import datetime as dt

import pytest
from django.utils import timezone

from attribution.models import Outcome, VisitorSession
from attribution.privacy import services, tasks
from calls.models import Call
from campaigns.audit.models import AuditEvent
from tests.attribution.privacy_helpers import found_anywhere
from tests.attribution.report_helpers import build_world
from tests.factories import CallFactory, OutcomeFactory, SessionFactory

NOW = timezone.now()


def ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@pytest.fixture
def kept(account):
    """retention_days 30 (lookback 30: sessions go after 60 days). Caller 0001 called 40 and
    5 days ago; 0003 only 45 days ago."""
    account.retention_days = 30
    account.save()
    old_session = SessionFactory(
        account=account, visitor_id="visitor-old-0001", ip="198.51.100.9", started_at=ago(70)
    )
    mid_session = SessionFactory(
        account=account, visitor_id="visitor-mid-0001", email="mid@example.com", started_at=ago(45)
    )
    new_session = SessionFactory(account=account, visitor_id="visitor-new-0001", started_at=ago(5))
    calls = {
        "old": CallFactory(
            account=account,
            external_id="old",
            caller_e164="+14155550001",
            caller_raw="415-555-0001",
            recording_url="https://api.twilio.com/x/Recordings/RE" + "c" * 32,
            started_at=ago(40),
            session=old_session,
        ),
        "older": CallFactory(
            account=account, external_id="older", caller_e164="+14155550003", started_at=ago(45)
        ),
        "new": CallFactory(
            account=account,
            external_id="new",
            caller_e164="+14155550001",
            started_at=ago(5),
            session=new_session,
        ),
    }
    OutcomeFactory(account=account, call=calls["old"], caller_e164="+14155550001", stage="won")
    OutcomeFactory(
        account=account,
        crm="crm",
        caller_e164="+14155550004",
        email="x@example.com",
        stage="lead",
        occurred_at=ago(50),
    )
    return {"calls": calls, "sessions": (old_session, mid_session, new_session)}


def caller(external_id: str) -> str:
    return Call.objects.get(external_id=external_id).caller_e164


def test_the_task_anonymises_exactly_the_rows_past_retention(account, kept):
    changed = tasks.anonymise_account_task(account.pk)
    assert changed == 2 + 1 + 2  # calls old and older, the old session, two outcomes
    assert caller("old").startswith("+999")
    assert caller("older").startswith("+999")
    assert caller("old") != caller("older")
    assert caller("new") == "+14155550001"
    old = Call.objects.get(external_id="old")
    assert (old.caller_raw, old.recording_url) == ("", "")
    old_session, mid_session, new_session = (
        VisitorSession.objects.get(pk=s.pk) for s in kept["sessions"]
    )
    assert old_session.visitor_id.startswith("erased-")
    assert old_session.ip is None
    assert mid_session.visitor_id == "visitor-mid-0001"  # within the lookback of retained calls
    assert mid_session.email == "mid@example.com"
    assert new_session.visitor_id == "visitor-new-0001"
    assert sorted(Outcome.objects.values_list("caller_e164", flat=True))[0].startswith("+999")
    assert found_anywhere(["415-555-0001", "14155550003", "14155550004", "x@example.com"]) == []


def test_each_batch_is_audited_as_the_system_with_counts(account, kept):
    tasks.anonymise_account_task(account.pk)
    events = list(AuditEvent.objects.filter(action="anonymise").order_by("id"))
    assert [(e.actor_kind, e.resource, e.detail["batch"]) for e in events] == [
        ("system", "retention", 1),
        ("system", "retention", 2),
        ("system", "retention", 3),
    ]
    assert [e.detail["touched"]["calls"] for e in events] == [2, 0, 0]
    assert [e.detail["touched"]["outcomes"] for e in events] == [1, 1, 0]
    assert [e.detail["touched"]["sessions"] for e in events] == [0, 0, 1]
    assert len({e.object_id for e in events}) == 1


def test_a_second_run_changes_nothing(account, kept):
    tasks.anonymise_account_task(account.pk)
    snapshot = list(Call.objects.order_by("pk").values_list("caller_e164", flat=True))
    assert tasks.anonymise_account_task(account.pk) == 0
    assert list(Call.objects.order_by("pk").values_list("caller_e164", flat=True)) == snapshot


def test_a_run_cut_short_is_finished_by_the_next(account, kept, monkeypatch):
    real = services._retention_batch
    done = []

    def crash_on_second(*args, **kwargs):
        if done:
            raise RuntimeError("worker lost")
        done.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_retention_batch", crash_on_second)
    cutoff = services.retention_cutoff(account=account)
    with pytest.raises(RuntimeError):
        services.anonymise_older_than(account=account, cutoff=cutoff, batch_size=1)
    assert Call.objects.filter(caller_e164__startswith="+999").count() == 1  # one whole batch
    monkeypatch.setattr(services, "_retention_batch", real)
    report = services.anonymise_older_than(account=account, cutoff=cutoff, batch_size=1)
    # The first batch took the older call (no outcome); "old" comes with its outcome.
    assert (report.calls, report.sessions, report.outcomes) == (1, 1, 2)
    assert Call.objects.filter(caller_e164__startswith="+999").count() == 2
    assert caller("new") == "+14155550001"


def test_an_account_without_retention_is_left_alone(account, kept):
    account.retention_days = None
    account.save()
    assert tasks.anonymise_account_task(account.pk) == 0
    assert caller("old") == "+14155550001"


def test_the_daily_sweep_queues_accounts_with_retention(account, other_account, kept):
    # Celery runs eagerly without a broker: the queued account task runs here.
    assert tasks.sweep_retention_task.delay().get() == 1
    assert caller("older").startswith("+999")


def test_the_cutoff_is_local_midnight_retention_days_ago(account):
    account.retention_days = 30
    account.time_zone = "America/New_York"
    now = dt.datetime(2026, 7, 31, 3, 0, tzinfo=dt.UTC)  # 30 July 23:00 in New York
    assert services.retention_cutoff(account=account, now=now) == dt.datetime(
        2026, 6, 30, 4, 0, tzinfo=dt.UTC
    )


def test_retention_keeps_the_report_figures(api, account):
    build_world(account)  # March 2026: all past a 30-day retention
    params = {"start": "2026-03-01", "end": "2026-03-05", "group_by": "campaign"}
    before = api.get("/api/v1/reports/roi/", params).json()
    account.retention_days = 30
    account.save()
    # Six calls with a number (D has none) and the five outcomes on them.
    assert tasks.anonymise_account_task(account.pk) == 6 + 5
    after = api.get("/api/v1/reports/roi/", params).json()
    assert (after["rows"], after["totals"]) == (before["rows"], before["totals"])
    assert before["totals"]["unique_callers"] == 2


@pytest.mark.parametrize(("days", "status"), [(29, 400), (3651, 400), (90, 200), (None, 200)])
def test_retention_days_through_the_account_api(api, account, days, status):
    response = api.patch("/api/v1/account/", {"retention_days": days})
    assert response.status_code == status
    account.refresh_from_db()
    assert account.retention_days == (days if status == 200 else None)
    if status == 400:
        assert response.json()["errors"]["retention_days"]
    else:
        assert api.get("/api/v1/account/").json()["retention_days"] == days
