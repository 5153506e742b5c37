"""HubSpot and Salesforce payloads mapped onto the outcomes upsert (attribution.outcomes.adapters),
and the account's own stage mappings at `/api/v1/crm-stages/`."""

from datetime import UTC, datetime, timedelta

import pytest

from attribution.models import Outcome, OutcomeChange
from tests.factories import CallFactory, CrmStageMappingFactory, OutcomeFactory

T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)
CALLER = "+14155552671"

# HubSpot's Webhooks API: a batch (a JSON list) of events.
HUBSPOT_EVENT = {
    "eventId": 1758398573,
    "subscriptionId": 2310947,
    "portalId": 62515,
    "appId": 1160452,
    "occurredAt": T0_MS,
    "subscriptionType": "deal.propertyChange",
    "attemptNumber": 0,
    "objectId": 1246965,
    "propertyName": "dealstage",
    "propertyValue": "closedwon",
    "changeSource": "CRM_UI",
}

# A deal-based workflow's "Send a webhook": the deal as the CRM API gives it (v1 shape).
HUBSPOT_WORKFLOW_DEAL = {
    "objectId": 1246965,
    "objectType": "DEAL",
    "portalId": 62515,
    "properties": {
        "dealname": {"value": "Boiler replacement"},
        "dealstage": {"value": "qualifiedtobuy"},
        "amount": {"value": "4200"},
        "deal_currency_code": {"value": "USD"},
        "phone": {"value": "(415) 555-2671"},
        "hs_lastmodifieddate": {"value": str(T0_MS)},
    },
}

# A Salesforce Opportunity as a Flow HTTP callout or Apex JSON.serialize sends it.
OPPORTUNITY = {
    "attributes": {"type": "Opportunity", "url": "/services/data/v61.0/sobjects/Opportunity/006"},
    "Id": "0065e00000Gx7QzAAJ",
    "Name": "Boiler replacement",
    "StageName": "Closed Won",
    "Amount": 4200.5,
    "CloseDate": "2026-11-02",
    "IsWon": True,
    "IsClosed": True,
    "LastModifiedDate": "2026-11-02T15:00:00.000+0000",
    "CurrencyIsoCode": "USD",
    "Account": {"attributes": {"type": "Account"}, "Phone": "(415) 555-2671"},
    "Contact": {"attributes": {"type": "Contact"}, "Email": "Ada@Example.com"},
}


@pytest.fixture
def call(account):
    return CallFactory(account=account, caller_e164=CALLER, started_at=T0 - timedelta(hours=1))


def test_a_hubspot_deal_stage_event_becomes_a_won_outcome_matched_later(api, account):
    response = api.post("/api/v1/outcomes/hubspot/", [HUBSPOT_EVENT])
    assert response.status_code == 201
    [outcome] = response.json()["outcomes"]
    assert {k: outcome[k] for k in ("crm", "external_id", "stage", "occurred_at", "value")} == {
        "crm": "hubspot",
        "external_id": "1246965",
        "stage": "won",
        "occurred_at": "2026-11-02T15:00:00Z",
        "value": None,
    }
    assert response.json()["ignored"] == []


def test_hubspot_events_of_other_properties_and_objects_are_ignored(api):
    events = [
        {**HUBSPOT_EVENT, "propertyName": "amount", "propertyValue": "10"},
        {**HUBSPOT_EVENT, "subscriptionType": "contact.propertyChange"},
        {**HUBSPOT_EVENT, "subscriptionType": "object.propertyChange", "objectTypeId": "0-1"},
        {**HUBSPOT_EVENT, "subscriptionType": "object.propertyChange", "objectTypeId": "0-3"},
    ]
    response = api.post("/api/v1/outcomes/hubspot/", events)
    assert response.status_code == 201
    assert response.json()["ignored"] == [
        {"index": 0, "reason": "Only dealstage changes are outcomes, not 'amount'."},
        {"index": 1, "reason": "Not a deal event (contact.propertyChange)."},
        {"index": 2, "reason": "Not a deal (objectTypeId '0-1')."},
    ]
    assert list(Outcome.objects.values_list("stage", flat=True)) == ["won"]


def test_two_stage_changes_of_one_deal_in_a_batch_keep_the_latest(api):
    events = [
        {**HUBSPOT_EVENT, "propertyValue": "closedwon", "occurredAt": T0_MS + 60_000},
        {**HUBSPOT_EVENT, "propertyValue": "qualifiedtobuy", "occurredAt": T0_MS},
    ]
    response = api.post("/api/v1/outcomes/hubspot/", events)
    assert response.json()["ignored"] == [
        {"index": 1, "reason": "Superseded by a later event of deal 1246965 in this batch."}
    ]
    assert Outcome.objects.get().stage == "won"


def test_a_hubspot_workflow_deal_carries_value_currency_and_phone(api, call):
    response = api.post("/api/v1/outcomes/hubspot/", HUBSPOT_WORKFLOW_DEAL)
    assert response.status_code == 201
    [outcome] = response.json()["outcomes"]
    assert {
        k: outcome[k]
        for k in ("stage", "value", "currency", "caller_number", "call", "match_method")
    } == {
        "stage": "qualified",
        "value": "4200.0000",
        "currency": "USD",
        "caller_number": CALLER,
        "call": call.pk,
        "match_method": "phone",
    }


def test_a_hubspot_stage_change_keeps_the_deals_value_and_call(api, call):
    api.post("/api/v1/outcomes/hubspot/", HUBSPOT_WORKFLOW_DEAL)
    later = {**HUBSPOT_EVENT, "occurredAt": T0_MS + 86_400_000}
    response = api.post("/api/v1/outcomes/hubspot/", [later])
    assert response.status_code == 200
    stored = Outcome.objects.get()
    assert (stored.stage, stored.value, stored.call_id) == ("won", 4200, call.pk)
    assert OutcomeChange.objects.filter(outcome=stored).last().changes == {
        "stage": ["qualified", "won"],
        "occurred_at": ["2026-11-02T15:00:00Z", "2026-11-03T15:00:00Z"],
    }


def test_a_custom_hubspot_stage_needs_the_accounts_mapping(api):
    custom = [{**HUBSPOT_EVENT, "propertyValue": "98765432"}]
    refused = api.post("/api/v1/outcomes/hubspot/", custom)
    assert refused.status_code == 400
    assert refused.json()["errors"] == [
        {
            "dealstage": [
                "HubSpot stage '98765432' is not mapped to an outcome stage: map it with "
                'POST /api/v1/crm-stages/ {"crm": "hubspot", "crm_stage": "98765432", '
                '"stage": "lead|qualified|won|lost"}.'
            ]
        }
    ]
    assert not Outcome.objects.exists()

    mapping = {"crm": "hubspot", "crm_stage": "98765432", "stage": "qualified"}
    assert api.post("/api/v1/crm-stages/", mapping).status_code == 201
    assert api.post("/api/v1/outcomes/hubspot/", custom).status_code == 201
    assert Outcome.objects.get().stage == "qualified"


def test_the_accounts_mapping_overrides_a_default_stage_and_closed_flags_fill_the_gaps(
    api, account
):
    CrmStageMappingFactory(account=account, crm="hubspot", crm_stage="closedwon", stage="lost")
    api.post("/api/v1/outcomes/hubspot/", [HUBSPOT_EVENT])
    assert Outcome.objects.get().stage == "lost"
    flagged = {
        "objectId": 5,
        "properties": {"dealstage": "4711", "hs_is_closed": "true", "hs_is_closed_won": "true"},
    }
    api.post("/api/v1/outcomes/hubspot/", flagged)
    assert Outcome.objects.get(external_id="5").stage == "won"


def test_a_hubspot_batch_with_one_bad_event_stores_nothing(api):
    events = [
        HUBSPOT_EVENT,
        {**HUBSPOT_EVENT, "objectId": 2, "propertyName": "amount"},
        {"objectId": 3, "properties": {"dealstage": "closedwon", "deal_currency_code": "EUR"}},
    ]
    response = api.post("/api/v1/outcomes/hubspot/", events)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {},
        {},
        {
            "currency": [
                "This account reports in USD; got EUR. Convert the value before sending it."
            ]
        },
    ]
    assert not Outcome.objects.exists()


def test_hubspot_payloads_that_are_not_json_objects_are_a_400(api):
    response = api.post("/api/v1/outcomes/hubspot/", "closedwon")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "non_field_errors": [
            "Send HubSpot webhook events or a deal object as a JSON object or a list of them."
        ]
    }


def test_a_salesforce_opportunity_is_won_with_its_amount_and_matched_by_phone(api, call):
    response = api.post("/api/v1/outcomes/salesforce/", OPPORTUNITY)
    assert response.status_code == 201
    [outcome] = response.json()["outcomes"]
    assert {
        k: outcome[k]
        for k in ("crm", "external_id", "stage", "value", "occurred_at", "email", "call")
    } == {
        "crm": "salesforce",
        "external_id": "0065e00000Gx7QzAAJ",
        "stage": "won",
        "value": "4200.5000",
        "occurred_at": "2026-11-02T15:00:00Z",
        "email": "ada@example.com",
        "call": call.pk,
    }
    assert outcome["match_method"] == "phone"


@pytest.mark.parametrize(
    ("fields", "stage"),
    [
        ({"StageName": "Prospecting", "IsWon": False, "IsClosed": False}, "lead"),
        ({"StageName": "Negotiation/Review", "IsWon": False, "IsClosed": False}, "qualified"),
        ({"StageName": "Lost to competitor", "IsWon": False, "IsClosed": True}, "lost"),
        ({"StageName": "Signed", "IsWon": True, "IsClosed": True}, "won"),
        ({"StageName": "Closed Lost", "IsWon": None, "IsClosed": None}, "lost"),
    ],
)
def test_salesforce_stages_follow_the_flags_then_the_standard_picklist(api, fields, stage):
    response = api.post("/api/v1/outcomes/salesforce/", {**OPPORTUNITY, **fields})
    assert response.status_code == 201
    assert Outcome.objects.get().stage == stage


def test_a_salesforce_query_result_is_a_batch_and_other_objects_are_ignored(api, account):
    CrmStageMappingFactory(
        account=account, crm="salesforce", crm_stage="Site visit", stage="qualified"
    )
    payload = {
        "totalSize": 3,
        "done": True,
        "records": [
            {
                **OPPORTUNITY,
                "Id": "006A",
                "StageName": "Site visit",
                "IsWon": False,
                "IsClosed": False,
            },
            {"attributes": {"type": "Lead"}, "Id": "00QA"},
            {**OPPORTUNITY, "Id": "006B", "Amount": None},
        ],
    }
    response = api.post("/api/v1/outcomes/salesforce/", payload)
    assert response.status_code == 201
    assert response.json()["ignored"] == [{"index": 1, "reason": "Not an Opportunity (Lead)."}]
    assert dict(Outcome.objects.values_list("external_id", "stage")) == {
        "006A": "qualified",
        "006B": "won",
    }


def test_an_unmapped_open_salesforce_stage_is_a_400_naming_it(api):
    body = [{**OPPORTUNITY, "StageName": "Site visit", "IsWon": False, "IsClosed": False}]
    response = api.post("/api/v1/outcomes/salesforce/", body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["StageName"][0].startswith(
        "Salesforce stage 'Site visit' is not mapped to an outcome stage"
    )
    assert not Outcome.objects.exists()


def test_crm_webhooks_write_history_by_the_key_and_need_a_writing_role(api_for, account):
    from campaigns.models import Role

    assert (
        api_for(account, Role.REPORTING)
        .post("/api/v1/outcomes/salesforce/", OPPORTUNITY)
        .status_code
        == 403
    )
    integration = api_for(account, Role.INTEGRATION)
    integration.post("/api/v1/outcomes/salesforce/", OPPORTUNITY)
    assert OutcomeChange.objects.get().actor.endswith("(integration)")


def test_a_crm_stage_mapping_is_unique_per_account_crm_and_stage(api, account, other_account):
    CrmStageMappingFactory(account=other_account, crm="hubspot", crm_stage="1", stage="won")
    body = {"crm": "hubspot", "crm_stage": "1", "stage": "won"}
    assert api.post("/api/v1/crm-stages/", body).status_code == 201
    again = api.post("/api/v1/crm-stages/", body)
    assert again.status_code == 400
    assert again.json()["errors"] == {"crm_stage": ["This account already maps hubspot stage '1'."]}
    bad = api.post("/api/v1/crm-stages/", {**body, "crm": "pipedrive", "stage": "closed"})
    assert set(bad.json()["errors"]) == {"crm", "stage"}


def test_crm_outcomes_never_touch_another_accounts_deal(api, other_account):
    theirs = OutcomeFactory(account=other_account, crm="hubspot", external_id="1246965")
    api.post("/api/v1/outcomes/hubspot/", [HUBSPOT_EVENT])
    theirs.refresh_from_db()
    assert theirs.stage == "lead"
    assert Outcome.objects.count() == 2
