"""The outbox under faults, on the real services: real Celery workers (subprocesses on Redis,
against the test database), a real platform over HTTP that deduplicates as Google Ads does,
and the failures production sees — 5xx, 429, answers lost to a dropped connection, partial
failures, a worker killed mid-batch, Redis down while outcomes arrive.

What every test checks is the outbox's promise: each conversion ends `accepted`, and the
platform took each deduplication key exactly once, always with the same body (a retry is the
same conversion, never a second one)."""

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import struct
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import cycle
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.db import transaction
from django.utils import timezone

from attribution.conversions import services
from attribution.models import Conversion, Destination
from tests.attribution.conversion_helpers import make_destination
from tests.factories import OutcomeFactory
from tests.fault_helpers import (
    free_port,
    publishing_to,
    redis_server_binary,
    require,
    start_redis,
    start_worker,
    stop,
    stop_redis,
)

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

SWEEP = "attribution.conversions.tasks.sweep_conversions_task"


class DedupPlatform:
    """Google Ads `uploadClickConversions` as far as the outbox can tell: it keeps every
    (customer, orderId) it accepted and answers one it already has with a partial failure
    CLICK_CONVERSION_ALREADY_EXISTS, counting it once. `faults` are played in turn, one per
    request: "ok", "500", "429" (Retry-After: 1), "lost" (accepted, then the connection is
    dropped without an answer) and "partial" (one new row refused TOO_RECENT_EVENT, the rest
    accepted). `hold` keeps each request open that long after accepting it."""

    def __init__(self, *, faults=("ok",), hold: float = 0.0):
        self.faults, self.hold = cycle(faults), hold
        self.lock = threading.Lock()
        self.accepted: Counter = Counter()  # (customer, orderId) → times taken as new
        self.received: Counter = Counter()  # (customer, orderId) → times it arrived
        self.bodies: dict = {}  # (customer, orderId) → the first body it came with
        self.changed: list = []  # keys that came back with another body
        self.played: Counter = Counter()  # fault → requests
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                customer = self.path.split("/customers/")[1].split(":")[0]
                status, answer, headers = platform.answer(customer, body["conversions"])
                time.sleep(platform.hold)
                if status is None:  # the answer is lost: reset the connection
                    linger = struct.pack("ii", 1, 0)
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                    self.close_connection = True
                    return
                data = json.dumps(answer).encode()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(status)
                    for name, value in {**headers, "Content-Type": "application/json"}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads, self.httpd.block_on_close = True, False
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> "DedupPlatform":
        kwargs = {"poll_interval": 0.05}
        threading.Thread(target=self.httpd.serve_forever, kwargs=kwargs, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, customer: str, conversions: list[dict]) -> tuple[int | None, dict, dict]:
        with self.lock:
            fault = next(self.faults)
            self.played[fault] += 1
            if fault == "500":
                return 500, {"error": {"code": 500, "status": "INTERNAL"}}, {}
            if fault == "429":
                return (
                    429,
                    {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}},
                    {"Retry-After": "1"},
                )
            errors, refused = [], fault != "partial"
            for index, conversion in enumerate(conversions):
                key = (customer, conversion["orderId"])
                self.received[key] += 1
                if self.bodies.setdefault(key, conversion) != conversion:
                    self.changed.append(key)
                if key in self.accepted:
                    errors.append((index, "CLICK_CONVERSION_ALREADY_EXISTS"))
                elif not refused:
                    errors.append((index, "TOO_RECENT_EVENT"))
                    refused = True
                else:
                    self.accepted[key] += 1
            if fault == "lost":
                return None, {}, {}
            return 200, partial_failure(errors), {}


def partial_failure(errors: list[tuple[int, str]]) -> dict:
    if not errors:
        return {"results": []}
    failures = [
        {
            "errorCode": {"conversionUploadError": code},
            "message": code,
            "location": {"fieldPathElements": [{"fieldName": "conversions", "index": index}]},
        }
        for index, code in errors
    ]
    failure_type = "type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure"
    return {
        "partialFailureError": {
            "code": 3,
            "message": "Multiple errors in 'details'.",
            "details": [{"@type": failure_type, "errors": failures}],
        }
    }


def google_ads(account, platform: DedupPlatform, customer_id: str) -> Destination:
    """A Google Ads destination at `platform` with an access token good for an hour (no OAuth
    round trip in these tests)."""
    destination = make_destination(
        account, "google_ads", base=platform.url, name=customer_id,
        config={"customer_id": customer_id}, rules=[{"trigger": "won", "action": "555"}],
    )  # fmt: skip
    expires = timezone.now() + dt.timedelta(hours=1)
    Destination.objects.filter(pk=destination.pk).update(
        token_cache={"access_token": "ya29.test", "expires_at": expires.isoformat()}
    )
    return destination


def won_outcomes(account, numbers: range) -> None:
    """Deals won, their outbox rows written in the same transaction (the commit nudges)."""
    with transaction.atomic():
        outcomes = [
            OutcomeFactory(account=account, stage="won", caller_e164=f"+1415555{i:04d}")
            for i in numbers
        ]
        services.enqueue_for_outcomes(account=account, outcome_ids=[o.pk for o in outcomes])


def statuses() -> Counter:
    return Counter(Conversion.objects.values_list("status", flat=True))


def expected_keys() -> list[tuple[str, str]]:
    rows = Conversion.objects.values_list("destination__config__customer_id", "dedup_key")
    return sorted(rows)


def on_db(redis_url: str, number: int) -> str:
    """The same Redis, another database: these tests' queues never meet another test's."""
    return redis_url.rsplit("/", 1)[0] + f"/{number}"


def deliver_until(done, *, broker_url: str, queue: str, workers, log: Path, timeout: float,
                  tick=lambda: None) -> None:  # fmt: skip
    """Play beat (a sweep every half second on the workers' queue) until `done()`."""
    sender = Celery("faults-beat", broker=broker_url, set_as_current=False)
    deadline = time.monotonic() + timeout
    try:
        while not done():
            dead = [w.pid for w in workers if w.poll() is not None]
            assert not dead, f"worker {dead} died:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"{statuses()} after {timeout} s"
            sender.send_task(SWEEP, queue=queue)
            tick()
            time.sleep(0.5)
    finally:
        sender.close()


def forget_queue(broker_url: str, queue: str) -> None:
    """Drop this test's queue and the unacknowledged tasks of a killed worker, so Redis does
    not hand them back to nobody in an hour."""
    client = redis.Redis.from_url(broker_url)
    client.delete(queue)
    for tag, raw in client.hgetall("unacked").items():
        if json.loads(raw)[-1] == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
    client.close()


def all_accepted(n: int):
    return lambda: statuses() == Counter({"accepted": n})


def test_every_conversion_is_accepted_once_through_errors_throttling_and_lost_answers(
    account, redis_url, tmp_path
):
    broker, queue, log = on_db(redis_url, 11), f"faults-{uuid.uuid4().hex[:12]}", tmp_path / "w"
    faults = ("500", "ok", "429", "lost", "ok", "partial", "ok", "ok")  # half misbehave
    with DedupPlatform(faults=faults) as platform, publishing_to(broker, queue):
        first, second = google_ads(account, platform, "111"), google_ads(account, platform, "222")
        worker = start_worker(broker_url=broker, queue=queue, log=log, concurrency=2)
        try:
            for wave in range(10):  # deals won over a few seconds, each wave its own commit
                won_outcomes(account, range(wave * 10, wave * 10 + 10))
                time.sleep(0.2)

            def google_clock():
                # Google asks for 6 hours after TOO_RECENT_EVENT; the test is the clock.
                Conversion.objects.filter(
                    status="retry", last_error_code="TOO_RECENT_EVENT"
                ).update(next_attempt_at=timezone.now())

            deliver_until(all_accepted(200), broker_url=broker, queue=queue, workers=[worker],
                          log=log, timeout=40, tick=google_clock)  # fmt: skip
        finally:
            stop(worker)
            forget_queue(broker, queue)

    assert statuses() == Counter({"accepted": 200})
    assert Conversion.objects.filter(destination__in=[first, second]).count() == 200
    assert sorted(platform.accepted) == expected_keys()
    assert set(platform.accepted.values()) == {1}
    assert platform.changed == []
    # The chaos happened: every fault was played, rows were sent again, and some arrived at
    # the platform again after it had taken them (their answer was lost).
    assert set(platform.played) == {"ok", "500", "429", "lost", "partial"}
    assert Conversion.objects.filter(attempts__gt=1).exists()
    assert sum(platform.received.values()) > 200
    assert any(platform.received[key] > 1 for key in platform.accepted)


def test_rows_of_a_worker_killed_mid_batch_are_sent_again_after_the_lease_and_counted_once(
    account, redis_url, tmp_path
):
    broker, queue, log = on_db(redis_url, 12), f"faults-{uuid.uuid4().hex[:12]}", tmp_path / "w"
    lease = {"CONVERSIONS_CLAIM_SECONDS": "3"}
    with DedupPlatform(hold=2.0) as platform, publishing_to(broker, queue):
        google_ads(account, platform, "111")
        doomed = start_worker(broker_url=broker, queue=queue, log=log, **lease)
        successor = None
        try:
            won_outcomes(account, range(60))  # the commit's nudge starts the batch
            deliver_until(
                lambda: platform.received and statuses() == Counter({"sending": 60}),
                broker_url=broker, queue=queue, workers=[doomed], log=log, timeout=30,
            )  # fmt: skip
            lease_end = max(Conversion.objects.values_list("next_attempt_at", flat=True))
            os.killpg(doomed.pid, signal.SIGKILL)  # mid-request: the answer never arrives
            doomed.wait(timeout=5)
            assert statuses() == Counter({"sending": 60})

            successor = start_worker(broker_url=broker, queue=queue, log=log, **lease)
            deliver_until(all_accepted(60), broker_url=broker, queue=queue,
                          workers=[successor], log=log, timeout=30)  # fmt: skip
        finally:
            stop(doomed)
            if successor is not None:
                stop(successor)
            forget_queue(broker, queue)

    assert sorted(platform.accepted) == expected_keys()
    assert set(platform.accepted.values()) == {1}
    assert set(platform.received.values()) == {2}  # once by each worker
    assert platform.changed == []
    assert min(Conversion.objects.values_list("sent_at", flat=True)) > lease_end
    assert set(Conversion.objects.values_list("attempts", "last_error_code")) == {
        (2, "CLICK_CONVERSION_ALREADY_EXISTS")
    }


def test_outcomes_arriving_while_redis_is_down_are_stored_at_once_and_delivered_later(
    account, api, tmp_path
):
    require("redis-server", redis_server_binary(), "install it (apt-get install redis-server).")
    port, log = free_port(), tmp_path / "redis.log"
    broker, queue = f"redis://127.0.0.1:{port}/0", "celery"
    redis_server = start_redis(port, log)
    worker = None
    with DedupPlatform() as platform, publishing_to(broker, queue):
        try:
            google_ads(account, platform, "111")
            stop_redis(redis_server)

            took = []
            for i in range(20):
                deal = {
                    "crm": "hubspot", "external_id": f"D{i}", "stage": "won",
                    "value": "150.00", "caller_number": f"+1415555{i:04d}",
                    "occurred_at": timezone.now().isoformat(),
                }  # fmt: skip
                start = time.monotonic()
                response = api.post("/api/v1/outcomes/", deal)
                took.append(time.monotonic() - start)
                assert response.status_code == 201, response.content
            assert max(took) < 2.0, took
            assert statuses() == Counter({"pending": 20})
            assert platform.received == Counter()

            redis_server = start_redis(port, log)
            worker = start_worker(broker_url=broker, queue=queue, log=tmp_path / "worker.log")
            deliver_until(all_accepted(20), broker_url=broker, queue=queue, workers=[worker],
                          log=tmp_path / "worker.log", timeout=30)  # fmt: skip
        finally:
            if worker is not None:
                stop(worker)
            if redis_server.poll() is None:
                stop_redis(redis_server)

    assert sorted(platform.accepted) == expected_keys()
    assert set(platform.accepted.values()) == {1}
    assert set(platform.received.values()) == {1}
