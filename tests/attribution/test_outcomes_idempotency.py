"""`Idempotency-Key` on `POST /api/v1/outcomes/` (campaigns.idempotency): the first response
replayed for 24 hours, 422 for the key reused with another request, 409 while it is in flight,
nothing stored for a request that failed, and the hourly purge."""

from datetime import timedelta

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from attribution.models import Outcome, OutcomeChange
from campaigns import idempotency
from campaigns.models import IdempotencyKey
from campaigns.tasks import purge_idempotency_keys_task

BODY = {
    "crm": "hubspot",
    "external_id": "D1",
    "stage": "won",
    "value": "120",
    "occurred_at": "2026-11-02T16:00:00Z",
}


def post(client, body=BODY, key="key-1", path="/api/v1/outcomes/"):
    return client.post(path, body, HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_with_the_same_key_replays_the_first_answer_and_writes_nothing(api):
    first = post(api)
    # The deal moved on since: a plain upsert would answer 200 with the new stage.
    api.post("/api/v1/outcomes/", {**BODY, "stage": "lost", "occurred_at": "2026-11-03T00:00:00Z"})
    counts = (Outcome.objects.count(), OutcomeChange.objects.count())

    retry = post(api)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert (Outcome.objects.count(), OutcomeChange.objects.count()) == counts
    assert IdempotencyKey.objects.count() == 1


def test_the_same_body_in_another_key_order_is_the_same_request(api):
    post(api)
    reordered = dict(reversed(list(BODY.items())))
    assert post(api, reordered)["Idempotent-Replayed"] == "true"


def test_the_key_reused_with_another_body_is_a_422_that_changes_nothing(api):
    post(api)
    response = post(api, {**BODY, "value": "999"})
    assert response.status_code == 422
    assert response.json() == {
        "code": "idempotency_key_reused",
        "message": "This Idempotency-Key was used with another request (a different body or "
        "path) in the last 24 hours. Use a new key for a new request.",
        "errors": {"Idempotency-Key": ["Already used with another request."]},
    }
    assert Outcome.objects.get().value == 120
    assert OutcomeChange.objects.count() == 1


def test_the_key_reused_on_another_path_is_a_422(api):
    post(api)
    hubspot = {"objectId": 1, "propertyName": "dealstage", "propertyValue": "closedwon"}
    response = post(api, [hubspot], path="/api/v1/outcomes/hubspot/")
    assert response.status_code == 422
    assert Outcome.objects.count() == 1


def test_keys_belong_to_one_account(api, api_for, other_account):
    post(api)
    response = post(api_for(other_account))
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Outcome.objects.count() == 2


def test_a_failed_request_stores_nothing_and_may_be_retried_with_the_same_key(api):
    bad = post(api, {**BODY, "currency": "EUR"})
    assert bad.status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert not Outcome.objects.exists()
    assert post(api).status_code == 201


def test_a_request_with_its_key_in_flight_is_a_409(api, account):
    """Another process holds the key's lock (its request is still running): a second one waits
    for nothing and is told to retry."""
    db = settings.DATABASES["default"]
    conninfo = psycopg.conninfo.make_conninfo(
        dbname=connection.settings_dict["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
    )
    with psycopg.connect(conninfo, autocommit=True) as other:
        other.execute(
            "SELECT pg_advisory_lock(hashtextextended(%s, 0))",
            [f"idempotency-key:{account.pk}:key-1"],
        )
        response = post(api)
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_progress"
    assert not Outcome.objects.exists()
    assert post(api).status_code == 201  # the lock went with the other session


def test_a_key_older_than_24_hours_is_free_again(api):
    post(api)
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    response = post(api, {**BODY, "value": "130"})
    assert response.status_code == 200
    assert Outcome.objects.get().value == 130
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_an_empty_or_overlong_key_is_a_400(api, key):
    response = post(api, key=key)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "Idempotency-Key": ["Send 1 to 255 characters, e.g. a UUID."]
    }
    assert not Outcome.objects.exists()


def test_without_a_key_nothing_is_stored(api):
    assert api.post("/api/v1/outcomes/", BODY).status_code == 201
    assert not IdempotencyKey.objects.exists()


def test_the_hourly_purge_deletes_only_keys_older_than_24_hours(api, api_for, other_account):
    post(api, key="old")
    post(api_for(other_account), key="fresh")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    assert purge_idempotency_keys_task.delay().get() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]
    assert idempotency.purge_expired_keys() == 0
    assert settings.CELERY_BEAT_SCHEDULE["purge-idempotency-keys"] == {
        "task": "campaigns.tasks.purge_idempotency_keys_task",
        "schedule": 3600.0,
    }


def test_the_stored_fingerprint_cannot_be_recomputed_without_the_secret_key(settings):
    # An erasure body is little more than a phone number: a plain SHA-256 of it is reversible
    # by hashing every number, so the fingerprint is keyed.
    body = {"phone_number": "+14155550100"}
    first = idempotency.fingerprint(method="post", path="/api/v1/privacy/erasure/", body=body)
    settings.SECRET_KEY = "another-secret-key-for-another-deployment-0123456789"
    second = idempotency.fingerprint(method="post", path="/api/v1/privacy/erasure/", body=body)

    assert first != second
    assert len(first) == len(second) == 64
