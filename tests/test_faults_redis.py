"""Redis stopped, on the real services: a private redis-server is the broker and the rate limits'
cache, then goes away. The API keeps taking calls (one and a batch), outcomes (their conversions
wait in the outbox) and DNI sessions (a real pool number; the rate limiter fails open), each
answered promptly, and `/healthz` says `degraded` with 200. When Redis is back a real worker
delivers every outbox row to a local receiver exactly once, signed."""

import time
import uuid
from collections import Counter

import pytest
from celery import Celery
from django.utils import timezone

from attribution.conversions.platforms.webhook import verify_signature
from attribution.models import Conversion, NumberAssignment
from calls.models import Call
from campaigns.ratelimit import reset_outage
from tests.attribution.conversion_helpers import make_destination
from tests.attribution.dni_helpers import ORIGIN, browser, post
from tests.attribution.platform_servers import Reply, running
from tests.factories import (
    AccountFactory,
    CampaignFactory,
    PoolFactory,
    PoolNumberFactory,
    StaticNumberFactory,
)
from tests.fault_helpers import (
    free_port,
    publishing_to,
    start_redis,
    start_worker,
    stop,
    stop_redis,
)

pytestmark = pytest.mark.django_db(transaction=True)

SWEEP = "attribution.conversions.tasks.sweep_conversions_task"
SECRET = "whsec-test"  # tests.attribution.conversion_helpers.SETTINGS["webhook"]
# Much more than a healthy request takes here (~50 ms) and much less than a connection
# retry loop (kombu's retries cost 6 s per publish before 5f22a46).
PROMPT = 3.0


@pytest.fixture
def account(db):
    account = AccountFactory(name="Alice Plumbing", allowed_origins=[ORIGIN])
    campaign = CampaignFactory(account=account, channel="direct")
    StaticNumberFactory(campaign=campaign, e164="+12125550170")
    pool = PoolFactory(campaign=campaign, is_default=True)
    PoolNumberFactory(pool=pool, e164="+12125550142")
    PoolNumberFactory(pool=pool, e164="+12125550143")
    return account


@pytest.fixture
def redis_port(tmp_path, settings):
    """A private Redis as broker (db 0) and cache (db 1), as production configures both."""
    port = free_port()
    server = start_redis(port, tmp_path / "redis.log")
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/1",
        }
    }
    reset_outage()
    yield port, server
    reset_outage()
    if server.poll() is None:
        stop_redis(server)


def call(external_id: str) -> dict:
    return {
        "provider": "acme-voip", "external_id": external_id, "tracking_number": "+12125550170",
        "caller_number": "+14155552671", "started_at": "2026-11-02T15:04:05Z",
        "duration_seconds": 95, "status": "answered",
    }  # fmt: skip


def deal(external_id: str, caller: str) -> dict:
    return {
        "crm": "hubspot", "external_id": external_id, "stage": "won", "value": "150.00",
        "caller_number": caller, "occurred_at": timezone.now().isoformat(),
    }  # fmt: skip


def timed(send):
    start = time.monotonic()
    response = send()
    return response, time.monotonic() - start


def test_with_redis_stopped_the_api_and_dni_keep_working_and_the_outbox_drains_after(
    account, api, client, redis_port, tmp_path
):
    port, server = redis_port
    broker = f"redis://127.0.0.1:{port}/0"
    with running() as receiver, publishing_to(broker, "celery"):
        receiver.reply("/hook", Reply(204))
        make_destination(account, "webhook", base=receiver.url)
        stop_redis(server)

        answers = {
            "healthz": timed(lambda: client.get("/healthz")),
            "call": timed(lambda: api.post("/api/v1/calls/", call("CA1"))),
            "calls": timed(lambda: api.post("/api/v1/calls/", [call("CA2"), call("CA3")])),
            "outcome": timed(
                lambda: api.post(
                    "/api/v1/outcomes/",
                    deal("D1", "+14155550101"),
                    HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
                )  # fmt: skip
            ),
            "outcomes": timed(
                lambda: api.post(
                    "/api/v1/outcomes/",
                    [deal("D2", "+14155550102"), deal("D3", "+14155550103")],
                )
            ),
            "dni": timed(lambda: post(browser(), {"key": account.public_key, "url": f"{ORIGIN}/"})),
        }
        latencies = {name: round(took, 3) for name, (_, took) in answers.items()}
        print(f"\nlatencies with Redis stopped (s): {latencies}")
        status = {name: response.status_code for name, (response, _) in answers.items()}
        assert status == {
            "healthz": 200, "call": 201, "calls": 201, "outcome": 201, "outcomes": 201, "dni": 201,
        }, [answers[name][0].content for name in answers]  # fmt: skip
        assert max(latencies.values()) < PROMPT, latencies
        assert answers["healthz"][0].json() == {
            "status": "degraded",
            "database": "ok",
            "broker": "down",
        }
        assert answers["dni"][0].json()["number"]["e164"] in {"+12125550142", "+12125550143"}
        assert NumberAssignment.objects.count() == 1
        assert sorted(Call.objects.values_list("external_id", flat=True)) == ["CA1", "CA2", "CA3"]
        assert Counter(Conversion.objects.values_list("status", flat=True)) == {"pending": 3}
        assert receiver.requests == []

        server = start_redis(port, tmp_path / "redis.log")
        assert client.get("/healthz").json()["status"] == "ok"
        worker = start_worker(broker_url=broker, queue="celery", log=tmp_path / "worker.log")
        try:
            drain(broker, worker, tmp_path / "worker.log", expected=3)
        finally:
            stop(worker)
            stop_redis(server)

    event_ids = Counter(request.headers["callpath-event-id"] for request in receiver.requests)
    assert event_ids == Counter(Conversion.objects.values_list("dedup_key", flat=True))
    assert set(event_ids.values()) == {1}
    for request in receiver.requests:
        assert verify_signature(SECRET, request.headers["callpath-signature"], request.body)
    deals = sorted(
        request.json()["data"]["outcome"]["external_id"] for request in receiver.requests
    )
    assert deals == ["D1", "D2", "D3"]


def drain(broker: str, worker, log, *, expected: int, timeout: float = 30) -> None:
    """Play beat: a sweep every half second until every row is accepted."""
    sender = Celery("faults-beat", broker=broker, set_as_current=False)
    deadline = time.monotonic() + timeout
    try:
        while Conversion.objects.filter(status="accepted").count() < expected:
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, list(Conversion.objects.values("status"))
            sender.send_task(SWEEP, queue="celery")
            time.sleep(0.5)
    finally:
        sender.close()
