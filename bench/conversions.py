"""Offline-conversion delivery: BENCH_ROWS due outbox rows (default 100,000) of one Meta
destination drained by BENCH_WORKERS real Celery workers (default 2, solo pool, subprocesses on
Redis database 13 of CELERY_BROKER_URL's server, else 127.0.0.1:6379) to a local stub that
answers like the Conversions API (`{"events_received": n}`) at once.

Rows are generated set-based (INSERT … SELECT generate_series) with the payload the Meta
adapter builds, each with its own event_id. The drain starts when `send_conversions_task` is
queued (twice per worker) and ends when every row is `accepted`. Printed: rows/s, total time,
requests the stub answered, and each worker's RSS after 10% and after 100% of the rows and its
peak (VmHWM; a flat memory is 100% ≈ 10%). Baselines in the same run:

- the outbox's own SQL: the same rows claimed and recorded in-process (`delivery.claim` +
  `delivery.record` with every row accepted), no HTTP;
- the stub: the same 1,000-event request posted by one httpx client, back to back.

Goal: ≥ 2,000 rows/s with flat memory.

    SECRET_KEY=x .venv/bin/python scripts/with_postgres.py --dbname callpath_bench_conv -- \\
        .venv/bin/python bench/conversions.py
"""

import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from celery import Celery  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from attribution.conversions import delivery, destinations, selectors  # noqa: E402
from attribution.conversions.platforms import meta  # noqa: E402
from attribution.conversions.platforms.base import Facts, Result  # noqa: E402
from attribution.models import Conversion  # noqa: E402
from campaigns import services  # noqa: E402

logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
BROKER = (os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
BROKER += "/13"
QUEUE = "bench-conversions"
TASK = "attribution.conversions.tasks.send_conversions_task"
GOAL_RATE = 2000

ROWS_SQL = """
INSERT INTO attribution_conversion (account_id, destination_id, rule_id, outcome_id, call_id,
    trigger, action, restatement, dedup_key, status, value, currency, occurred_at, payload,
    attempts, next_attempt_at, last_error_code, last_error_message, skip_reason, sent_at,
    created_at, updated_at)
SELECT %(account)s, %(destination)s, %(rule)s, NULL, NULL, 'won', 'Purchase', false,
       'bench-' || i, 'pending', 150, 'USD', %(now)s,
       jsonb_set(%(payload)s::jsonb, '{event_id}', to_jsonb('bench-' || i)),
       0, %(now)s - (%(rows)s - i) * interval '1 millisecond', '', '', '', NULL, %(now)s, %(now)s
FROM generate_series(1, %(rows)s) i"""
# Due in the order they were written, a millisecond apart, as a backlog written over time is
# (identical times would make every claim sort the whole backlog: the due index has no id).
RESET_SQL = """
UPDATE attribution_conversion
   SET status = 'pending', attempts = 0, sent_at = NULL,
       next_attempt_at = %(now)s - (%(last)s - id) * interval '1 millisecond'
 WHERE destination_id = %(destination)s"""


class Stub:
    """Meta's Conversions API, instantly: 200 `{"events_received": n}` for every request."""

    def __init__(self) -> None:
        self.requests = self.events = 0
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the platforms do

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                n = body.count(b'"event_id"')
                with stub.lock:
                    stub.requests += 1
                    stub.events += n
                data = json.dumps({"events_received": n, "fbtrace_id": "bench"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def make_rows(stub: Stub) -> int:
    """One Meta destination at the stub and ROWS due rows; returns the destination's id."""
    account = services.create_account(name=f"bench conversions {time.time_ns()}")
    destination = destinations.create_destination(
        account=account,
        name="bench meta",
        kind="meta",
        base_url=stub.url,
        config={"pixel_id": "1234567890"},
        credentials={"access_token": "bench-token"},
        rules=[{"trigger": "won", "action": "Purchase"}],
    )
    now = timezone.now()
    facts = Facts(
        dedup_key="bench-0",
        action="Purchase",
        upload="click",
        occurred_at=now,
        value=Decimal("150.00"),
        currency="USD",
        time_zone="America/New_York",
        caller_e164="+14155550100",
        email="caller@example.com",
        trigger="won",
    )
    payload = meta.build(facts, selectors.target(destination))
    params = {
        "account": account.pk,
        "destination": destination.pk,
        "rule": destination.rules.get().pk,
        "now": now,
        "payload": json.dumps(payload),
        "rows": ROWS,
    }
    with connection.cursor() as cursor:
        cursor.execute(ROWS_SQL, params)
        cursor.execute("ANALYZE attribution_conversion")
    return destination.pk


def reset(destination_id: int) -> None:
    last = Conversion.objects.filter(destination_id=destination_id).order_by("-pk")[0].pk
    params = {"now": timezone.now(), "last": last, "destination": destination_id}
    with connection.cursor() as cursor:
        cursor.execute(RESET_SQL, params)
        cursor.execute("VACUUM ANALYZE attribution_conversion")


def accepted(destination_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM attribution_conversion"
            " WHERE destination_id = %s AND status = 'accepted'",
            [destination_id],
        )
        return cursor.fetchone()[0]


def tree(pid: int) -> list[int]:
    """A process and its descendants (a prefork worker's pool children)."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        for child in children:
            pids += tree(int(child))
    return pids


def memory(pid: int, field: str) -> float:
    """MB of VmRSS or VmHWM over a process tree."""
    total = 0
    for member in tree(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                total += int(line.split()[1])
    return total / 1024


def start_workers(logs: Path) -> list[subprocess.Popen]:
    env = {**os.environ, "CELERY_BROKER_URL": BROKER}
    workers = []
    for i in range(WORKERS):
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo"]
        command += ["-Q", QUEUE, "-n", f"bench-conv-{i}@%h", "--loglevel=INFO"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        log = (logs / f"worker-{i}.log").open("w")
        workers.append(
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        )
    deadline = time.monotonic() + 60
    for i, worker in enumerate(workers):
        while " ready." not in (logs / f"worker-{i}.log").read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"worker {i} did not start:\n{(logs / f'worker-{i}.log').read_text()}")
            time.sleep(0.1)
    return workers


def drain_with_workers(destination_id: int, stub: Stub) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workers = start_workers(Path(tmp))
        sender = Celery("bench-sender", broker=BROKER, set_as_current=False)
        rss_10 = rss_100 = None
        try:
            start = time.perf_counter()
            for _ in range(2 * WORKERS):  # a drain ends when nothing is due; spares for the tail
                sender.send_task(TASK, (destination_id,), queue=QUEUE)
            done, deadline = 0, time.monotonic() + 600
            while done < ROWS and time.monotonic() < deadline:
                time.sleep(0.05)
                done = accepted(destination_id)
                if rss_10 is None and done >= ROWS / 10:
                    rss_10 = [memory(w.pid, "VmRSS") for w in workers]
            elapsed = time.perf_counter() - start
            rss_100 = [memory(w.pid, "VmRSS") for w in workers]
            peaks = [memory(w.pid, "VmHWM") for w in workers]
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=30)
            sender.close()
    rate = done / elapsed
    print(
        f"drain, {WORKERS} workers      {done:,} of {ROWS:,} rows accepted in {elapsed:6.2f} s"
        f" = {rate:8,.0f} rows/s, {stub.requests} requests ({stub.events:,} events)"
    )
    for i, (ten, hundred, peak) in enumerate(zip(rss_10 or [], rss_100, peaks, strict=False)):
        print(
            f"  worker {i}: RSS {ten:6.1f} MB after 10%, {hundred:6.1f} MB after 100%,"
            f" peak {peak:6.1f} MB"
        )
    flat = rss_10 is not None and all(
        h <= t * 1.1 + 5 for t, h in zip(rss_10, rss_100, strict=True)
    )
    print(
        f"  goal ≥ {GOAL_RATE:,} rows/s: {'met' if rate >= GOAL_RATE else 'MISSED'};"
        f" memory {'flat' if flat else 'GROWS'} (100% within 10% + 5 MB of 10%)"
    )


def sql_baseline(destination_id: int) -> None:
    """The outbox's database work alone: claim a batch, record it accepted, until none is due."""
    reset(destination_id)
    start, done = time.perf_counter(), 0
    while claimed := delivery.claim(destination_id=destination_id, limit=meta.BATCH_LIMIT):
        delivery.record(claimed=claimed, results=[Result("accepted")] * len(claimed))
        done += len(claimed)
    elapsed = time.perf_counter() - start
    print(
        f"baseline, claim+record      {done:,} rows in {elapsed:6.2f} s"
        f" = {done / elapsed:8,.0f} rows/s (in-process, no HTTP)"
    )


def stub_baseline(stub: Stub, destination_id: int) -> None:
    """The stub's own rate: one client posting the same 1,000-event body back to back."""
    target = selectors.target(
        Conversion.objects.filter(destination_id=destination_id)[0].destination
    )
    items = list(
        Conversion.objects.filter(destination_id=destination_id)
        .order_by("pk")
        .values_list("payload", flat=True)[: meta.BATCH_LIMIT]
    )
    body = {"data": items, "access_token": "bench-token"}
    url = f"{target.base_url}/{meta.API_VERSION}/{target.config['pixel_id']}/events"
    n = max(20, ROWS // meta.BATCH_LIMIT)
    with httpx.Client(timeout=30) as client:
        client.post(url, json=body)
        start = time.perf_counter()
        for _ in range(n):
            client.post(url, json=body).raise_for_status()
        elapsed = time.perf_counter() - start
    print(
        f"baseline, stub, 1 client    {n} requests in {elapsed:6.2f} s = {n / elapsed:6.1f} req/s"
        f" = {n * len(items) / elapsed:8,.0f} events/s"
    )


def main() -> None:
    call_command("migrate", verbosity=0)
    stub = Stub()
    start = time.perf_counter()
    destination_id = make_rows(stub)
    print(f"conversions: {ROWS:,} due rows generated in {time.perf_counter() - start:.1f} s")
    reset(destination_id)
    drain_with_workers(destination_id, stub)
    sql_baseline(destination_id)
    stub_baseline(stub, destination_id)
    Conversion.objects.filter(destination_id=destination_id).delete()


if __name__ == "__main__":
    main()
