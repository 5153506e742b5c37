"""DNI throughput: new-session allocations/s and renewals/s through the real service.

gunicorn serves the app on PostgreSQL; wrk (Debian's package, installed when missing) drives it
with 32 connections. In the same run, 32 psycopg threads execute the same allocation and renewal
SQL directly, as the baseline: the ratio says how much of the database's rate the HTTP service
keeps. Run with `make bench` (all benchmarks) or `python bench/dni.py` under with_postgres.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from attribution.dni import config, leases  # noqa: E402
from attribution.dni.classify import Classification  # noqa: E402
from attribution.models import VisitorSession  # noqa: E402
from campaigns import services  # noqa: E402
from campaigns.models import NumberPool, TrackingNumber  # noqa: E402

CONNECTIONS = 32
WRK_THREADS = 2
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
POOL_SIZE = 150_000
WORKERS = os.environ.get("BENCH_WORKERS", "3")
# Measured on 2 cores shared with PostgreSQL and wrk: 3 sync workers gave the best p99; gthread
# (keep-alive) the same rate with a worse tail. Override to compare.
WORKER_CLASS = os.environ.get("BENCH_WORKER_CLASS", "sync")
THREADS = os.environ.get("BENCH_THREADS", "1")
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


def ensure_wrk() -> str:
    if not shutil.which("wrk"):
        print("installing wrk (Debian package) for the load generator", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk")


def make_account():
    account = services.create_account(name=f"bench dni {time.time_ns()}")
    campaign = services.create_campaign(account=account, name="Direct", channel="direct")
    pool = NumberPool.objects.create(
        account=account, campaign=campaign, is_default=True, idle_timeout_seconds=600
    )
    prefix = f"+19{account.pk % 1000:03d}"  # tracking numbers are unique: one block per run
    TrackingNumber.objects.bulk_create(
        [
            TrackingNumber(
                account=account, campaign=campaign, pool=pool, kind="pool", e164=f"{prefix}{i:06d}"
            )
            for i in range(POOL_SIZE)
        ],
        batch_size=10_000,
    )
    return account, pool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench"),
        "DNI_RATE_PER_IP": "100000000",
        "DNI_RATE_PER_KEY": "100000000",
        "LOG_LEVEL": "WARNING",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [
            str(gunicorn),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            WORKERS,
            "--worker-class",
            WORKER_CLASS,
            "--threads",
            THREADS,
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("gunicorn did not start")


LUA_NEW = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
wrk.headers["User-Agent"] = "{ua}"
wrk.body = '{body}'
"""

LUA_RENEW = """
local ids = {{{ids}}}
local i = 0
request = function()
  i = i + 1
  local id = ids[(i % #ids) + 1]
  local body = '{{"key":"{key}","url":"https://shop.example.com/","session_id":"' .. id .. '"}}'
  local headers = {{["Content-Type"]="text/plain;charset=UTF-8", ["User-Agent"]="{ua}"}}
  return wrk.format("POST", nil, headers, body)
end
"""


def cpu_seconds(process: subprocess.Popen) -> float:
    """User + system CPU seconds of a process and its children so far (Linux /proc), e.g. a
    gunicorn master and its workers: a figure other load on a shared machine hardly moves."""
    tick = os.sysconf("SC_CLK_TCK")
    pids = [process.pid]
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    if children.exists():
        pids += [int(pid) for pid in children.read_text().split()]
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def run_wrk(wrk: str, url: str, script: str, seconds: int = SECONDS) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    result = subprocess.run(
        [
            wrk,
            f"-t{WRK_THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            handle.name,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rate": rate,
        "p50": latency.get("50"),
        "p99": latency.get("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def raw_sql(conninfo: str, work, seconds: int) -> dict:
    """`work(conn)` run by 32 threads, each on its own connection, for `seconds`."""
    stop = time.monotonic() + seconds
    samples: list[float] = []
    lock = threading.Lock()

    def loop():
        local: list[float] = []
        with psycopg.connect(conninfo, autocommit=True) as conn:
            while time.monotonic() < stop:
                began = time.perf_counter()
                work(conn)
                local.append(time.perf_counter() - began)
        with lock:
            samples.extend(local)

    threads = [threading.Thread(target=loop) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    samples.sort()
    return {
        "rate": len(samples) / seconds,
        "p50": f"{samples[len(samples) // 2] * 1000:.2f}ms",
        "p99": f"{samples[int(len(samples) * 0.99)] * 1000:.2f}ms",
    }


def raw_allocate(account, pool):
    """The service's own statement (a session and its lease), sent straight through psycopg."""
    visit = leases.VisitFacts("https://shop.example.com/", "", UA, None, False)
    snapshot = config.config_for_key(account.public_key)
    ref = snapshot.default_pool
    direct = Classification(None, None, "direct", {})

    def work(conn):
        now = timezone.now()
        visitor = uuid.uuid4().hex  # as the service gives a consenting new visitor
        row = leases._session_row(snapshot, direct, visit, visitor, pool.campaign_id, 600, now)
        params = {**row, **leases._lease_params(snapshot, ref, row["id"], now)}
        conn.execute(leases.START_SQL, params).fetchone()

    return work


def raw_renew(account, ids):
    counter = iter(range(10**12))

    def work(conn):
        session = ids[next(counter) % len(ids)]
        params = {"now": timezone.now(), "session": session, "account": account.pk}
        # A consenting renewal brings a visitor id; the session keeps its own (COALESCE).
        conn.execute(leases.RENEW_SQL, {**params, "visitor": uuid.uuid4().hex}).fetchone()

    return work


def main() -> None:
    wrk = ensure_wrk()
    account, pool = make_account()
    settings = connection.settings_dict
    conninfo = psycopg.conninfo.make_conninfo(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
    )
    port = free_port()
    server = start_gunicorn(port)
    url = f"http://127.0.0.1:{port}/dni/v1/sessions"
    body = json.dumps({"key": account.public_key, "url": "https://shop.example.com/"})
    try:
        # Warm up: every worker opens its connections and loads the account snapshot.
        run_wrk(wrk, url, LUA_NEW.format(ua=UA, body=body), seconds=2)
        new = run_wrk(wrk, url, LUA_NEW.format(ua=UA, body=body))
        ids = [
            str(i)
            for i in VisitorSession.objects.filter(account=account)
            .order_by("-started_at")
            .values_list("id", flat=True)[:5000]
        ]
        renew_script = LUA_RENEW.format(
            ids=",".join(f'"{i}"' for i in ids), key=account.public_key, ua=UA
        )
        renew = run_wrk(wrk, url, renew_script)
    finally:
        server.terminate()
        server.wait()
    raw_new = raw_sql(conninfo, raw_allocate(account, pool), SECONDS)
    raw_ren = raw_sql(conninfo, raw_renew(account, [uuid.UUID(i) for i in ids]), SECONDS)
    print(f"\nDNI, {CONNECTIONS} concurrent clients, {SECONDS} s each, pool of {POOL_SIZE} numbers")
    print(f"{'':28}{'ops/s':>10}{'p50':>10}{'p99':>10}   ratio to raw SQL")
    for label, ours, raw in (("new sessions", new, raw_new), ("renewals", renew, raw_ren)):
        print(
            f"{label + f' (gunicorn {WORKERS}x{THREADS})':28}{ours['rate']:>10.0f}{ours['p50']:>10}"
            f"{ours['p99']:>10}   {ours['rate'] / raw['rate']:.0%}  non-2xx: {ours['non_2xx']}"
        )
        print(f"{label + ' (raw psycopg)':28}{raw['rate']:>10.0f}{raw['p50']:>10}{raw['p99']:>10}")
    overflow = pool.assignments.filter(overflow=True).count()
    print(f"overflow leases during the run: {overflow}")


if __name__ == "__main__":
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    main()
