"""Calls and outcomes arrive in either order: a call stored after its outcome picks it up,
whichever way the call comes in (PRODUCT.md, "Outcome to call")."""

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.utils import timezone

from attribution.models import Outcome
from tests.calls.twilio_support import BASE, CALLER, FORWARD_TO, TOKEN, TRACKING, send, voice_params
from tests.factories import CampaignFactory, StaticNumberFactory

WON_AT = "2026-11-02T18:00:00Z"


def won(external_id="D1", **extra):
    return {"crm": "hubspot", "external_id": external_id, "stage": "won", "value": "900",
            "occurred_at": WON_AT, "caller_number": "(415) 555-2671", **extra}  # fmt: skip


def call(external_id="c1", started_at="2026-11-02T15:00:00Z", **extra):
    return {"provider": "acme", "external_id": external_id, "tracking_number": TRACKING,
            "caller_number": CALLER, "started_at": started_at, "duration_seconds": 90,
            "status": "answered", **extra}  # fmt: skip


@pytest.fixture
def number(account):
    account.twilio_auth_token = TOKEN
    account.save()
    campaign = CampaignFactory(account=account, forward_to=FORWARD_TO)
    return StaticNumberFactory(campaign=campaign, e164=TRACKING)


def test_a_call_posted_after_its_outcome_picks_it_up(api, number):
    assert api.post("/api/v1/outcomes/", won()).status_code == 201
    assert Outcome.objects.get().match_method == "unmatched"
    response = api.post("/api/v1/calls/", call())
    assert response.status_code == 201
    outcome = Outcome.objects.get()
    assert (outcome.call_id, outcome.match_method) == (response.json()["id"], "phone")


def test_a_call_after_the_outcome_does_not_pick_it_up(api, number):
    api.post("/api/v1/outcomes/", won())
    api.post("/api/v1/calls/", call(started_at="2026-11-02T18:00:01Z"))  # a second too late
    assert Outcome.objects.get().match_method == "unmatched"


def test_a_twilio_call_after_its_outcome_picks_it_up(api, client, number, settings):
    settings.PUBLIC_BASE_URL = BASE
    # The CRM's clock runs a minute ahead: the call Twilio reports now still came first.
    soon = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert api.post("/api/v1/outcomes/", won(occurred_at=soon)).status_code == 201
    assert send(client, "voice", voice_params()).status_code == 200
    outcome = Outcome.objects.select_related("call").get()
    assert (outcome.call.external_id, outcome.match_method) == (voice_params()["CallSid"], "phone")


def test_calls_posted_as_a_list_after_their_outcome_pick_it_up(api, number):
    api.post("/api/v1/outcomes/", won())
    response = api.post("/api/v1/calls/", [call("c0", started_at="2026-11-01T09:00:00Z"), call()])
    assert response.status_code == 201
    outcome = Outcome.objects.select_related("call").get()
    assert (outcome.call.external_id, outcome.match_method) == ("c1", "phone")  # the latest


def test_imported_calls_pick_up_their_outcome(api, account, number, tmp_path):
    from django.core.management import call_command

    api.post("/api/v1/outcomes/", won())
    path = tmp_path / "calls.csv"
    body = call()
    path.write_text(",".join(body) + "\n" + ",".join(str(v) for v in body.values()) + "\n")
    call_command("importcalls", str(account.pk), str(path), stdout=StringIO())
    outcome = Outcome.objects.select_related("call").get()
    assert (outcome.call.external_id, outcome.match_method) == ("c1", "phone")


def test_calls_posted_as_a_list_pick_up_an_outcome_by_their_session_email(api, account):
    from tests.factories import AssignmentFactory, PoolNumberFactory, SessionFactory

    number = PoolNumberFactory(pool__campaign__account=account)
    at = datetime.fromisoformat("2026-11-02T14:55:00+00:00")
    visit = SessionFactory(account=account, email="Ann@Example.com", started_at=at)
    AssignmentFactory(number=number, session=visit, starts_at=visit.started_at)
    deal = won(caller_number=None, email="ann@example.com")
    assert api.post("/api/v1/outcomes/", deal).status_code == 201
    body = [call(tracking_number=number.e164, caller_number="anonymous")]
    assert api.post("/api/v1/calls/", body).status_code == 201
    outcome = Outcome.objects.select_related("call").get()
    assert (outcome.call.external_id, outcome.match_method) == ("c1", "email")
