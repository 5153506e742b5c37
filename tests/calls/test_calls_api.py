"""`/api/v1/calls/`: batch upserts, bad input, anonymous callers, filters, PATCH, blocklist."""

import pytest

from calls.models import BlockedNumber, Call
from campaigns.models import Role
from tests.factories import CallFactory, CampaignFactory, StaticNumberFactory


@pytest.fixture
def number(account):
    return StaticNumberFactory(campaign=CampaignFactory(account=account), e164="+12125550170")


def call(external_id="CA1", **extra):
    return {
        "provider": "acme-voip",
        "external_id": external_id,
        "tracking_number": "(212) 555-0170",
        "caller_number": "+1 415 555 2671",
        "started_at": "2026-11-02T15:04:05Z",
        "duration_seconds": 95,
        "status": "answered",
        "talk_seconds": 80,
        **extra,
    }


def test_a_call_is_stored_normalised_and_attributed_to_its_static_number(api, number):
    response = api.post("/api/v1/calls/", call())
    assert response.status_code == 201
    body = response.json()
    assert {
        k: body[k]
        for k in (
            "tracking_number",
            "caller_number",
            "status",
            "duration_seconds",
            "talk_seconds",
            "campaign",
            "keyword",
            "session",
            "confidence",
            "spam",
            "first_time_caller",
        )
    } == {
        "tracking_number": "+12125550170",
        "caller_number": "+14155552671",
        "status": "answered",
        "duration_seconds": 95,
        "talk_seconds": 80,
        "campaign": number.campaign_id,
        "keyword": None,
        "session": None,
        "confidence": "static",
        "spam": False,
        "first_time_caller": True,
    }


def test_a_retried_batch_changes_nothing(api, number):
    batch = [call("CA1"), call("CA2", status="missed", talk_seconds=0)]
    first, second = api.post("/api/v1/calls/", batch), api.post("/api/v1/calls/", batch)
    assert (first.status_code, second.status_code) == (201, 200)
    assert [c["id"] for c in first.json()] == [c["id"] for c in second.json()]
    assert Call.objects.count() == 2


def test_a_later_report_never_moves_a_call_backwards(api, number):
    api.post("/api/v1/calls/", call(status="answered"))
    response = api.post(
        "/api/v1/calls/", call(status="ringing", duration_seconds=0, talk_seconds=None)
    )
    assert response.status_code == 200
    stored = Call.objects.get()
    assert (stored.status, stored.duration_seconds, stored.talk_seconds) == ("answered", 95, 80)


@pytest.mark.parametrize(
    "caller", ["anonymous", "Restricted", "+266696687", "client:alice", "", None, "+1 555 555 0100"]
)
def test_withheld_and_invalid_callers_are_stored_as_no_number(api, number, caller):
    response = api.post("/api/v1/calls/", call(caller_number=caller))
    assert response.status_code == 201
    stored = Call.objects.get()
    assert stored.caller_e164 == ""
    assert stored.caller_raw == (caller or "").strip()
    assert response.json()["caller_number"] is None
    assert stored.spam is False  # a withheld caller ID alone is not spam


def test_a_vanity_caller_is_that_number(api, number):
    api.post("/api/v1/calls/", call(caller_number="1-800-FLOWERS"))
    assert Call.objects.get().caller_e164 == "+18003569377"


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"caller_number": "12ab"}, "caller_number", "'12ab' is not a phone number"),
        ({"tracking_number": "hello"}, "tracking_number", "'hello' is not a valid phone number"),
        ({"status": "completed"}, "status", '"completed" is not a valid choice.'),
        (
            {"duration_seconds": -1},
            "duration_seconds",
            "Ensure this value is greater than or equal to 0.",
        ),
        ({"talk_seconds": 200}, "talk_seconds", "Cannot be longer than duration_seconds."),
        (
            {"started_at": "yesterday"},
            "started_at",
            "Datetime has wrong format. Use one of these formats instead: "
            "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
        ),
        ({"recording_url": "not a url"}, "recording_url", "Enter a valid URL."),
        ({"colour": "red"}, "colour", "Unknown field."),
    ],
)
def test_a_batch_with_one_bad_call_stores_nothing(api, number, extra, field, message):
    response = api.post("/api/v1/calls/", [call("CA1"), call("CA2", **extra)])
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors[0] == {}
    assert errors[1][field] == [message]
    assert not Call.objects.exists()


def test_a_batch_answers_with_what_the_calls_endpoint_shows(api, number):
    batch = [
        call("CA1"),
        call("CA2", caller_number="anonymous", talk_seconds=None, agent="Ann", transferred=True),
        call("CA3", started_at="2026-11-01T10:00:00.123456+02:00", recording_url="https://r.ex/3"),
        call("CA4", tracking_number="+16465559876", status="missed", talk_seconds=0),
    ]
    for expected_status in (201, 200):
        response = api.post("/api/v1/calls/", batch)
        assert response.status_code == expected_status
        shown = {c["id"]: c for c in api.get("/api/v1/calls/").json()["results"]}
        assert response.json() == [shown[c["id"]] for c in response.json()]
        assert [c["external_id"] for c in response.json()] == ["CA1", "CA2", "CA3", "CA4"]
        assert [c["first_time_caller"] for c in response.json()] == [False, None, True, False]


def test_the_same_call_twice_in_one_batch_is_refused(api, number):
    response = api.post("/api/v1/calls/", [call("CA1"), call("CA1")])
    assert response.json()["errors"][1] == {
        "external_id": ["Same provider and external_id as item 0."]
    }


def test_batches_over_1000_calls_are_refused(api, number):
    response = api.post("/api/v1/calls/", [call(f"CA{i}") for i in range(1001)])
    assert response.status_code == 400
    assert not Call.objects.exists()


def test_a_reporting_key_cannot_post_calls(api_for, account, number):
    assert api_for(account, Role.REPORTING).post("/api/v1/calls/", call()).status_code == 403


def test_calls_filter_by_caller_in_any_format_status_and_range(api, account, number):
    api.post(
        "/api/v1/calls/",
        [
            call("CA1"),
            call("CA2", caller_number="+12025550111", status="missed", talk_seconds=0),
            call("CA3", started_at="2026-10-01T10:00:00Z"),
        ],
    )
    by_caller = api.get("/api/v1/calls/", {"caller": "(415) 555-2671"}).json()["results"]
    assert sorted(c["external_id"] for c in by_caller) == ["CA1", "CA3"]
    missed = api.get("/api/v1/calls/", {"status": "missed"}).json()["results"]
    assert [c["external_id"] for c in missed] == ["CA2"]
    november = api.get("/api/v1/calls/", {"start": "2026-11-01T00:00:00Z"}).json()["results"]
    assert sorted(c["external_id"] for c in november) == ["CA1", "CA2"]
    repeat = api.get("/api/v1/calls/", {"external_id": "CA1"}).json()["results"][0]
    assert repeat["first_time_caller"] is False  # CA3 came from the same caller earlier


def test_patch_marks_spam_and_sets_the_agent(api, account, number):
    created = api.post("/api/v1/calls/", call()).json()
    response = api.patch(f"/api/v1/calls/{created['id']}/", {"spam": True, "agent": "Dana"})
    assert response.status_code == 200
    assert (response.json()["spam"], response.json()["spam_reason"], response.json()["agent"]) == (
        True,
        "user",
        "Dana",
    )
    bad = api.patch(f"/api/v1/calls/{created['id']}/", {"status": "missed"})
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"status": ["Unknown field."]}


def test_blocking_a_caller_marks_their_calls_and_unblocking_restores_them(api, account, number):
    api.post("/api/v1/calls/", [call("CA1"), call("CA2")])
    response = api.post("/api/v1/blocklist/", {"e164": "415-555-2671", "reason": "robocaller"})
    assert response.status_code == 201
    assert response.json()["e164"] == "+14155552671"
    assert list(Call.objects.values_list("spam", "spam_reason").distinct()) == [(True, "blocklist")]
    api.post("/api/v1/calls/", call("CA3"))  # a new call of a blocked caller is spam at once
    assert Call.objects.get(external_id="CA3").spam_reason == "blocklist"
    blocked = BlockedNumber.objects.get()
    assert api.delete(f"/api/v1/blocklist/{blocked.pk}/").status_code == 204
    assert not Call.objects.filter(spam=True).exists()


def test_a_blocklist_entry_must_be_a_valid_number(api):
    response = api.post("/api/v1/blocklist/", {"e164": "anonymous"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"e164": ["'anonymous' is not a valid phone number"]}


def test_listing_calls_takes_a_constant_number_of_queries(
    api, account, number, django_assert_max_num_queries
):
    for i in range(30):
        CallFactory(
            account=account,
            tracking_number=number,
            campaign=number.campaign,
            caller_e164=f"+1415555{i:04d}",
        )
    api.get("/api/v1/calls/")
    with django_assert_max_num_queries(3):
        assert len(api.get("/api/v1/calls/").json()["results"]) == 30


def test_the_admin_refuses_a_blocklist_entry_that_is_not_a_number(admin_client, account):
    response = admin_client.post(
        "/admin/calls/blockednumber/add/", {"account": account.pk, "e164": "hello", "reason": ""}
    )
    assert response.status_code == 200
    assert "is not a phone number" in response.content.decode()
    assert not BlockedNumber.objects.exists()
    admin_client.post(
        "/admin/calls/blockednumber/add/", {"account": account.pk, "e164": "202 555 0123"}
    )
    assert BlockedNumber.objects.get().e164 == "+12025550123"
