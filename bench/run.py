"""Benchmarks, printed as a table. Run with `make bench` (it picks PostgreSQL like the tests).

Each figure is compared with a baseline measured in the same run on the same database, because
the machines are shared and noisy: absolute times mean little, ratios mean more.

- costs upsert: `campaigns.services.upsert_costs` for a batch of 1,000 rows (the API's maximum)
  against the same INSERT … ON CONFLICT sent by raw psycopg `executemany`.
- then bench/dni.py, bench/calls.py, bench/twilio.py, bench/api_reads.py, bench/credits.py
  (BENCH_CREDITS=0 skips it) and bench/reports.py (BENCH_REPORTS=0 skips it).
"""

import os
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from campaigns import services  # noqa: E402

REPEATS = 15
BATCH = 1000


def timed(fn, repeats: int = REPEATS) -> list[float]:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(samples: list[float]) -> str:
    p95 = statistics.quantiles(samples, n=20)[-1]
    return f"median {statistics.median(samples):7.2f} ms   p95 {p95:7.2f} ms"


def bench_costs() -> None:
    account = services.create_account(name=f"bench {time.time_ns()}")
    campaign = services.create_campaign(account=account, name="Bench", channel="paid_search")
    days = [date(2020, 1, 1) + timedelta(days=i) for i in range(BATCH)]
    rows = [
        services.CostRow(
            campaign=campaign,
            keyword=None,
            date=d,
            amount=Decimal("12.34"),
            currency="USD",
            clicks=10,
            impressions=100,
        )
        for d in days
    ]
    ours = timed(lambda: services.upsert_costs(account=account, rows=rows))

    sql = """INSERT INTO campaigns_dailycost (account_id, campaign_id, keyword_id, date, amount,
             currency, clicks, impressions, updated_at) VALUES (%s,%s,NULL,%s,%s,'USD',10,100,now())
             ON CONFLICT (campaign_id, keyword_id, date) DO UPDATE SET amount = EXCLUDED.amount"""
    params = [(account.pk, campaign.pk, d, Decimal("12.34")) for d in days]

    def raw():
        with connection.connection.cursor() as cursor:
            cursor.executemany(sql, params)

    baseline = timed(raw)
    print(f"costs upsert, {BATCH} rows, service      {summary(ours)}")
    print(f"costs upsert, {BATCH} rows, raw psycopg  {summary(baseline)}")
    ratio = statistics.median(ours) / statistics.median(baseline)
    print(f"  service / raw = {ratio:.2f}x (the service also reads back the rows the API returns)")


if __name__ == "__main__":
    call_command("migrate", verbosity=0)
    connection.ensure_connection()
    bench_costs()
    import dni  # after Django is set up

    dni.main()
    import runpy  # bench/calls.py by path: `calls` is the name of the Django app

    runpy.run_path(str(Path(__file__).with_name("calls.py")), run_name="bench_calls")["main"]()

    runpy.run_path(str(Path(__file__).with_name("twilio.py")), run_name="bench_twilio")["main"]()

    # One REST read and one write in-process: what auth, limits, audit and masking cost a request.
    runpy.run_path(str(Path(__file__).with_name("api_reads.py")), run_name="bench_api")["main"]()

    # Attribution credits: 200,000 calls here (~2 minutes with the data set's generation);
    # BENCH_CALLS=1000000 for the goal's size, BENCH_CREDITS=0 to skip it.
    if os.environ.get("BENCH_CREDITS", "1") != "0":
        os.environ.setdefault("BENCH_CALLS", "200000")
        runpy.run_path(str(Path(__file__).with_name("credits.py")), run_name="bench_credits")[
            "main"
        ]()

    # ROI reports from the rollups against the naive aggregate: the same BENCH_CALLS (~4 minutes
    # at 200,000, most of it the naive runs); BENCH_REPORTS=0 to skip it.
    if os.environ.get("BENCH_REPORTS", "1") != "0":
        os.environ.setdefault("BENCH_CALLS", "200000")
        runpy.run_path(str(Path(__file__).with_name("reports.py")), run_name="bench_reports")[
            "main"
        ]()
