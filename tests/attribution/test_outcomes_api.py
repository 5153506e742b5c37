"""`/api/v1/outcomes/`: upserts one by one and in lists, stage progression with its history,
value corrections, bad input that stores nothing, filters and the detail route."""

from datetime import UTC, datetime, timedelta

import pytest

from attribution.models import Outcome, OutcomeChange
from calls.models import Call
from campaigns.models import Role
from tests.factories import CallFactory, OutcomeFactory

T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def deal(external_id="D1", **extra):
    return {
        "crm": "hubspot",
        "external_id": external_id,
        "stage": "lead",
        "occurred_at": "2026-11-02T16:00:00Z",
        **extra,
    }


def history(outcome_id) -> list[tuple[str, dict]]:
    rows = OutcomeChange.objects.filter(outcome_id=outcome_id).order_by("changed_at", "pk")
    return [(row.actor, row.changes) for row in rows]


@pytest.fixture
def key_actor(api):
    """The history's name for the `api` fixture's key (its only admin key)."""
    from campaigns.models import ApiKey

    key = ApiKey.objects.get(role=Role.ADMIN)
    return f"api-key:{key.pk} (admin)"


def test_an_outcome_naming_our_call_is_stored_and_matched_by_call(api, account, key_actor):
    call = CallFactory(account=account, started_at=T0)
    response = api.post("/api/v1/outcomes/", deal(call=call.pk, value="1200.50"))
    assert response.status_code == 201
    body = response.json()
    assert {k: v for k, v in body.items() if k not in ("id", "created_at", "updated_at")} == {
        "crm": "hubspot",
        "external_id": "D1",
        "call": call.pk,
        "call_external_id": "",
        "caller_number": None,
        "caller_raw": "",
        "email": "",
        "stage": "lead",
        "value": "1200.5000",
        "currency": "USD",
        "occurred_at": "2026-11-02T16:00:00Z",
        "match_method": "call",
    }
    assert history(body["id"]) == [
        (
            key_actor,
            {
                "stage": [None, "lead"],
                "value": [None, "1200.5000"],
                "currency": [None, "USD"],
                "occurred_at": [None, "2026-11-02T16:00:00Z"],
                "call": [None, call.pk],
                "match_method": [None, "call"],
            },
        )
    ]


def test_an_outcome_naming_a_providers_external_id_is_matched_by_call(api, account):
    call = CallFactory(account=account, provider="acme-voip", external_id="X-77", started_at=T0)
    CallFactory(provider="acme-voip", external_id="X-77")  # another account's: never a match
    response = api.post("/api/v1/outcomes/", deal(call_external_id="X-77"))
    assert response.status_code == 201
    assert (response.json()["call"], response.json()["match_method"]) == (call.pk, "call")


def test_an_external_id_two_providers_share_is_refused_asking_for_call(api, account):
    CallFactory(account=account, provider="twilio", external_id="X-77")
    CallFactory(account=account, provider="acme-voip", external_id="X-77")
    response = api.post("/api/v1/outcomes/", [deal("D1"), deal("D2", call_external_id="X-77")])
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {},
        {
            "call_external_id": [
                "'X-77' names 2 calls (providers acme-voip, twilio): "
                "send `call` with our call id instead."
            ]
        },
    ]
    single = api.post("/api/v1/outcomes/", deal(call_external_id="X-77"))
    assert single.status_code == 400
    assert single.json()["errors"]["call_external_id"][0].startswith("'X-77' names 2 calls")
    assert not Outcome.objects.exists()


def test_a_deal_moves_through_its_stages_and_each_change_is_in_its_history(api, account, key_actor):
    first = api.post("/api/v1/outcomes/", deal(occurred_at="2026-11-02T16:00:00Z"))
    second = api.post(
        "/api/v1/outcomes/", deal(stage="qualified", occurred_at="2026-11-03T10:00:00Z")
    )
    third = api.post(
        "/api/v1/outcomes/",
        deal(stage="won", value="900", occurred_at="2026-11-05T09:30:00Z"),
    )
    assert [r.status_code for r in (first, second, third)] == [201, 200, 200]
    outcome = Outcome.objects.get()
    assert (outcome.stage, outcome.value) == ("won", 900)
    assert history(outcome.pk)[1:] == [
        (
            key_actor,
            {
                "stage": ["lead", "qualified"],
                "occurred_at": ["2026-11-02T16:00:00Z", "2026-11-03T10:00:00Z"],
            },
        ),
        (
            key_actor,
            {
                "stage": ["qualified", "won"],
                "value": [None, "900.0000"],
                "currency": ["", "USD"],
                "occurred_at": ["2026-11-03T10:00:00Z", "2026-11-05T09:30:00Z"],
            },
        ),
    ]
    detail = api.get(f"/api/v1/outcomes/{outcome.pk}/").json()
    assert [entry["changes"].get("stage") for entry in detail["history"]] == [
        [None, "lead"],
        ["lead", "qualified"],
        ["qualified", "won"],
    ]
    assert {entry["actor"] for entry in detail["history"]} == {key_actor}


def test_a_value_correction_is_applied_and_recorded(api, account, key_actor):
    api.post("/api/v1/outcomes/", deal(stage="won", value="1000.00"))
    response = api.post("/api/v1/outcomes/", deal(stage="won", value="950.25"))
    assert response.status_code == 200
    assert response.json()["value"] == "950.2500"
    assert history(response.json()["id"])[-1] == (
        key_actor,
        {"value": ["1000.0000", "950.2500"]},
    )


def test_a_value_on_a_lead_is_allowed_and_defaults_to_the_accounts_currency(api):
    response = api.post("/api/v1/outcomes/", deal(stage="lead", value="50"))
    assert response.status_code == 201
    assert (response.json()["value"], response.json()["currency"]) == ("50.0000", "USD")


def test_an_identical_repost_changes_nothing_and_writes_no_history(api):
    body = deal(stage="qualified", value="10", caller_number="(415) 555-2671", email="A@x.com")
    first = api.post("/api/v1/outcomes/", body).json()
    again = api.post("/api/v1/outcomes/", body)
    assert again.status_code == 200
    assert again.json() == first
    assert OutcomeChange.objects.count() == 1


def test_a_report_about_an_earlier_moment_than_the_stored_one_changes_nothing(api):
    api.post("/api/v1/outcomes/", deal(stage="won", occurred_at="2026-11-05T09:00:00Z"))
    late = api.post("/api/v1/outcomes/", deal(stage="qualified", value="5"))
    assert late.status_code == 200
    assert (late.json()["stage"], late.json()["value"]) == ("won", None)
    assert OutcomeChange.objects.count() == 1


def test_a_field_left_out_keeps_its_value_and_null_clears_it(api):
    api.post("/api/v1/outcomes/", deal(value="70", email="ada@example.com"))
    kept = api.post("/api/v1/outcomes/", deal(stage="qualified")).json()
    assert (kept["value"], kept["email"]) == ("70.0000", "ada@example.com")
    cleared = api.post("/api/v1/outcomes/", deal(stage="qualified", value=None)).json()
    assert cleared["value"] is None


@pytest.mark.parametrize(
    ("body", "currency"),
    [(deal(value="10", currency="EUR"), "EUR"), (deal(currency="gbp"), "GBP")],
)
def test_a_currency_other_than_the_accounts_is_a_400_that_stores_nothing(api, body, currency):
    response = api.post("/api/v1/outcomes/", body)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "currency": [
            f"This account reports in USD; got {currency}. Convert the value before sending it."
        ]
    }
    assert not Outcome.objects.exists()
    assert not OutcomeChange.objects.exists()


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"stage": "closed"}, "stage", '"closed" is not a valid choice.'),
        ({"value": "-1"}, "value", "Ensure this value is greater than or equal to 0."),
        ({"value": "1.23456"}, "value", "Ensure that there are no more than 4 decimal places."),
        ({"caller_number": "12ab"}, "caller_number", "'12ab' is not a phone number"),
        ({"email": "nope"}, "email", "Enter a valid email address."),
        (
            {"currency": "EUR"},
            "currency",
            "This account reports in USD; got EUR. Convert the value before sending it.",
        ),
        ({"call": 10**9}, "call", f"No call with id {10**9} in this account."),
        (
            {"occurred_at": "yesterday"},
            "occurred_at",
            "Datetime has wrong format. Use one of "
            "these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
        ),
        ({"colour": "red"}, "colour", "Unknown field."),
    ],
)
def test_a_list_with_one_bad_outcome_stores_nothing(api, account, extra, field, message):
    OutcomeFactory(account=account, crm="hubspot", external_id="D0", stage="lead")
    body = [deal("D0", stage="won"), deal("D1"), deal("D2", **extra)]
    response = api.post("/api/v1/outcomes/", body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors[:2] == [{}, {}]
    assert errors[2][field] == [message]
    assert list(Outcome.objects.values_list("external_id", "stage")) == [("D0", "lead")]
    assert not OutcomeChange.objects.exists()


def test_the_same_deal_twice_in_one_list_is_refused(api):
    response = api.post("/api/v1/outcomes/", [deal("D1"), deal("D1", stage="won")])
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {},
        {"external_id": ["Same crm and external_id as item 0."]},
    ]
    assert not Outcome.objects.exists()


def test_lists_over_1000_outcomes_are_refused(api):
    response = api.post("/api/v1/outcomes/", [deal(f"D{i}") for i in range(1001)])
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "non_field_errors": ["Ensure this field has no more than 1000 elements."]
    }
    assert not Outcome.objects.exists()


def test_a_list_answers_a_list_in_order_201_when_any_is_new(api, account):
    OutcomeFactory(account=account, crm="hubspot", external_id="D2", stage="lead")
    response = api.post("/api/v1/outcomes/", [deal("D3"), deal("D2")])
    assert response.status_code == 201
    assert [o["external_id"] for o in response.json()] == ["D3", "D2"]
    assert api.post("/api/v1/outcomes/", [deal("D3"), deal("D2")]).status_code == 200


@pytest.mark.parametrize("caller", ["anonymous", "+266696687", "", None, "+1 555 555 0100"])
def test_a_withheld_or_invalid_caller_is_kept_as_no_number(api, caller):
    response = api.post("/api/v1/outcomes/", deal(caller_number=caller))
    assert response.status_code == 201
    stored = Outcome.objects.get()
    assert (stored.caller_e164, stored.caller_raw) == ("", (caller or "").strip())
    assert (response.json()["caller_number"], response.json()["match_method"]) == (
        None,
        "unmatched",
    )


def test_a_reporting_key_cannot_post_outcomes_but_reads_them(api_for, account):
    reporting = api_for(account, Role.REPORTING)
    assert reporting.post("/api/v1/outcomes/", deal()).status_code == 403
    assert reporting.get("/api/v1/outcomes/").status_code == 200
    assert not Outcome.objects.exists()


def test_outcomes_filter_by_stage_crm_method_call_external_id_and_range(api, account):
    call = CallFactory(account=account, started_at=T0)
    api.post(
        "/api/v1/outcomes/",
        [
            deal("D1", call=call.pk, stage="won", occurred_at="2026-11-02T16:00:00Z"),
            deal("D2", crm="salesforce", occurred_at="2026-11-10T16:00:00Z"),
            deal("D3", stage="won", occurred_at="2026-10-01T16:00:00Z"),
        ],
    )

    def ids(**params):
        return sorted(
            o["external_id"] for o in api.get("/api/v1/outcomes/", params).json()["results"]
        )

    assert ids(stage="won") == ["D1", "D3"]
    assert ids(crm="salesforce") == ["D2"]
    assert ids(match_method="unmatched") == ["D2", "D3"]
    assert ids(call=call.pk) == ["D1"]
    assert ids(external_id="D3") == ["D3"]
    assert ids(start="2026-11-01T00:00:00Z", end="2026-11-10T16:00:00Z") == ["D1"]
    assert api.get("/api/v1/outcomes/", {"stage": "closed"}).status_code == 400


def test_the_list_is_newest_first_and_cursor_paginated(api):
    api.post(
        "/api/v1/outcomes/",
        [deal(f"D{day}", occurred_at=f"2026-11-{day:02d}T10:00:00Z") for day in range(1, 6)],
    )
    page = api.get("/api/v1/outcomes/", {"page_size": 2}).json()
    assert [o["external_id"] for o in page["results"]] == ["D5", "D4"]
    assert page["previous"] is None
    following = api.get(page["next"]).json()
    assert [o["external_id"] for o in following["results"]] == ["D3", "D2"]


def test_a_batch_of_outcomes_takes_a_bounded_number_of_queries(
    api, account, django_assert_max_num_queries
):
    for i in range(20):
        CallFactory(account=account, caller_e164=f"+1415555{i:04d}", started_at=T0)
    body = [
        deal(f"D{i}", caller_number=f"+1415555{i:04d}", email=f"c{i}@example.com")
        for i in range(200)
    ]
    # auth, touch, lock, 3 candidate reads, insert, history, spam, savepoints; not per item.
    with django_assert_max_num_queries(16):
        response = api.post("/api/v1/outcomes/", body)
    assert response.status_code == 201
    assert Outcome.objects.filter(match_method="phone").count() == 20


def test_a_call_of_another_account_is_a_400_naming_the_field(api, other_account):
    theirs = CallFactory(account=other_account)
    response = api.post("/api/v1/outcomes/", deal(call=theirs.pk))
    assert response.status_code == 400
    assert response.json()["errors"] == {"call": [f"No call with id {theirs.pk} in this account."]}
    assert Call.objects.get(pk=theirs.pk).outcomes.count() == 0


def test_the_detail_of_another_accounts_outcome_is_404(api, other_account):
    theirs = OutcomeFactory(account=other_account, occurred_at=T0 + timedelta(hours=1))
    assert api.get(f"/api/v1/outcomes/{theirs.pk}/").status_code == 404
