"""Delivery of the outbox: claims that never share a row, batches per platform limit, each
row's fate recorded from the platform's answer, backoff, dead letters, lapsed claims."""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from attribution.conversions import delivery, selectors
from attribution.conversions.platforms.base import Result
from attribution.models import Conversion
from tests.attribution.conversion_helpers import Receiver, make_destination
from tests.factories import OutcomeFactory


def pending_rows(account, destination, n):
    """n pending rows as the outbox writes them (through the real service)."""
    from attribution.conversions import services

    outcomes = [
        OutcomeFactory(account=account, stage="won", caller_e164=f"+1415555{i:04d}")
        for i in range(n)
    ]
    services.enqueue_for_outcomes(account=account, outcome_ids=[o.pk for o in outcomes])
    return list(Conversion.objects.filter(destination=destination).order_by("pk"))


def statuses(destination):
    return list(
        Conversion.objects.filter(destination=destination)
        .order_by("pk")
        .values_list("status", flat=True)
    )


def test_due_rows_go_out_in_one_batch_and_are_accepted_once(account):
    with Receiver() as server:
        meta = make_destination(account, "meta", base=server.base)
        rows = pending_rows(account, meta, 3)
        drained = delivery.drain(destination_id=meta.pk)
        assert (drained.claimed, drained.requests, drained.statuses) == (3, 1, {"accepted": 3})
        [(path, body, _)] = server.requests
        assert path == "/v26.0/1234567890/events"
        assert [event["event_id"] for event in body["data"]] == [r.dedup_key for r in rows]
        assert statuses(meta) == ["accepted"] * 3
        assert all(r.sent_at and r.attempts == 1 for r in Conversion.objects.all())
        assert delivery.drain(destination_id=meta.pk).claimed == 0
        assert len(server.requests) == 1


def test_a_server_error_is_retried_later_with_backoff_then_dead(account, settings):
    settings.CONVERSIONS_MAX_ATTEMPTS = 2
    with Receiver(answer=lambda path, body: (500, {"error": {"message": "boom"}}, {})) as server:
        meta = make_destination(account, "meta", base=server.base)
        pending_rows(account, meta, 2)
        before = timezone.now()
        delivery.drain(destination_id=meta.pk)
        rows = list(Conversion.objects.order_by("pk"))
        assert [r.status for r in rows] == ["retry", "retry"]
        # First backoff step: 30 s drawn from [15, 30].
        assert all(
            before + dt.timedelta(seconds=15)
            <= r.next_attempt_at
            <= timezone.now() + dt.timedelta(seconds=30)
            for r in rows
        )
        assert delivery.drain(destination_id=meta.pk).claimed == 0  # not due yet
        Conversion.objects.update(next_attempt_at=timezone.now())
        delivery.drain(destination_id=meta.pk)
        assert statuses(meta) == ["dead", "dead"]
        assert len(server.requests) == 2
        assert Conversion.objects.filter(attempts=2, next_attempt_at__isnull=True).count() == 2


def test_a_429_waits_as_long_as_the_platform_asks(account):
    def answer(path, body):
        return (
            429,
            {"error": {"message": "slow down", "code": 4}},
            {"Retry-After": "900"},
        )

    with Receiver(answer=answer) as server:
        meta = make_destination(account, "meta", base=server.base)
        pending_rows(account, meta, 1)
        before = timezone.now()
        delivery.drain(destination_id=meta.pk)
        row = Conversion.objects.get()
        assert row.status == "retry"
        assert row.next_attempt_at >= before + dt.timedelta(seconds=900)


def test_a_disabled_destination_is_not_drained(account):
    meta = make_destination(account, "meta")
    pending_rows(account, meta, 1)
    meta.enabled = False
    meta.save()
    assert delivery.drain(destination_id=meta.pk).claimed == 0
    assert statuses(meta) == ["pending"]
    assert selectors.due_destination_ids(now=timezone.now()) == []


def test_only_destinations_with_due_rows_are_swept(account):
    due = make_destination(account, "meta", name="due")
    idle = make_destination(account, "webhook", name="idle")
    pending_rows(account, due, 1)
    assert Conversion.objects.filter(destination=idle).count() == 1
    Conversion.objects.filter(destination=idle).update(status="accepted", next_attempt_at=None)
    assert selectors.due_destination_ids(now=timezone.now()) == [due.pk]


def test_a_lapsed_claim_is_taken_again_and_the_late_worker_cannot_overwrite(account, settings):
    meta = make_destination(account, "meta")
    [row] = pending_rows(account, meta, 1)
    now = timezone.now()
    [first] = delivery.claim(destination_id=meta.pk, limit=10, now=now)
    assert delivery.claim(destination_id=meta.pk, limit=10, now=now) == []  # still leased
    later = now + dt.timedelta(seconds=settings.CONVERSIONS_CLAIM_SECONDS + 1)
    [second] = delivery.claim(destination_id=meta.pk, limit=10, now=later)
    assert (first.id, first.attempts, second.attempts) == (row.pk, 1, 2)
    delivery.record(claimed=[first], results=[Result("rejected", "X", "late worker")])
    assert Conversion.objects.get().status == "sending"  # the late answer is dropped
    delivery.record(claimed=[second], results=[Result("accepted")])
    row = Conversion.objects.get()
    assert (row.status, row.attempts, row.last_error_code) == ("accepted", 2, "")


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_never_share_a_row(account):
    meta = make_destination(account, "meta")
    rows = pending_rows(account, meta, 6)
    # Committed at once here, so the in-process nudge already tried them: make them due again.
    Conversion.objects.update(status="pending", attempts=0, next_attempt_at=timezone.now())
    taken: dict[str, list[int]] = {}
    locked = threading.Event()
    release = threading.Event()

    def holder():
        # Another worker mid-claim: it holds two rows' locks and has not committed.
        with transaction.atomic():
            ids = [r.pk for r in rows[:2]]
            list(Conversion.objects.select_for_update().filter(pk__in=ids))
            taken["holder"] = ids
            locked.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    assert locked.wait(10)
    try:
        taken["claimer"] = [c.id for c in delivery.claim(destination_id=meta.pk, limit=10)]
    finally:
        release.set()
        thread.join()
    assert taken["claimer"] == [r.pk for r in rows[2:]]  # skipped, never waited for


def test_a_platform_that_is_down_is_not_pushed_the_whole_backlog(account, settings):
    settings.CONVERSIONS_MAX_ATTEMPTS = 5
    with Receiver(answer=lambda path, body: (503, {"error": {"message": "down"}}, {})) as server:
        hook = make_destination(account, "webhook", base=server.base)
        pending_rows(account, hook, 3)  # webhooks go one per request
        drained = delivery.drain(destination_id=hook.pk)
        assert (drained.claimed, drained.requests) == (1, 1)
        assert statuses(hook) == ["retry", "pending", "pending"]


def test_a_claim_reads_its_rows_off_the_due_index_without_sorting_the_backlog(account):
    meta = make_destination(account, "meta")
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a small table would be seq-scanned
        params = {"destination": meta.pk, "now": now, "lease_end": now, "limit": 1000}
        cursor.execute("EXPLAIN " + delivery.CLAIM, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "conversion_due_idx" in plan
    assert "Sort" not in plan


def test_an_event_past_metas_seven_days_is_skipped_with_the_reason_and_not_sent(account):
    with Receiver() as server:
        meta = make_destination(account, "meta", base=server.base)
        [old, fresh] = pending_rows(account, meta, 2)
        stale = dict(old.payload, event_time=int(timezone.now().timestamp()) - 8 * 86400)
        Conversion.objects.filter(pk=old.pk).update(payload=stale)
        delivery.drain(destination_id=meta.pk)
        old.refresh_from_db()
        assert (old.status, old.skip_reason, old.next_attempt_at) == (
            "skipped",
            "Meta takes events up to 7 days old",
            None,
        )
        [(_, body, _)] = server.requests
        assert [event["event_id"] for event in body["data"]] == [fresh.dedup_key]
        assert statuses(meta) == ["skipped", "accepted"]
