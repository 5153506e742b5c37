"""PostgreSQL restarted or stopped under load, on the real services: a private cluster (never the
machine's shared server), the web service as the Dockerfile runs it (gunicorn, 2 workers) and
several clients posting calls and won outcomes (each with an Idempotency-Key) the whole time.

What is asserted: while PostgreSQL is away every answer is prompt and clean (a 503 in the API's
error shape with Retry-After, never an HTML 500 or a hang) and /healthz says `down`; once it is
back, requests succeed again within seconds without restarting gunicorn; and nothing is
half-written: every 2xx is stored exactly once with all its fields and its outbox row, every
failure is absent or complete, and its retry converges to exactly one row."""

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from django.db import InterfaceError, OperationalError
from rest_framework.test import APIClient

from campaigns.api.auth import ApiKeyAuthentication
from tests.fault_helpers import (
    ROOT,
    PrivatePostgres,
    free_port,
    start_gunicorn,
    start_redis,
    stop,
    stop_redis,
)

CLIENTS = 4
CLIENT_TIMEOUT = 20.0  # a hang shows up as a client timeout, which fails the test
# While PostgreSQL is away each request holds its sync worker for the pool's 3 s timeout, so a
# client of 4 on 2 workers may wait behind one or two of them: bounded, never a hang.
PROMPT = 15.0
_databases = itertools.count(1)


@pytest.fixture(scope="module")
def cluster():
    """A private cluster with a migrated template database (migrate once, clone per test).
    Not in pytest's tmp_path: as root the server runs as another user, who cannot enter it."""
    pg = PrivatePostgres(Path(tempfile.mkdtemp(prefix="callpath-pg-")))
    pg.init()
    try:
        with psycopg.connect(pg.conninfo(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE callpath_template")
        environment = {**os.environ, "DATABASE_URL": pg.url("callpath_template")}
        command = [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"]
        done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        # The account and its key are cloned with the template: one key serves every test.
        command = [sys.executable, "manage.py", "createaccount", "Acme", "--currency", "USD",
                   "--time-zone", "America/New_York", "--region", "US", "--json"]  # fmt: skip
        created = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True,
                                 text=True, check=True)  # fmt: skip
        pg.api_key = json.loads(created.stdout)["api_key"]
        yield pg
    finally:
        if pg.running():
            pg.stop()
        shutil.rmtree(pg.root, ignore_errors=True)


@pytest.fixture
def service(cluster, tmp_path):
    """gunicorn on a fresh copy of the template, a private Redis as broker and cache, and an
    account whose won deals write a webhook outbox row."""
    if not cluster.running():  # a previous test failed while it was stopped
        cluster.start()
    name = f"callpath_{next(_databases)}"
    with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE callpath_template")
    redis_port = free_port()
    redis_server = start_redis(redis_port, tmp_path / "redis.log")
    env = {
        "DATABASE_URL": cluster.url(name),
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CACHE_URL": f"redis://127.0.0.1:{redis_port}/1",
        "SECRET_KEY": "faults-only-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DEBUG": "false",
    }
    api_key = cluster.api_key
    server, url = start_gunicorn(env=env, log=tmp_path / "gunicorn.log")
    try:
        with httpx.Client(base_url=url, headers=auth(api_key), timeout=CLIENT_TIMEOUT) as http:
            destination = {
                "name": "CRM webhook", "kind": "webhook",
                "config": {"url": "https://crm.example.com/hooks/callpath"},
                "credentials": {"secret": "whsec-faults"},
                "rules": [{"trigger": "won", "action": "closed-deal"}],
            }  # fmt: skip
            response = http.post("/api/v1/destinations/", json=destination)
            assert response.status_code == 201, response.text
        yield Service(url=url, api_key=api_key, conninfo=cluster.conninfo(name), log=tmp_path)
    finally:
        stop(server)
        stop_redis(redis_server)


@dataclass
class Service:
    url: str
    api_key: str
    conninfo: str
    log: object


@dataclass
class Answer:
    kind: str  # "call" | "outcome"
    external_id: str
    body: dict
    idempotency_key: str | None
    started: float
    ended: float
    status: int | None = None  # None: no answer (a client timeout or a refused connection)
    json: dict | None = None
    retry_after: str | None = None
    error: str = ""


def auth(api_key: str) -> dict:
    return {"Authorization": f"Bearer {api_key}"}


def call_body(external_id: str, n: int) -> dict:
    return {
        "provider": "acme-voip", "external_id": external_id, "tracking_number": "+12125550170",
        "caller_number": f"+1415555{n % 10_000:04d}", "started_at": "2026-11-02T15:04:05Z",
        "duration_seconds": 95, "status": "answered", "talk_seconds": 80,
    }  # fmt: skip


def outcome_body(external_id: str, n: int) -> dict:
    return {
        "crm": "hubspot", "external_id": external_id, "stage": "won", "value": "150.00",
        "caller_number": f"+1415555{n % 10_000:04d}", "occurred_at": "2026-11-02T16:00:00Z",
    }  # fmt: skip


def send(http: httpx.Client, kind: str, external_id: str, body: dict, key: str | None) -> Answer:
    path = "/api/v1/calls/" if kind == "call" else "/api/v1/outcomes/"
    headers = {"Idempotency-Key": key} if key else {}
    answer = Answer(kind, external_id, body, key, started=time.monotonic(), ended=0.0)
    try:
        response = http.post(path, json=body, headers=headers)
    except httpx.HTTPError as exc:
        answer.error = f"{type(exc).__name__}: {exc}"
    else:
        answer.status = response.status_code
        answer.retry_after = response.headers.get("Retry-After")
        if response.headers.get("Content-Type", "").startswith("application/json"):
            answer.json = response.json()
        else:
            answer.error = response.text[:200]
    answer.ended = time.monotonic()
    return answer


class Load:
    """CLIENTS threads posting a call, then a won outcome, each with new ids, until stopped."""

    def __init__(self, service: Service):
        self.service, self.answers, self.lock = service, [], threading.Lock()
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(CLIENTS)]

    def run(self, client: int) -> None:
        with httpx.Client(base_url=self.service.url, headers=auth(self.service.api_key),
                          timeout=CLIENT_TIMEOUT) as http:  # fmt: skip
            for n in itertools.count():
                if self.done.is_set():
                    return
                number = client * 1000 + n
                for kind, body in (("call", call_body), ("outcome", outcome_body)):
                    external_id = f"{kind}-{client}-{n}"
                    key = str(uuid.uuid4()) if kind == "outcome" else None
                    answer = send(http, kind, external_id, body(external_id, number), key)
                    with self.lock:
                        self.answers.append(answer)

    def __enter__(self) -> "Load":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        for thread in self.threads:
            thread.join(timeout=CLIENT_TIMEOUT + 5)

    def failures_after(self, moment: float) -> list[Answer]:
        with self.lock:
            return [a for a in self.answers if a.ended > moment and a.status not in (200, 201)]


def healthz(url: str) -> tuple[int, dict, float]:
    start = time.monotonic()
    response = httpx.get(f"{url}/healthz", timeout=CLIENT_TIMEOUT)
    return response.status_code, response.json(), time.monotonic() - start


def hold_until_stable(load: Load, up: float, *, stable: float = 2.0, limit: float = 25.0) -> float:
    """Keep the load on until `stable` seconds passed without a failure after PostgreSQL came
    back; return the recovery time: from `up` to the end of the last failed request."""
    while True:
        failures = load.failures_after(up)
        last = max((a.ended for a in failures), default=up)
        if time.monotonic() - last >= stable:
            return last - up
        assert time.monotonic() - up < limit, f"no recovery in {limit} s: {failures[-3:]}"
        time.sleep(0.1)


def assert_every_answer_clean_and_prompt(answers: list[Answer]) -> None:
    unclean = [a for a in answers if a.status not in (200, 201, 503) or a.error]
    assert unclean == [], unclean[:5]
    for answer in answers:
        assert answer.ended - answer.started < PROMPT, answer
        if answer.status == 503:
            assert answer.retry_after == "5", answer
            assert answer.json["code"] == "database_unavailable", answer
            assert set(answer.json) == {"code", "message", "errors"}
            assert answer.json["errors"] == {}


def stored(conninfo: str) -> tuple[dict, dict]:
    """What the database holds: calls and outcomes by external id (a list of rows each, to count
    duplicates), an outcome's row carrying its number of outbox rows."""
    with psycopg.connect(conninfo) as conn:
        calls = conn.execute(
            "SELECT external_id, caller_e164, tracking_e164, duration_seconds, talk_seconds, "
            "status, started_at FROM calls_call"
        ).fetchall()
        outcomes = conn.execute(
            "SELECT o.external_id, o.stage, o.value, o.caller_e164, count(c.id) "
            "FROM attribution_outcome o LEFT JOIN attribution_conversion c ON c.outcome_id = o.id "
            "GROUP BY o.id"
        ).fetchall()
    by_call, by_outcome = {}, {}
    for row in calls:
        by_call.setdefault(row[0], []).append(tuple(str(v) for v in row[1:]))
    for row in outcomes:
        by_outcome.setdefault(row[0], []).append(tuple(str(v) for v in row[1:]))
    return by_call, by_outcome


def expected_row(answer: Answer) -> tuple:
    body = answer.body
    if answer.kind == "call":
        return (body["caller_number"], "+12125550170", "95", "80", "answered",
                "2026-11-02 15:04:05+00:00")  # fmt: skip
    return ("won", "150.0000", body["caller_number"], "1")  # and its one outbox row


def assert_nothing_half_written(service: Service, answers: list[Answer]) -> int:
    """2xx → stored once, complete; failed → absent or complete; then every failed request is
    retried as an integrator would (same body and Idempotency-Key) and converges to one row.
    Returns how many were retried."""
    calls, outcomes = stored(service.conninfo)
    rows = {"call": calls, "outcome": outcomes}
    failed = []
    for answer in answers:
        found = rows[answer.kind].get(answer.external_id, [])
        if answer.status in (200, 201):
            assert found == [expected_row(answer)], answer
        else:
            assert found in ([], [expected_row(answer)]), answer
            failed.append(answer)
    with httpx.Client(base_url=service.url, headers=auth(service.api_key),
                      timeout=CLIENT_TIMEOUT) as http:  # fmt: skip
        for answer in failed:
            retry = send(http, answer.kind, answer.external_id, answer.body, answer.idempotency_key)
            assert retry.status in (200, 201), retry
    calls, outcomes = stored(service.conninfo)
    for kind, found in (("call", calls), ("outcome", outcomes)):
        sent = {a.external_id: a for a in answers if a.kind == kind}
        assert set(found) == set(sent)
        assert all(found[key] == [expected_row(sent[key])] for key in sent)
    return len(failed)


def test_a_fast_restart_under_load_answers_503s_then_recovers_with_nothing_half_written(
    cluster, service
):
    with Load(service) as load:
        time.sleep(1.5)  # traffic on warm pools
        down = time.monotonic()
        cluster.restart()
        up = time.monotonic()
        recovery = hold_until_stable(load, up)
    status, health, _ = healthz(service.url)

    answers = load.answers
    failed = [a for a in answers if a.status != 200 and a.status != 201]
    print(f"\nrestart: {len(answers)} requests, {len(failed)} answered 503, PostgreSQL down "
          f"{up - down:.2f} s, recovered {recovery:.2f} s after it was back")  # fmt: skip
    assert_every_answer_clean_and_prompt(answers)
    assert recovery < 8.0
    assert (status, health) == (200, {"status": "ok", "database": "ok", "broker": "ok"})
    assert sum(1 for a in answers if a.ended > up + recovery and a.status in (200, 201)) > 0
    assert assert_nothing_half_written(service, answers) == len(failed)


def test_postgres_stopped_for_seconds_answers_503s_and_healthz_down_then_recovers(cluster, service):
    with Load(service) as load:
        time.sleep(1.5)
        cluster.stop()
        down = time.monotonic()
        # Asked while PostgreSQL is away, and answered before it is back: the probe queues
        # behind requests waiting on the pool (sync workers), which can outlast the 3 s.
        during = healthz(service.url)
        time.sleep(max(0.0, 3.0 - (time.monotonic() - down)))
        cluster.start()
        up = time.monotonic()
        recovery = hold_until_stable(load, up)
    after = healthz(service.url)

    answers = load.answers
    outage = [a for a in answers if a.status == 503]
    print(f"\nstop/start: {len(answers)} requests, {len(outage)} answered 503 (slowest "
          f"{max(a.ended - a.started for a in outage):.2f} s), PostgreSQL down {up - down:.2f} s, "
          f"recovered {recovery:.2f} s after it was back; /healthz during the outage took "
          f"{during[2]:.2f} s")  # fmt: skip
    assert during[:2] == (503, {"status": "down", "database": "down", "broker": "ok"})
    assert during[2] < PROMPT
    assert outage, "the outage was not seen"
    assert_every_answer_clean_and_prompt(answers)
    assert recovery < 8.0
    assert after[:2] == (200, {"status": "ok", "database": "ok", "broker": "ok"})
    assert assert_nothing_half_written(service, answers) == len(outage)


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("couldn't get a connection after 3.00 sec"),
        InterfaceError("connection already closed"),
    ],
)
def test_a_database_error_in_any_view_is_a_503_in_the_error_shape_with_retry_after(
    monkeypatch, error
):
    def unreachable(self, request):
        raise error

    monkeypatch.setattr(ApiKeyAuthentication, "authenticate", unreachable)
    client = APIClient(raise_request_exception=False)
    response = client.get("/api/v1/calls/", HTTP_AUTHORIZATION="Bearer cp_any")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "database_unavailable"
    assert response.json()["errors"] == {}


def test_any_other_error_stays_a_500(monkeypatch):
    def broken(self, request):
        raise ValueError("a bug")

    monkeypatch.setattr(ApiKeyAuthentication, "authenticate", broken)
    client = APIClient(raise_request_exception=False)
    response = client.get("/api/v1/calls/", HTTP_AUTHORIZATION="Bearer cp_any")
    assert response.status_code == 500
