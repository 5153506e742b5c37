import os

import pytest
from rest_framework.test import APIClient

from campaigns import services
from campaigns.models import Role
from tests.factories import AccountFactory

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture
def account(db):
    return AccountFactory(name="Alice Plumbing")


@pytest.fixture
def other_account(db):
    return AccountFactory(name="Bob Roofing")


@pytest.fixture
def api_for(db):
    """`api_for(account, role)` → a DRF test client sending that account's new key."""

    def make(account, role: str = Role.ADMIN) -> APIClient:
        _, raw_key = services.issue_api_key(account=account, role=role)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        client.default_format = "json"
        return client

    return make


@pytest.fixture
def api(api_for, account):
    """An admin client of `account`."""
    return api_for(account)


@pytest.fixture(scope="session")
def redis_url():
    """A reachable Redis: CELERY_BROKER_URL, else the local server. Missing → loud skip,
    or a failure in CI, where every service must be there."""
    import redis

    url = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        message = f"Redis is not reachable at {url} ({exc}); start it or set CELERY_BROKER_URL."
        if IN_CI:
            pytest.fail(message)
        pytest.skip(f"SKIPPED, NEEDS REDIS: {message}")
    return url


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage needs `collectstatic`; pages rendered in tests need only the names.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
