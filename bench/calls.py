"""Bulk call ingestion throughput, the two ways calls come in by the thousand, measured in one
run on one database against the floor, raw COPY of the same file:

- `manage.py importcalls` on a generated CSV of BENCH_ROWS rows (default 100,000): reading
  the CSV, validating each row (calls.inputs.CallValidator, the API's rules), COPY into a
  staging table, the set-based upsert, attribution and spam statements, and the commit. Run
  twice: new calls, then the same file again (every row unchanged).
- raw COPY of the same file into a plain temp table of text columns: PostgreSQL parsing CSV,
  no validation, no indexes, no constraints. The floor, not a target to equal.
- the bulk REST API, `POST /api/v1/calls/` in batches of 1,000 (BENCH_API_ROWS calls, default
  all of them, as new calls of another provider) through Django's test client: no HTTP
  server and no network, and the bodies are JSON-encoded before the clock starts, so the
  figure is the application's own cost per call: JSON parsing, API key check, validation,
  the same set-based SQL as the import and its commit, reading the calls back and rendering
  the answer.

Stored calls queue their attribution credits for a Celery worker (`calls.services.
recompute_credits_after_commit`), as in production: the bench sends those tasks to a Redis
broker (BENCH_BROKER_URL, default a database of the local Redis that it empties after) and
runs no worker, so the figures are ingestion's own; bench/credits.py measures the credits.
Without a broker the tasks would run in-process after each commit, as in the demo.

The goals (GOAL_* below) are printed next to the figures. The calls go to one static and one
pool campaign whose numbers have a month of back-to-back leases, so the import attributes for
real. Run with `make bench`, or alone under scripts/with_postgres.py.
(The file shares its name with the `calls` app: the project root goes first on sys.path.)
"""

import csv
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
import warnings
from io import StringIO
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
os.environ["CELERY_BROKER_URL"] = BROKER  # before the settings read it: tasks are queued

import django  # noqa: E402

django.setup()

import phonenumbers  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from attribution.models import NumberAssignment, VisitorSession  # noqa: E402
from calls.models import Call  # noqa: E402
from campaigns import services  # noqa: E402
from campaigns.models import NumberPool, TrackingNumber  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
API_ROWS = min(int(os.environ.get("BENCH_API_ROWS", ROWS)), ROWS)
API_BATCH = 1000
GOAL_IMPORT_SHARE_OF_COPY = 0.25  # importcalls rows/s as a share of raw COPY's
GOAL_API_CALLS_PER_SECOND = 20_000
COLUMNS = ["provider", "external_id", "tracking_number", "caller_number", "started_at"]
COLUMNS += ["duration_seconds", "status", "talk_seconds", "recording_url", "agent", "transferred"]
STATUSES = ["answered"] * 6 + ["missed", "abandoned", "busy", "voicemail"]
END = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
DAYS = 30
LEASE, GAP = dt.timedelta(minutes=20), dt.timedelta(minutes=10)


def valid_numbers(rng: random.Random, count: int, taken: set[str] = frozenset()) -> list[str]:
    found: set[str] = set()
    while len(found) < count:
        area = rng.choice([202, 212, 305, 312, 415, 617, 646, 718])
        e164 = f"+1{area}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        if e164 not in taken and phonenumbers.is_valid_number(phonenumbers.parse(e164)):
            found.add(e164)
    return sorted(found)


def make_account(rng: random.Random):
    """An account with 5 static numbers and a pool of 20 with back-to-back leases."""
    account = services.create_account(name=f"bench calls {time.time_ns()}")
    offline = services.create_campaign(account=account, name="Print", channel="offline")
    search = services.create_campaign(account=account, name="Search", channel="paid_search")
    pool = NumberPool.objects.create(account=account, campaign=search)
    taken = set(TrackingNumber.objects.values_list("e164", flat=True))
    e164s = valid_numbers(rng, 25, taken)
    numbers = TrackingNumber.objects.bulk_create(
        [
            TrackingNumber(account=account, e164=e, kind="static", campaign=offline)
            for e in e164s[:5]
        ]
        + [
            TrackingNumber(account=account, e164=e, kind="pool", campaign=search, pool=pool)
            for e in e164s[5:]
        ]
    )
    sessions, leases = [], []
    for number in numbers[5:]:
        at = END - dt.timedelta(days=DAYS)
        while at < END:
            visit = VisitorSession(
                account=account,
                visitor_id=f"v{rng.randint(0, 50_000)}",
                campaign=search,
                channel="paid_search",
                landing_url="https://shop.example/?gclid=x",
                started_at=at,
                last_seen_at=at + LEASE / 2,
                expires_at=at + LEASE,
            )
            sessions.append(visit)
            leases.append(
                NumberAssignment(
                    account=account,
                    number=number,
                    pool=pool,
                    session=visit,
                    starts_at=at,
                    ends_at=at + LEASE,
                    released=True,
                )
            )
            at += LEASE + GAP
    VisitorSession.objects.bulk_create(sessions, batch_size=5000)
    NumberAssignment.objects.bulk_create(leases, batch_size=5000)
    return account, e164s


def make_rows(rng: random.Random, tracking: list[str], count: int) -> list[dict]:
    callers = valid_numbers(rng, max(count // 4, 10))
    span = DAYS * 24 * 3600
    rows = []
    for i in range(count):
        duration = rng.choice([rng.randint(0, 9), rng.randint(10, 900), rng.randint(30, 300)])
        status = rng.choice(STATUSES)
        rows.append(
            {
                "provider": "bench-csv",
                "external_id": f"CA{i:010d}",
                "tracking_number": rng.choice(tracking),
                "caller_number": "anonymous" if rng.random() < 0.03 else rng.choice(callers),
                "started_at": (END - dt.timedelta(seconds=rng.randint(0, span))).isoformat(),
                "duration_seconds": duration,
                "status": status,
                "talk_seconds": duration // 2 if status == "answered" else "",
                "recording_url": f"https://rec.example/{i}" if status == "voicemail" else "",
                "agent": rng.choice(["", "ann", "bo"]),
                "transferred": rng.random() < 0.05,
            }
        )
    return rows


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def import_file(account, path: Path) -> str:
    out = StringIO()
    call_command("importcalls", account.pk, str(path), stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def raw_copy(path: Path) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw_calls")
        cursor.execute(
            f"CREATE TEMP TABLE bench_raw_calls ({', '.join(f'{c} text' for c in COLUMNS)})"
        )
        with (
            cursor.connection.cursor() as raw,
            raw.copy("COPY bench_raw_calls FROM STDIN (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as handle,
        ):
            while block := handle.read(1 << 20):
                copy.write(block)


def api_batches(account, rows: list[dict]):
    """The batches as JSON bodies, and a function posting them: the client's own work (API key,
    encoding the bodies) is done before the clock starts."""
    _, raw_key = services.issue_api_key(account=account, role="integration")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    bodies = [
        json.dumps(
            [
                {k: v for k, v in {**row, "provider": "bench-api"}.items() if v != ""}
                for row in rows[start : start + API_BATCH]
            ]
        )
        for start in range(0, len(rows), API_BATCH)
    ]

    def post() -> None:
        for body in bodies:
            response = client.post("/api/v1/calls/", body, content_type="application/json")
            assert response.status_code == 201, response.content[:500]

    return post


def main() -> None:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # Django's test client
    warnings.filterwarnings("ignore", "No directory at")  # WhiteNoise: no collected static here
    rng = random.Random(20260301)
    account, tracking = make_account(rng)
    rows = make_rows(rng, tracking, ROWS)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "calls.csv"
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        summary: list[str] = []
        fresh = timed(lambda: summary.append(import_file(account, path)))
        again = timed(lambda: summary.append(import_file(account, path)))
        copy = timed(lambda: raw_copy(path))
    api = timed(api_batches(account, rows[:API_ROWS]))
    stored = Call.objects.filter(account=account).values("provider").distinct().count()
    assert stored == 2, "both paths stored their calls"
    print(f"\nbulk call ingestion, {ROWS} CSV rows, {API_ROWS} API calls")
    print(f"{'':36}{'rows':>8}{'seconds':>9}{'rows/s':>10}{'of COPY':>9}")
    copy_rate = ROWS / copy
    figures = [
        ("importcalls (new calls)", ROWS, fresh),
        ("importcalls again (all unchanged)", ROWS, again),
        ("raw COPY into a plain temp table", ROWS, copy),
        (f"REST API, batches of {API_BATCH}", API_ROWS, api),
    ]
    for label, count, seconds in figures:
        rate = count / seconds
        print(f"{label:36}{count:>8}{seconds:>9.2f}{rate:>10.0f}{rate / copy_rate:>9.1%}")
    share, api_rate = ROWS / fresh / copy_rate, API_ROWS / api
    print(
        f"  goal: importcalls at {GOAL_IMPORT_SHARE_OF_COPY:.0%} of raw COPY's rows/s: "
        f"{share:.1%} ({_verdict(share >= GOAL_IMPORT_SHARE_OF_COPY)})"
    )
    print(
        f"  goal: REST API at {GOAL_API_CALLS_PER_SECOND:,} calls/s: {api_rate:,.0f} "
        f"({_verdict(api_rate >= GOAL_API_CALLS_PER_SECOND)})"
    )
    print(f"  {summary[0]}\n  {summary[1]}")


def _verdict(met: bool) -> str:
    return "met" if met else "not met"


def drop_queued_tasks() -> None:
    """The credits tasks the run queued: nobody is meant to run them."""
    import redis

    redis.Redis.from_url(BROKER).flushdb()


if __name__ == "__main__":
    call_command("migrate", verbosity=0)
    try:
        main()
    finally:
        drop_queued_tasks()
