"""The outbox's rows: written with the outcome or call in one transaction, one per destination
rule, never twice; rebuilt while unsent; restated where the platform takes a correction."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from attribution.models import Conversion, Outcome
from calls.models import CallStatus
from calls.services import CallInput, record_calls
from tests.attribution.conversion_helpers import make_destination, won_rule
from tests.factories import CallFactory, SessionFactory

NOW = timezone.now().replace(microsecond=0)


def deal(external_id="D1", **extra):
    return {
        "crm": "hubspot",
        "external_id": external_id,
        "stage": "won",
        "value": "150.00",
        "caller_number": "+14155550100",
        "occurred_at": NOW.isoformat(),
        **extra,
    }


def rows(**filters):
    return list(Conversion.objects.filter(**filters).order_by("destination_id", "dedup_key"))


def test_a_won_outcome_writes_one_pending_row_per_destination(api, account):
    meta = make_destination(account, "meta", rules=[won_rule("Purchase")])
    hook = make_destination(account, "webhook", rules=[won_rule("deal.won")])
    response = api.post("/api/v1/outcomes/", deal())
    assert response.status_code == 201
    outcome = Outcome.objects.get()
    found = rows()
    assert [(r.destination_id, r.status, r.trigger, r.value) for r in found] == [
        (meta.pk, "pending", "won", Decimal("150.0000")),
        (hook.pk, "pending", "won", Decimal("150.0000")),
    ]
    assert all(r.outcome_id == outcome.pk and r.account_id == account.pk for r in found)
    assert found[0].dedup_key.startswith(f"cp-o{outcome.pk}-won-")
    assert found[0].payload["event_id"] == found[0].dedup_key
    assert found[0].payload["action_source"] == "phone_call"


def test_resaving_the_outcome_never_makes_a_second_row(api, account):
    make_destination(account, "meta")
    assert api.post("/api/v1/outcomes/", deal()).status_code == 201
    first = rows()
    assert api.post("/api/v1/outcomes/", deal()).status_code == 200
    assert (
        api.post("/api/v1/outcomes/", deal(value="150.00", email="a@example.com")).status_code
        == 200
    )
    again = rows()
    assert [r.pk for r in again] == [r.pk for r in first]
    assert again[0].payload["user_data"]["em"]  # rebuilt while unsent: the email now counts


def test_a_stage_no_rule_maps_writes_nothing(api, account):
    make_destination(account, "meta", rules=[won_rule("Purchase")])
    assert api.post("/api/v1/outcomes/", deal(stage="lead")).status_code == 201
    assert rows() == []


def test_a_disabled_destination_gets_no_rows(api, account):
    make_destination(account, "meta", enabled=False)
    assert api.post("/api/v1/outcomes/", deal()).status_code == 201
    assert rows() == []


def test_a_rejected_outcome_writes_no_conversion(api, account):
    make_destination(account, "meta")
    response = api.post("/api/v1/outcomes/", [deal("D1"), deal("D2", caller_number="12ab")])
    assert response.status_code == 400
    assert rows() == []
    assert not Outcome.objects.exists()


def test_another_accounts_rules_are_not_used(api, account, other_account):
    make_destination(other_account, "meta")
    assert api.post("/api/v1/outcomes/", deal()).status_code == 201
    assert rows() == []


def test_nothing_to_match_on_is_skipped_with_the_reason(api, account):
    make_destination(account, "meta")
    body = deal()
    del body["caller_number"]
    assert api.post("/api/v1/outcomes/", body).status_code == 201
    [row] = rows()
    assert row.status == "skipped"
    assert row.skip_reason == "no click id, phone number or email to match on"
    assert row.next_attempt_at is None
    assert row.payload == {}


def test_a_call_matched_later_brings_its_click_id_into_the_unsent_row(api, account):
    make_destination(account, "google_ads", rules=[won_rule("987654321")])
    assert api.post("/api/v1/outcomes/", deal()).status_code == 201
    [row] = rows()
    assert "gclid" not in row.payload
    session = SessionFactory(
        account=account, gclid="Cj0-test-gclid", started_at=NOW - dt.timedelta(hours=1)
    )
    CallFactory(
        account=account,
        caller_e164="+14155550100",
        started_at=NOW - dt.timedelta(minutes=30),
        session=session,
    )
    from attribution.outcomes.matching import match_waiting_outcomes

    call_ids = list(account.calls.values_list("pk", flat=True))
    assert match_waiting_outcomes(account=account, call_ids=call_ids) == 1
    [row] = rows()
    assert row.payload["gclid"] == "Cj0-test-gclid"
    assert row.call_id == call_ids[0]


def test_a_value_corrected_after_delivery_is_restated_where_the_platform_takes_it(api, account):
    microsoft = make_destination(account, "microsoft_ads", rules=[won_rule("Phone sale")])
    meta = make_destination(account, "meta")
    google = make_destination(account, "google_ads", rules=[won_rule("987654321")])
    assert api.post("/api/v1/outcomes/", deal()).status_code == 201
    Conversion.objects.update(status="accepted", sent_at=NOW)
    later = (NOW + dt.timedelta(minutes=5)).isoformat()
    assert api.post("/api/v1/outcomes/", deal(value="175.00", occurred_at=later)).status_code == 200
    [original, restated] = rows(destination=microsoft)
    assert restated.dedup_key == f"{original.dedup_key}-v2"
    assert restated.restatement
    assert restated.status == "pending"
    assert restated.value == Decimal("175.0000")
    assert original.value == Decimal("150.0000")
    # The platform finds the conversion by its original time, not the correction's.
    assert restated.occurred_at == original.occurred_at == NOW
    assert restated.payload["AdjustmentType"] == "Restate"
    # Google Ads restates by the original order id.
    [google_original, google_restated] = rows(destination=google)
    assert google_restated.payload["orderId"] == google_original.dedup_key
    assert google_restated.payload["restatementValue"]["adjustedValue"] == 175.0
    # Meta has no restatement: its event id is spent, the row keeps the value it sent.
    [meta_row] = rows(destination=meta)
    assert meta_row.value == Decimal("150.0000")
    # The same correction again adds nothing.
    assert api.post("/api/v1/outcomes/", deal(value="175.00", occurred_at=later)).status_code == 200
    assert len(rows(destination=microsoft)) == 2


def test_a_deal_lost_before_its_win_was_sent_skips_the_win(api, account):
    make_destination(account, "meta")
    assert api.post("/api/v1/outcomes/", deal()).status_code == 201
    later = (NOW + dt.timedelta(minutes=5)).isoformat()
    assert api.post("/api/v1/outcomes/", deal(stage="lost", occurred_at=later)).status_code == 200
    [row] = rows()
    assert row.status == "skipped"
    assert row.skip_reason == "The deal was lost before this conversion was sent."


def answered_rule(seconds=60, **extra):
    return {
        "trigger": "answered_call",
        "action": "Qualified call",
        "min_talk_seconds": seconds,
        "value": "fixed",
        "fixed_value": Decimal("20"),
        **extra,
    }


def call_input(external_id, *, status=CallStatus.ANSWERED, talk=90, caller="+14155550123"):
    return CallInput(
        provider="generic",
        external_id=external_id,
        tracking_e164="+14155550000",
        caller_e164=caller,
        caller_raw=caller,
        started_at=NOW - dt.timedelta(minutes=10),
        duration_seconds=talk + 15,
        status=status,
        talk_seconds=talk,
    )


@pytest.mark.parametrize(
    ("status", "talk", "expected"),
    [
        (CallStatus.ANSWERED, 60, 1),
        (CallStatus.ANSWERED, 59, 0),
        (CallStatus.MISSED, 0, 0),
    ],
)
def test_an_answered_call_long_enough_is_a_conversion(account, status, talk, expected):
    make_destination(account, "meta", rules=[answered_rule(60, action="Contact")])
    record_calls(account=account, items=[call_input("c1", status=status, talk=talk)])
    found = rows()
    assert len(found) == expected
    if expected:
        [row] = found
        assert (row.trigger, row.value, row.outcome_id) == (
            "answered_call",
            Decimal("20.0000"),
            None,
        )
        call = account.calls.get()
        assert row.occurred_at == call.started_at + dt.timedelta(seconds=call.duration_seconds)
        # A replayed report of the same call writes nothing more.
        record_calls(account=account, items=[call_input("c1", status=status, talk=talk)])
        assert rows() == found


def test_a_call_that_grows_past_the_threshold_becomes_a_conversion_once(account):
    make_destination(account, "meta", rules=[answered_rule(60, action="Contact")])
    record_calls(account=account, items=[call_input("c1", talk=30)])
    assert rows() == []
    record_calls(account=account, items=[call_input("c1", talk=200)])
    record_calls(account=account, items=[call_input("c1", talk=300)])
    assert len(rows()) == 1


def test_a_call_marked_spam_before_its_conversion_was_sent_is_skipped_and_back_when_cleared(
    api, account
):
    make_destination(account, "meta", rules=[answered_rule(60, action="Contact")])
    record_calls(account=account, items=[call_input("c1", talk=90)])
    call = account.calls.get()
    assert api.patch(f"/api/v1/calls/{call.pk}/", {"spam": True}).status_code == 200
    [row] = rows()
    assert (row.status, row.skip_reason) == (
        "skipped",
        "The call was marked spam before this conversion was sent.",
    )
    assert api.patch(f"/api/v1/calls/{call.pk}/", {"spam": False}).status_code == 200
    [row] = rows()
    assert (row.status, row.skip_reason) == ("pending", "")


def test_blocking_a_caller_skips_their_unsent_call_conversions(api, account):
    make_destination(account, "meta", rules=[answered_rule(60, action="Contact")])
    record_calls(account=account, items=[call_input("c1", talk=90, caller="+14155550123")])
    assert api.post("/api/v1/blocklist/", {"e164": "+14155550123"}).status_code == 201
    [row] = rows()
    assert row.status == "skipped"


def test_a_deal_lost_after_its_win_was_delivered_is_retracted_where_the_platform_takes_it(
    api, account
):
    google = make_destination(account, "google_ads", rules=[won_rule("987654321")])
    microsoft = make_destination(account, "microsoft_ads", rules=[won_rule("Phone sale")])
    hook = make_destination(account, "webhook", rules=[won_rule("deal.won")])
    meta = make_destination(account, "meta")
    assert api.post("/api/v1/outcomes/", deal()).status_code == 201
    Conversion.objects.update(status="accepted", sent_at=NOW)
    later = (NOW + dt.timedelta(minutes=5)).isoformat()
    assert api.post("/api/v1/outcomes/", deal(stage="lost", occurred_at=later)).status_code == 200
    [won, withdrawn] = rows(destination=google)
    assert withdrawn.dedup_key == f"{won.dedup_key}-x"
    assert (withdrawn.status, withdrawn.value, withdrawn.occurred_at) == ("pending", None, NOW)
    assert withdrawn.payload["adjustmentType"] == "RETRACTION"
    assert withdrawn.payload["orderId"] == won.dedup_key
    assert "restatementValue" not in withdrawn.payload
    [_, withdrawn] = rows(destination=microsoft)
    assert withdrawn.payload["AdjustmentType"] == "Retract"
    assert "AdjustmentValue" not in withdrawn.payload
    [_, withdrawn] = rows(destination=hook)
    assert withdrawn.payload["type"] == "conversion.retracted"
    assert len(rows(destination=meta)) == 1  # Meta takes no retraction
    # Saying "lost" again withdraws nothing more.
    assert api.post("/api/v1/outcomes/", deal(stage="lost", occurred_at=later)).status_code == 200
    assert Conversion.objects.count() == 7
