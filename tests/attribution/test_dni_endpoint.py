"""`POST /dni/v1/sessions`: the public contract, CORS, bad input, rate limits, pool choice."""

import pytest
from django.core.cache import cache

from attribution.models import NumberAssignment, VisitorSession
from tests.attribution.dni_helpers import ORIGIN, browser, post
from tests.factories import (
    AccountFactory,
    CampaignFactory,
    KeywordFactory,
    PoolFactory,
    PoolNumberFactory,
    StaticNumberFactory,
)


@pytest.fixture
def account(db):
    account = AccountFactory(allowed_origins=[ORIGIN])
    pool = PoolFactory(campaign=CampaignFactory(account=account, channel="direct"), is_default=True)
    PoolNumberFactory(pool=pool, e164="+12125550142")
    return account


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def test_the_answer_has_the_contracts_fields_and_cors_for_an_allowed_origin(account):
    response = post(browser(), {"key": account.public_key, "url": f"{ORIGIN}/"})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"session_id", "visitor_id", "number", "campaign", "expires_at"}
    assert body["number"] == {"e164": "+12125550142", "display": "(212) 555-0142"}
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response["Vary"] == "Origin"
    session = VisitorSession.objects.get()
    assert str(session.pk) == body["session_id"]  # the same id as the REST API's


def test_a_preflight_is_answered_for_the_origin(account):
    response = browser().options("/dni/v1/sessions", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 204
    assert response["Access-Control-Allow-Methods"] == "POST, OPTIONS"


def test_another_origin_is_refused_and_nothing_is_stored(account):
    response = post(
        browser(),
        {"key": account.public_key, "url": f"{ORIGIN}/"},
        origin="https://evil.example.net",
    )
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response
    assert not VisitorSession.objects.exists()


def test_an_unknown_key_is_404(db):
    response = post(browser(), {"key": "pk_nobody", "url": f"{ORIGIN}/"})
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_key"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ("{not json", "body", "The body is not valid JSON."),
        ("[1, 2]", "body", "Expected a JSON object."),
        ({"url": f"{ORIGIN}/"}, "key", "This field is required."),
        ({"key": 12, "url": f"{ORIGIN}/"}, "key", "Expected a string."),
        ({"url": None}, "url", "This field is required."),
        ({"url": "/relative"}, "url", "'/relative' is not an absolute http(s) URL"),
        (
            {"url": "https://a.com/" + "x" * 2100},
            "url",
            "Ensure this field has no more than 2048 characters.",
        ),
        ({"url": f"{ORIGIN}/", "session_id": "123"}, "session_id", "'123' is not a session id."),
        (
            {"url": f"{ORIGIN}/", "visitor_id": "a b"},
            "visitor_id",
            "Use 8 to 64 letters, digits, '.', '_' or '-'.",
        ),
        ({"url": f"{ORIGIN}/", "referrer": ["x"]}, "referrer", "Expected a string."),
    ],
)
def test_malformed_requests_are_400_and_store_nothing(account, body, field, message):
    if isinstance(body, dict) and field != "key":
        body = {"key": account.public_key, **body}
    response = post(browser(), body)
    assert response.status_code == 400
    assert response.json()["errors"] == {field: [message]}
    assert not VisitorSession.objects.exists()


def test_get_is_405(account):
    assert browser().get("/dni/v1/sessions").status_code == 405


def test_a_keyword_pool_wins_over_its_campaigns_pool(db):
    account = AccountFactory(allowed_origins=[ORIGIN])
    campaign = CampaignFactory(account=account, utm_campaign="emergency", source="google")
    keyword = KeywordFactory(campaign=campaign, text="emergency plumber")
    PoolNumberFactory(pool=PoolFactory(campaign=campaign), e164="+12125550150")
    PoolNumberFactory(pool=PoolFactory(campaign=campaign, keyword=keyword), e164="+12125550151")
    url = f"{ORIGIN}/?gclid=x&utm_campaign=emergency&utm_term=emergency+plumber"
    response = post(browser(), {"key": account.public_key, "url": url})
    assert response.json()["number"]["e164"] == "+12125550151"
    session = VisitorSession.objects.get()
    assert (session.campaign, session.keyword, session.gclid) == (campaign, keyword, "x")
    plain = post(browser(), {"key": account.public_key, "url": f"{ORIGIN}/?utm_campaign=emergency"})
    assert plain.json()["number"]["e164"] == "+12125550150"


def test_a_campaign_without_a_pool_shows_its_static_number(db):
    account = AccountFactory(allowed_origins=[ORIGIN])
    campaign = CampaignFactory(account=account, channel="email", utm_campaign="news")
    StaticNumberFactory(campaign=campaign, e164="+12125550160")
    response = post(browser(), {"key": account.public_key, "url": f"{ORIGIN}/?utm_campaign=news"})
    assert response.json()["number"]["e164"] == "+12125550160"
    assert response.json()["campaign"] == campaign.pk
    assert not NumberAssignment.objects.exists()


def test_no_pool_and_no_static_number_leaves_the_page_its_own_number(db):
    account = AccountFactory(allowed_origins=[ORIGIN])
    response = post(browser(), {"key": account.public_key, "url": f"{ORIGIN}/"})
    assert response.status_code == 201
    assert response.json()["number"] is None


def test_a_client_over_its_rate_limit_gets_429_with_retry_after(account, settings):
    settings.DNI_RATE_PER_IP = 3
    client = browser()
    codes = [
        post(client, {"key": account.public_key, "url": f"{ORIGIN}/"}).status_code for _ in range(4)
    ]
    assert codes == [201, 201, 201, 429]
    response = post(client, {"key": account.public_key, "url": f"{ORIGIN}/"})
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["code"] == "throttled"
    assert VisitorSession.objects.count() == 3
    other_ip = post(
        browser(), {"key": account.public_key, "url": f"{ORIGIN}/"}, REMOTE_ADDR="198.51.100.9"
    )
    assert other_ip.status_code == 201


@pytest.mark.redis
def test_rate_limits_are_shared_through_redis(account, settings, redis_url):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"test-{account.public_key}",
        }
    }
    settings.DNI_RATE_PER_KEY = 2
    codes = [
        post(
            browser(),
            {"key": account.public_key, "url": f"{ORIGIN}/"},
            REMOTE_ADDR=f"198.51.100.{i}",
        ).status_code
        for i in range(3)
    ]
    assert codes == [201, 201, 429]
    from django.core.cache import caches

    assert "Redis" in type(caches["default"]).__name__
