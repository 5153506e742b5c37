"""The periodic DNI tasks: the release sweep, and both beat targets run by a real Celery worker."""

import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from attribution.dni import housekeeping
from attribution.models import NumberAssignment
from campaigns.models import NumberPool
from tests.factories import AssignmentFactory, PoolFactory, PoolNumberFactory

NOW = datetime(2026, 3, 10, 15, 20, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def leases(pool, ends: list[datetime]) -> list[NumberAssignment]:
    """One 30-minute lease per end time, each on its own number of `pool`."""
    return [
        AssignmentFactory(
            number=PoolNumberFactory(pool=pool), starts_at=end - timedelta(minutes=30), ends_at=end
        )
        for end in ends
    ]


def released_ids() -> set[int]:
    return set(NumberAssignment.objects.filter(released=True).values_list("pk", flat=True))


def test_release_marks_exactly_the_leases_that_have_ended(db):
    pool = PoolFactory()
    ended = leases(pool, [NOW - timedelta(hours=2), NOW - timedelta(seconds=1), NOW])
    live = leases(pool, [NOW + timedelta(seconds=1), NOW + timedelta(minutes=20)])

    assert housekeeping.release_expired_assignments(now=NOW) == 3

    assert released_ids() == {a.pk for a in ended}
    assert not NumberAssignment.objects.filter(pk__in=[a.pk for a in live], released=True).exists()


def test_release_is_idempotent(db):
    pool = PoolFactory()
    ended = leases(pool, [NOW - timedelta(minutes=m) for m in range(1, 4)])
    housekeeping.release_expired_assignments(now=NOW)

    assert housekeeping.release_expired_assignments(now=NOW) == 0
    assert released_ids() == {a.pk for a in ended}


def test_release_works_through_more_leases_than_one_batch(db):
    pool = PoolFactory()
    ended = leases(pool, [NOW - timedelta(minutes=m) for m in range(1, 6)])

    assert housekeeping.release_expired_assignments(now=NOW, batch_size=2) == 5

    assert released_ids() == {a.pk for a in ended}


def test_release_finds_its_rows_through_the_partial_index(db):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # an empty table would be seq-scanned
        cursor.execute("EXPLAIN " + housekeeping.RELEASE_SQL, {"now": NOW, "batch": 5000})
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "assignment_unreleased_idx" in plan


def database_url_of_the_test_database() -> str:
    """DATABASE_URL for a subprocess to use the database this test runs against (test_…)."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host = quote(db["HOST"] or "", safe="")  # a socket directory travels percent-encoded
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{quote(db['NAME'], safe='')}"


def start_worker(*, queue: str, broker_url: str, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "CELERY_BROKER_URL": broker_url,
        "DATABASE_URL": database_url_of_the_test_database(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "test-only-secret"),
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo"]
    command += ["--concurrency=1", "-Q", queue, "-n", f"{queue}@%h", "--loglevel=INFO"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


def stop(worker: subprocess.Popen) -> None:
    worker.terminate()  # SIGTERM: a warm shutdown
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=5)


@pytest.mark.redis
def test_a_real_worker_runs_every_beat_task_by_the_name_beat_sends(
    transactional_db, redis_url, tmp_path
):
    pool = PoolFactory()
    now = datetime.now(UTC)
    ended = leases(pool, [now - timedelta(minutes=5), now - timedelta(minutes=1)])
    live = leases(pool, [now + timedelta(minutes=20)])
    queue = f"test-dni-tasks-{uuid.uuid4().hex[:12]}"
    log = tmp_path / "worker.log"
    # The test process runs tasks eagerly (no broker in its settings): a separate app publishes
    # to the real broker, by the names in the beat schedule, as beat itself does.
    sender = Celery("test-sender", broker=redis_url, set_as_current=False)
    worker = start_worker(queue=queue, broker_url=redis_url, log=log)
    try:
        for entry in settings.CELERY_BEAT_SCHEDULE.values():
            sender.send_task(entry["task"], queue=queue)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and worker.poll() is None:
            pool.refresh_from_db()
            if released_ids() == {a.pk for a in ended} and pool.sized_at is not None:
                break
            time.sleep(0.2)
    finally:
        stop(worker)
        sender.close()

    output = log.read_text()
    assert released_ids() == {a.pk for a in ended}, output
    assert not NumberAssignment.objects.filter(pk=live[0].pk, released=True).exists()
    sized = NumberPool.objects.get(pk=pool.pk)
    assert sized.sized_at is not None, output
    assert sized.exhaustion_rate == 0.0  # measured from the 3 leases (None without traffic)
