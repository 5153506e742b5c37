"""`/api/v1/destinations/` and `/api/v1/conversions/`: credentials write-only, admin-only
writes, tenancy, filters, the retry action."""

import pytest

from attribution.models import Conversion, Destination
from tests.attribution.conversion_helpers import make_destination
from tests.attribution.test_conversions_outbox import deal

META = {
    "name": "Meta pixel",
    "kind": "meta",
    "config": {"pixel_id": "1234567890"},
    "credentials": {"access_token": "EAAB-secret-token"},
    "rules": [{"trigger": "won", "action": "Purchase"}],
}


def test_a_destination_is_created_and_its_credentials_never_come_back(api):
    response = api.post("/api/v1/destinations/", META)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert "credentials" not in body
    assert "EAAB" not in response.content.decode()
    assert body["credential_keys"] == ["access_token"]
    assert [(r["trigger"], r["action"], r["value"]) for r in body["rules"]] == [
        ("won", "Purchase", "outcome")
    ]
    assert body["counts"]["pending"] == 0
    listed = api.get("/api/v1/destinations/")
    assert "EAAB" not in listed.content.decode()


def test_credentials_are_merged_key_by_key_and_an_empty_value_removes_one(api, account):
    created = api.post("/api/v1/destinations/", META).json()
    url = f"/api/v1/destinations/{created['id']}/"
    response = api.patch(url, {"credentials": {"extra": "x"}})
    assert response.status_code == 200
    assert response.json()["credential_keys"] == ["access_token", "extra"]
    assert api.patch(url, {"credentials": {"extra": ""}}).json()["credential_keys"] == [
        "access_token"
    ]
    assert Destination.objects.get().credentials == {"access_token": "EAAB-secret-token"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"config": {}}, "config"),
        ({"credentials": {}}, "credentials"),
        ({"kind": "carrier_pigeon"}, "kind"),
        ({"rules": [{"trigger": "won", "action": "A", "value": "fixed"}]}, "rules"),
        ({"rules": [{"trigger": "sold", "action": "A"}]}, "rules"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_a_bad_destination_is_a_400_that_stores_nothing(api, change, field):
    response = api.post("/api/v1/destinations/", {**META, **change})
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Destination.objects.exists()


def test_the_same_trigger_and_action_twice_is_refused(api):
    rules = [{"trigger": "won", "action": "Purchase"}] * 2
    response = api.post("/api/v1/destinations/", {**META, "rules": rules})
    assert response.status_code == 400
    assert not Destination.objects.exists()


def test_only_an_admin_key_writes_destinations(api_for, account):
    for role in ("integration", "reporting", "finance"):
        client = api_for(account, role)
        assert client.post("/api/v1/destinations/", META).status_code == 403
        assert client.get("/api/v1/destinations/").status_code == 200
    assert not Destination.objects.exists()


def test_another_accounts_destination_and_conversions_are_404(api, other_account, api_for):
    theirs = make_destination(other_account, "meta")
    other = api_for(other_account)
    other.post("/api/v1/outcomes/", deal())
    row = Conversion.objects.get()
    assert api.get(f"/api/v1/destinations/{theirs.pk}/").status_code == 404
    assert api.patch(f"/api/v1/destinations/{theirs.pk}/", {"enabled": False}).status_code == 404
    assert api.get(f"/api/v1/conversions/{row.pk}/").status_code == 404
    assert api.post(f"/api/v1/conversions/{row.pk}/retry/").status_code == 404
    assert api.get("/api/v1/conversions/").json()["results"] == []


def test_a_destination_with_conversions_cannot_be_deleted(api, account):
    destination = make_destination(account, "meta")
    api.post("/api/v1/outcomes/", deal())
    response = api.delete(f"/api/v1/destinations/{destination.pk}/")
    assert response.status_code == 409
    assert "enabled=false" in response.json()["message"]
    empty = make_destination(account, "webhook", name="empty")
    assert api.delete(f"/api/v1/destinations/{empty.pk}/").status_code == 204


def test_conversions_list_filters_by_destination_status_and_outcome(api, account):
    meta = make_destination(account, "meta")
    hook = make_destination(account, "webhook", name="hook")
    api.post("/api/v1/outcomes/", deal("D1"))
    api.post("/api/v1/outcomes/", deal("D2"))
    Conversion.objects.filter(destination=hook).update(status="rejected", last_error_code="BAD")
    listed = api.get("/api/v1/conversions/").json()["results"]
    assert len(listed) == 4
    assert {
        row["status"]
        for row in api.get(f"/api/v1/conversions/?destination={meta.pk}").json()["results"]
    } == {"pending"}
    rejected = api.get("/api/v1/conversions/?status=rejected").json()["results"]
    assert [(r["destination"], r["last_error_code"]) for r in rejected] == [(hook.pk, "BAD")] * 2
    outcome_id = listed[0]["outcome"]
    assert {
        r["outcome"]
        for r in api.get(f"/api/v1/conversions/?outcome={outcome_id}").json()["results"]
    } == {outcome_id}
    assert api.get("/api/v1/conversions/?status=bogus").status_code == 400
    counts = api.get(f"/api/v1/destinations/{hook.pk}/").json()["counts"]
    assert (counts["rejected"], counts["pending"]) == (2, 0)


def test_retry_makes_a_rejected_row_due_again_and_refuses_an_accepted_one(api, account):
    make_destination(account, "meta")
    api.post("/api/v1/outcomes/", deal())
    row = Conversion.objects.get()
    Conversion.objects.update(status="rejected", attempts=3, last_error_code="BAD")
    response = api.post(f"/api/v1/conversions/{row.pk}/retry/")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["attempts"], body["last_error_code"]) == ("pending", 0, "")
    Conversion.objects.update(status="accepted")
    response = api.post(f"/api/v1/conversions/{row.pk}/retry/")
    assert response.status_code == 409
    assert Conversion.objects.get().status == "accepted"


def test_a_reporting_key_reads_conversions_but_cannot_retry(api_for, account):
    make_destination(account, "meta")
    api_for(account).post("/api/v1/outcomes/", deal())
    row = Conversion.objects.get()
    reporting = api_for(account, "reporting")
    assert reporting.get("/api/v1/conversions/").status_code == 200
    assert reporting.post(f"/api/v1/conversions/{row.pk}/retry/").status_code == 403
