"""The outcome admin: edits go through the service, so they are in the history under the staff
user's name; the history is shown read-only; a service refusal saves nothing."""

from datetime import UTC, datetime
from decimal import Decimal

from django.urls import reverse

from attribution.models import Outcome, OutcomeChange
from attribution.outcomes import services
from tests.factories import CallFactory

T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def stored(account) -> Outcome:
    [result] = services.upsert_outcomes(
        account=account,
        items=[{"crm": "hubspot", "external_id": "D1", "stage": "lead", "occurred_at": T0}],
        actor="api-key:1 (integration)",
    )
    return result.outcome


def form(outcome, **changes) -> dict:
    data = {
        "stage": outcome.stage,
        "value": "" if outcome.value is None else str(outcome.value),
        "currency": outcome.currency,
        "occurred_at_0": "2026-11-02",
        "occurred_at_1": "15:00:00",
        "call": outcome.call_id or "",
        "call_external_id": outcome.call_external_id,
        "email": outcome.email,
        "changes-TOTAL_FORMS": "0",
        "changes-INITIAL_FORMS": "0",
        "changes-MIN_NUM_FORMS": "0",
        "changes-MAX_NUM_FORMS": "0",
    }
    return {**data, **changes}


def change_url(outcome) -> str:
    return reverse("admin:attribution_outcome_change", args=[outcome.pk])


def test_an_edit_in_the_admin_is_recorded_under_the_staff_users_name(admin_client, account):
    outcome = stored(account)
    call = CallFactory(account=account, spam=True, spam_reason="auto")
    response = admin_client.post(
        change_url(outcome), form(outcome, stage="won", value="99.90", call=call.pk)
    )
    assert response.status_code == 302, response.content.decode()
    outcome.refresh_from_db()
    assert (outcome.stage, outcome.value, outcome.call_id, outcome.match_method) == (
        "won",
        Decimal("99.9000"),
        call.pk,
        "call",
    )
    last = OutcomeChange.objects.filter(outcome=outcome).order_by("changed_at", "pk").last()
    assert (last.actor, last.changes) == (
        "staff:admin",
        {
            "stage": ["lead", "won"],
            "value": [None, "99.9000"],
            "currency": ["", "USD"],
            "call": [None, call.pk],
            "match_method": ["unmatched", "call"],
        },
    )
    call.refresh_from_db()
    assert (call.spam, call.spam_reason) == (False, "cleared")


def test_the_change_page_shows_the_history_read_only(admin_client, account):
    outcome = stored(account)
    page = admin_client.get(change_url(outcome)).content.decode()
    assert "api-key:1 (integration)" in page
    assert 'name="changes-0-actor"' not in page  # shown, not a form field


def test_a_currency_the_service_refuses_shows_the_form_again_and_saves_nothing(
    admin_client, account
):
    outcome = stored(account)
    response = admin_client.post(change_url(outcome), form(outcome, value="10", currency="EUR"))
    assert response.status_code == 200
    assert "This account reports in USD; got EUR." in response.content.decode()
    outcome.refresh_from_db()
    assert (outcome.value, outcome.currency) == (None, "")
    assert OutcomeChange.objects.count() == 1


def test_an_outcome_added_in_the_admin_goes_through_the_service(admin_client, account):
    response = admin_client.post(
        reverse("admin:attribution_outcome_add"),
        {
            **form(Outcome(stage="qualified", currency="")),
            "account": account.pk,
            "crm": "manual",
            "external_id": "M-1",
        },
    )
    assert response.status_code == 302, response.content.decode()
    added = Outcome.objects.get(external_id="M-1")
    assert added.stage == "qualified"
    assert OutcomeChange.objects.get(outcome=added).actor == "staff:admin"
