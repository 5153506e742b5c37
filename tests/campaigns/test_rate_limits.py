"""Per-key rate limits of the REST API (campaigns.api.throttling on campaigns.ratelimit): the
RateLimit-* headers on every answer, 429 with Retry-After past the budget, one budget per key and
a separate one for reports, atomic counting under concurrency on Redis and locmem, and requests
passing when Redis is down. The clock is pinned 15 s into a window so that the figures are exact
and no window boundary falls inside a test."""

import logging
import threading
import types
import uuid

import pytest
import redis
from django.core.cache import cache
from drf_spectacular.generators import SchemaGenerator

from campaigns import ratelimit
from tests.attribution.dni_helpers import ORIGIN, browser, post
from tests.factories import AccountFactory, CampaignFactory, PoolFactory, PoolNumberFactory

NOW = 1_800_000_015.0  # 15 s into a one-minute window: the window resets in 45 s
CAMPAIGNS = "/api/v1/campaigns/"
ROI = "/api/v1/reports/roi/?start=2026-11-01&end=2026-11-30"
REDIS_DB = 13  # this suite's own database on the shared Redis


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The limiter's clock, pinned; `clock.now` moves it."""
    fake = types.SimpleNamespace(now=NOW)
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: fake.now))
    ratelimit.reset_outage()
    cache.clear()  # locmem, the default in tests
    yield fake
    ratelimit.reset_outage()


@pytest.fixture
def limits(settings):
    settings.API_RATE_PER_KEY = 3
    settings.API_RATE_REPORTS_PER_KEY = 1
    return settings


@pytest.fixture
def redis_cache(settings, redis_url):
    """The limiter on real Redis through Django's RedisCache, as CACHE_URL configures it, under
    a key prefix of its own (nothing else in the database is touched)."""
    location = redis_url.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    prefix = f"h4-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    yield
    client = redis.Redis.from_url(location)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


@pytest.fixture(params=["locmem", "redis"])
def backend(request):
    if request.param == "redis":
        request.getfixturevalue("redis_cache")
    return request.param


def rate_headers(response) -> dict:
    names = ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy"]
    return {name: response.get(name) for name in names}


def test_every_api_answer_says_what_is_left_of_the_keys_budget(api, limits):
    first, second = api.get(CAMPAIGNS), api.post(CAMPAIGNS, {"name": "x"})
    assert (first.status_code, second.status_code) == (200, 400)
    assert rate_headers(first) == {
        "RateLimit-Limit": "3",
        "RateLimit-Remaining": "2",
        "RateLimit-Reset": "45",
        "RateLimit-Policy": "3;w=60",
    }
    assert rate_headers(second)["RateLimit-Remaining"] == "1"


def test_a_key_past_its_budget_gets_429_with_retry_after_and_a_message(api, limits, backend):
    codes = [api.get(CAMPAIGNS).status_code for _ in range(3)]
    throttled = api.get(CAMPAIGNS)

    assert codes == [200, 200, 200]
    assert throttled.status_code == 429
    assert throttled["Retry-After"] == "45"
    assert rate_headers(throttled) == {
        "RateLimit-Limit": "3",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "45",
        "RateLimit-Policy": "3;w=60",
    }
    assert throttled.json() == {
        "code": "throttled",
        "message": "This API key made more than 3 requests in a minute. Retry after 45 s "
        "(Retry-After); RateLimit-Remaining on each answer shows what is left of the budget.",
        "errors": {},
    }


def test_a_throttled_post_writes_nothing(api, limits, account):
    for _ in range(3):
        api.get(CAMPAIGNS)
    response = api.post(CAMPAIGNS, {"name": "Spring", "channel": "email"}, format="json")
    assert response.status_code == 429
    assert not account.campaigns.exists()


def test_the_budget_comes_back_when_the_window_ends(api, limits, clock):
    for _ in range(4):
        api.get(CAMPAIGNS)
    clock.now = NOW + 45
    response = api.get(CAMPAIGNS)
    assert response.status_code == 200
    assert rate_headers(response)["RateLimit-Remaining"] == "2"
    assert rate_headers(response)["RateLimit-Reset"] == "60"


def test_one_keys_burst_does_not_throttle_another_key(api, api_for, account, limits, backend):
    other_key = api_for(account)
    for _ in range(4):
        api.get(CAMPAIGNS)
    response = other_key.get(CAMPAIGNS)
    assert response.status_code == 200
    assert rate_headers(response)["RateLimit-Remaining"] == "2"


def test_reports_have_their_own_smaller_budget(api, limits):
    assert api.get(ROI).status_code == 200
    report = api.get(ROI)
    assert report.status_code == 429
    assert report.json()["message"].startswith(
        "This API key made more than 1 report requests in a minute."
    )
    assert rate_headers(report)["RateLimit-Limit"] == "1"
    # The key's other budget is untouched.
    assert rate_headers(api.get(CAMPAIGNS))["RateLimit-Remaining"] == "2"


def test_requests_without_a_key_are_counted_per_client_ip(client, limits):
    settings = limits
    settings.API_RATE_PER_KEY = 1
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/schema/").status_code == 429
    assert client.get("/api/schema/", REMOTE_ADDR="198.51.100.7").status_code == 200


def test_a_bad_key_is_refused_by_auth_and_spends_no_budget(client, api, limits):
    for _ in range(5):
        response = client.get(CAMPAIGNS, HTTP_AUTHORIZATION="Bearer nope")
        assert response.status_code == 401
    assert rate_headers(api.get(CAMPAIGNS))["RateLimit-Remaining"] == "2"


def test_concurrent_requests_never_pass_more_than_the_limit(backend):
    """The atomicity of the counter: 40 threads released at once on one budget of 15."""
    limit, threads = 15, 40
    barrier = threading.Barrier(threads)
    results: list[bool] = []
    lock = threading.Lock()

    def one():
        barrier.wait()
        usage = ratelimit.count(f"burst-{backend}", limit=limit)
        with lock:
            results.append(usage.allowed)

    workers = [threading.Thread(target=one) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert (results.count(True), results.count(False)) == (limit, threads - limit)


@pytest.fixture
def redis_down(settings):
    """A Redis that is not there: a closed port on this machine."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def test_with_redis_down_api_requests_pass_and_one_warning_is_logged(
    api, limits, redis_down, caplog
):
    caplog.set_level(logging.WARNING, logger="campaigns.ratelimit")
    responses = [api.get(CAMPAIGNS) for _ in range(5)]  # more than the budget of 3
    assert [response.status_code for response in responses] == [200] * 5
    assert "RateLimit-Limit" not in responses[0]
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1
    assert warnings[0].startswith("Rate limits are off for 5 s: the cache is unreachable")


def test_with_redis_down_the_dni_endpoint_still_hands_out_numbers(db, settings, redis_down):
    settings.DNI_RATE_PER_IP = 1
    account = AccountFactory(allowed_origins=[ORIGIN])
    pool = PoolFactory(campaign=CampaignFactory(account=account, channel="direct"), is_default=True)
    PoolNumberFactory(pool=pool, e164="+12125550142")
    codes = [
        post(browser(), {"key": account.public_key, "url": f"{ORIGIN}/"}).status_code
        for _ in range(2)
    ]
    assert codes == [201, 201]


def test_the_limiter_tries_redis_again_after_the_outage_window(settings, redis_down, clock):
    assert ratelimit.count("x", limit=1) is None
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert ratelimit.count("x", limit=1) is None  # still within the 5 s it remembers
    clock.now = NOW + ratelimit.OUTAGE_SECONDS
    assert ratelimit.count("x", limit=1).allowed


def test_the_dni_endpoint_counts_on_the_same_limiter(db, settings):
    settings.DNI_RATE_PER_IP = 1
    account = AccountFactory(allowed_origins=[ORIGIN])
    pool = PoolFactory(campaign=CampaignFactory(account=account, channel="direct"), is_default=True)
    PoolNumberFactory(pool=pool, e164="+12125550142")
    body = {"key": account.public_key, "url": f"{ORIGIN}/"}
    assert post(browser(), body).status_code == 201
    throttled = post(browser(), body)
    assert throttled.status_code == 429
    assert throttled["Retry-After"] == "45"
    assert throttled.json() == {
        "code": "throttled",
        "message": "Too many requests; retry after 45 s (Retry-After).",
        "errors": {},
    }


def test_the_schema_documents_429_413_and_the_rate_limit_headers():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    listing = schema["paths"]["/api/v1/campaigns/"]["get"]["responses"]
    create = schema["paths"]["/api/v1/campaigns/"]["post"]["responses"]
    assert set(listing["429"]["headers"]) == {
        "Retry-After",
        "RateLimit-Limit",
        "RateLimit-Remaining",
        "RateLimit-Reset",
        "RateLimit-Policy",
    }
    assert listing["429"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert "RateLimit-Remaining" in listing["200"]["headers"]
    assert "413" not in listing
    assert "413" in create
    operations = [
        operation
        for path, methods in schema["paths"].items()
        if path.startswith("/api/v1/")
        for operation in methods.values()
    ]
    assert all("429" in operation["responses"] for operation in operations)
