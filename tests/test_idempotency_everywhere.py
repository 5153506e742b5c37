"""`Idempotency-Key` on every POST that creates data (campaigns.api.idempotency.idempotent_posts):
the schema documents it on every POST operation, and for each resource the same POST twice with
one key writes once and answers twice with the same bytes, the key reused with another body is
a 422, and without a key nothing changes."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from attribution.models import Conversion, Destination, Outcome
from calls.models import BlockedNumber, Call
from campaigns import ratelimit
from campaigns.models import (
    Campaign,
    CrmStageMapping,
    DailyCost,
    IdempotencyKey,
    Keyword,
    NumberPool,
    TrackingNumber,
)
from tests.attribution.conversion_helpers import make_destination
from tests.factories import CampaignFactory

KEY = "4f1c2a9e-retry-me"


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    ratelimit.reset_outage()
    settings.API_RATE_PER_KEY = 100_000


@pytest.fixture
def campaign(account):
    return CampaignFactory(account=account, name="Spring", channel="paid_search")


def call_body(external_id="CA1"):
    return {
        "provider": "acme-voip",
        "external_id": external_id,
        "tracking_number": "+12125550170",
        "caller_number": "+14155552671",
        "started_at": "2026-11-02T15:04:05Z",
        "duration_seconds": 95,
        "status": "answered",
    }


def outcome_body(external_id="D1"):
    return {
        "crm": "hubspot",
        "external_id": external_id,
        "stage": "won",
        "value": "150.00",
        "occurred_at": "2026-11-02T16:00:00Z",
    }


# path, body(campaign), another body(campaign), model whose rows are counted
RESOURCES = {
    "campaigns": (
        "/api/v1/campaigns/",
        lambda c: {"name": "Autumn", "channel": "email"},
        lambda c: {"name": "Winter", "channel": "email"},
        Campaign,
    ),
    "keywords": (
        "/api/v1/keywords/",
        lambda c: {"campaign": c.pk, "text": "boiler repair"},
        lambda c: {"campaign": c.pk, "text": "boiler service"},
        Keyword,
    ),
    "pools": (
        "/api/v1/pools/",
        lambda c: {"campaign": c.pk},
        lambda c: {"campaign": c.pk, "idle_timeout_seconds": 600},
        NumberPool,
    ),
    "numbers": (
        "/api/v1/numbers/",
        lambda c: {"e164": "+12125550170", "kind": "static", "campaign": c.pk},
        lambda c: {"e164": "+12125550171", "kind": "static", "campaign": c.pk},
        TrackingNumber,
    ),
    "costs": (
        "/api/v1/costs/",
        lambda c: [{"campaign": c.pk, "date": "2026-11-01", "amount": "12.50"}],
        lambda c: [{"campaign": c.pk, "date": "2026-11-01", "amount": "13.50"}],
        DailyCost,
    ),
    "calls": ("/api/v1/calls/", lambda c: call_body(), lambda c: call_body("CA2"), Call),
    "calls-batch": (
        "/api/v1/calls/",
        lambda c: [call_body("CA1"), call_body("CA2")],
        lambda c: [call_body("CA3")],
        Call,
    ),
    "blocklist": (
        "/api/v1/blocklist/",
        lambda c: {"e164": "+14155552671", "reason": "robocaller"},
        lambda c: {"e164": "+14155552672"},
        BlockedNumber,
    ),
    "outcomes": (
        "/api/v1/outcomes/",
        lambda c: outcome_body(),
        lambda c: outcome_body("D2"),
        Outcome,
    ),
    "crm-stages": (
        "/api/v1/crm-stages/",
        lambda c: {"crm": "hubspot", "crm_stage": "appointmentscheduled", "stage": "qualified"},
        lambda c: {"crm": "hubspot", "crm_stage": "contractsent", "stage": "qualified"},
        CrmStageMapping,
    ),
    "destinations": (
        "/api/v1/destinations/",
        lambda c: {
            "name": "Meta pixel",
            "kind": "meta",
            "config": {"pixel_id": "1234567890"},
            "credentials": {"access_token": "EAAB-secret-token"},
            "rules": [{"trigger": "won", "action": "Purchase"}],
        },
        lambda c: {
            "name": "Meta pixel 2",
            "kind": "meta",
            "config": {"pixel_id": "1234567891"},
            "credentials": {"access_token": "EAAB-secret-token"},
        },
        Destination,
    ),
    "hubspot": (
        "/api/v1/outcomes/hubspot/",
        lambda c: [{"objectId": 1, "propertyName": "dealstage", "propertyValue": "closedwon"}],
        lambda c: [{"objectId": 2, "propertyName": "dealstage", "propertyValue": "closedwon"}],
        Outcome,
    ),
    "salesforce": (
        "/api/v1/outcomes/salesforce/",
        lambda c: {
            "Id": "0065e00000Gx7QzAAJ",
            "StageName": "Closed Won",
            "IsWon": True,
            "IsClosed": True,
            "Amount": 4200.5,
            "CloseDate": "2026-11-02",
        },
        lambda c: {
            "Id": "0065e00000Gx7QzAAK",
            "StageName": "Closed Won",
            "IsWon": True,
            "IsClosed": True,
            "Amount": 10,
            "CloseDate": "2026-11-02",
        },
        Outcome,
    ),
}
# What a second POST of the same body without a key answers, as before keys existed: creates
# refuse the duplicate (a unique name, text, number or stage), upserts answer 200.
KEYLESS_REPEAT = {
    "campaigns": 400,
    "keywords": 400,
    "pools": 400,
    "numbers": 400,
    "costs": 200,
    "calls": 200,
    "calls-batch": 200,
    "blocklist": 200,
    "outcomes": 200,
    "crm-stages": 400,
    "destinations": 400,
    "hubspot": 200,
    "salesforce": 200,
}


def keyed(client, path, body, key=KEY):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.parametrize("name", list(RESOURCES))
def test_the_same_post_twice_with_one_key_writes_once_and_replays_the_answer(api, campaign, name):
    path, body, _, model = RESOURCES[name]
    before = model.objects.count()

    first = keyed(api, path, body(campaign))
    after_first = model.objects.count()
    second = keyed(api, path, body(campaign))

    assert first.status_code == 201, first.content
    assert after_first > before
    assert second.status_code == 201
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert model.objects.count() == after_first
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.parametrize("name", list(RESOURCES))
def test_the_key_reused_with_another_body_is_a_422_that_writes_nothing(api, campaign, name):
    path, body, other, model = RESOURCES[name]
    keyed(api, path, body(campaign))
    count = model.objects.count()

    response = keyed(api, path, other(campaign))

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert model.objects.count() == count


@pytest.mark.parametrize("name", list(RESOURCES))
def test_without_a_key_a_post_behaves_as_it_always_did(api, campaign, name):
    path, body, _, _ = RESOURCES[name]
    first = api.post(path, body(campaign), format="json")
    again = api.post(path, body(campaign), format="json")
    assert (first.status_code, again.status_code) == (201, KEYLESS_REPEAT[name])
    assert "Idempotent-Replayed" not in again
    assert not IdempotencyKey.objects.exists()


def test_a_retried_conversion_retry_is_replayed_not_run_again(api, account):
    make_destination(account, "meta")
    api.post("/api/v1/outcomes/", outcome_body() | {"caller_number": "+14155550100"})
    row = Conversion.objects.get()
    Conversion.objects.update(status="rejected", attempts=3, last_error_code="BAD")
    path = f"/api/v1/conversions/{row.pk}/retry/"

    first = keyed(api, path, None)
    Conversion.objects.update(status="rejected", attempts=3)  # rejected again since
    second = keyed(api, path, None)

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["status"] == "pending"
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("rejected", 3)  # the replay did not retry it


def test_every_post_operation_in_the_schema_documents_idempotency_key():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    posts = {
        path: operations["post"]
        for path, operations in schema["paths"].items()
        if "post" in operations
    }
    missing = [
        path
        for path, operation in posts.items()
        if not any(
            parameter["name"] == "Idempotency-Key" and parameter["in"] == "header"
            for parameter in operation.get("parameters", [])
        )
    ]
    assert len(posts) >= 14
    assert missing == []
