import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns import services
from campaigns.models import ApiKey, Campaign, Role

CAMPAIGN = {"name": "Brand", "channel": "paid_search"}


def client_with(header: str | None) -> APIClient:
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "Send 'Authorization: Bearer <api key>'."),
        ("Token abc", "Send the key as 'Authorization: Bearer <api key>'."),
        ("Bearer ", "Send the key as 'Authorization: Bearer <api key>'."),
        ("Bearer cp_nope_nope", "Unknown API key."),
    ],
)
def test_requests_without_a_valid_key_are_401(db, header, message):
    response = client_with(header).get("/api/v1/campaigns/")
    assert response.status_code == 401
    assert response.json() == {"code": response.json()["code"], "message": message, "errors": {}}
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_revoked_key_is_401(account):
    api_key, raw = services.issue_api_key(account=account, role=Role.ADMIN)
    services.revoke_api_keys(keys=[api_key])
    response = client_with(f"Bearer {raw}").get("/api/v1/campaigns/")
    assert response.status_code == 401
    assert response.json()["message"] == "This API key has been revoked."


def test_keys_are_stored_hashed_and_shown_once(account):
    api_key, raw = services.issue_api_key(account=account, role=Role.INTEGRATION)
    stored = ApiKey.objects.get(pk=api_key.pk)
    assert raw not in (stored.hashed_key, stored.prefix, stored.name)
    assert raw.startswith(stored.prefix + "_")
    assert len(stored.hashed_key) == 64


def test_using_a_key_records_when_it_was_last_used(account):
    api_key, raw = services.issue_api_key(account=account, role=Role.REPORTING)
    before = timezone.now()
    assert client_with(f"Bearer {raw}").get("/api/v1/campaigns/").status_code == 200
    api_key.refresh_from_db()
    assert api_key.last_used_at >= before


@pytest.mark.parametrize("role", [Role.REPORTING, Role.FINANCE])
def test_reading_roles_cannot_write_campaigns(api_for, account, role):
    response = api_for(account, role).post("/api/v1/campaigns/", CAMPAIGN)
    assert response.status_code == 403
    assert response.json()["message"] == (
        f"A '{role}' key may not POST here; this needs one of: admin, integration."
    )
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("role", Role.values)
def test_every_role_reads(api_for, account, role):
    assert api_for(account, role).get("/api/v1/campaigns/").status_code == 200


@pytest.mark.parametrize("role", [Role.ADMIN, Role.INTEGRATION])
def test_writers_create_campaigns(api_for, account, role):
    assert api_for(account, role).post("/api/v1/campaigns/", CAMPAIGN).status_code == 201


def test_finance_keys_upload_costs_but_reporting_keys_do_not(api_for, account):
    campaign = services.create_campaign(account=account, name="Brand", channel="paid_search")
    cost = {"campaign": campaign.pk, "date": "2026-01-01", "amount": "10.00"}
    assert api_for(account, Role.FINANCE).post("/api/v1/costs/", cost).status_code == 201
    assert api_for(account, Role.REPORTING).post("/api/v1/costs/", cost).status_code == 403


@pytest.mark.parametrize("role", [Role.INTEGRATION, Role.REPORTING, Role.FINANCE])
def test_only_an_admin_key_patches_the_account(api_for, account, role):
    response = api_for(account, role).patch("/api/v1/account/", {"name": "Hijacked"})
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.name == "Alice Plumbing"
