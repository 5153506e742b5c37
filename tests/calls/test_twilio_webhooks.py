"""Twilio's incoming-call webhook, posted as Twilio posts it: TwiML answers, caller IDs, and
signatures (403s that store nothing; each account verified with its own token)."""

import pytest

from calls.models import Call
from tests.calls.twilio_support import (
    BASE,
    CALLER,
    FORWARD_TO,
    SID,
    TOKEN,
    TRACKING,
    send,
    twiml,
    voice_params,
)
from tests.factories import AccountFactory, CampaignFactory, StaticNumberFactory


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_BASE_URL = BASE


@pytest.fixture
def account(db):
    return AccountFactory(name="Alice Plumbing", twilio_auth_token=TOKEN)


@pytest.fixture
def campaign(account):
    return CampaignFactory(account=account, forward_to=FORWARD_TO)


@pytest.fixture
def number(campaign):
    return StaticNumberFactory(campaign=campaign, e164=TRACKING)


# ------------------------------------------------------------------------------ voice


def test_an_incoming_call_is_recorded_and_forwarded_with_callbacks(client, number):
    root = twiml(send(client, "voice", voice_params()))

    call = Call.objects.get()
    assert (call.provider, call.external_id, call.status) == ("twilio", SID, "ringing")
    assert (call.caller_e164, call.caller_raw, call.tracking_e164) == (CALLER, CALLER, TRACKING)
    assert (call.campaign, call.confidence) == (number.campaign, "static")
    assert root.tag == "Response"
    [dial] = root
    assert dial.tag == "Dial"
    assert dial.attrib == {
        "action": f"{BASE}/webhooks/twilio/dial",
        "method": "POST",
        "timeout": "20",
        "answerOnBridge": "true",
        "callerId": CALLER,
        "record": "record-from-answer-dual",
        "recordingStatusCallback": f"{BASE}/webhooks/twilio/recording",
    }
    [dialled] = dial
    assert (dialled.tag, dialled.text) == ("Number", FORWARD_TO)
    assert dialled.attrib == {
        "statusCallback": f"{BASE}/webhooks/twilio/status",
        "statusCallbackEvent": "initiated ringing answered completed",
    }


def test_a_get_webhook_is_verified_over_its_query_string(client, number):
    root = twiml(send(client, "voice", voice_params(), method="get"))
    assert root[0].tag == "Dial"
    assert Call.objects.get().external_id == SID


def test_nul_characters_in_a_signed_webhook_are_dropped_not_a_500(client, number):
    # Found by tests/test_fuzz_public.py: PostgreSQL text cannot hold NUL.
    params = {**voice_params(), "CallSid": SID + "\x00", "From": "\x00" + CALLER}

    root = twiml(send(client, "voice", params))

    assert root[0].tag == "Dial"
    call = Call.objects.get()
    assert (call.external_id, call.caller_e164) == (SID, CALLER)


def test_a_replayed_incoming_call_webhook_changes_nothing(client, number):
    send(client, "voice", voice_params())
    send(client, "voice", voice_params())
    assert Call.objects.count() == 1


def test_an_unknown_number_gets_a_polite_goodbye_and_nothing_is_stored(client, number):
    root = twiml(send(client, "voice", voice_params(to="+12125550199"), token="anything"))
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert "not in service" in root[0].text
    assert not Call.objects.exists()


def test_an_inactive_number_is_unknown(client, number):
    number.active = False
    number.save()
    root = twiml(send(client, "voice", voice_params()))
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert not Call.objects.exists()


def test_a_campaign_without_forward_to_says_goodbye_but_the_call_is_kept(client, number):
    number.campaign.forward_to = ""
    number.campaign.save()
    root = twiml(send(client, "voice", voice_params()))
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert Call.objects.get().status == "ringing"


@pytest.mark.parametrize(
    "caller",
    ["anonymous", "+266696687", "client:alice", "Restricted", "sip:bob@example.com", "", "%$#!"],
)
def test_a_withheld_or_odd_caller_id_is_stored_as_no_number_never_rejected(client, number, caller):
    root = twiml(send(client, "voice", voice_params(caller=caller)))
    call = Call.objects.get()
    assert (call.caller_e164, call.caller_raw) == ("", caller)
    # Nothing to show the business: it sees the tracking number it advertises.
    assert root[0].attrib["callerId"] == TRACKING


def test_a_national_caller_id_is_read_in_the_dialled_numbers_country(client, account):
    campaign = CampaignFactory(account=account, forward_to=FORWARD_TO)
    StaticNumberFactory(campaign=campaign, e164="+442079460000")
    send(client, "voice", voice_params(caller="020 7946 0018", to="+442079460000"))
    assert Call.objects.get().caller_e164 == "+442079460018"  # the account's region is US


# --------------------------------------------------------------------- authentication


@pytest.mark.parametrize("signature", ["", "forged=", "RSOYDt4T1cUTdK1PDd93/VVr8B8="])
def test_a_bad_or_missing_signature_is_403_and_stores_nothing(client, number, signature):
    assert send(client, "voice", voice_params(), signature=signature).status_code == 403
    assert send(client, "status", {**voice_params(), "CallStatus": "completed"},
                signature=signature).status_code == 403  # fmt: skip
    assert not Call.objects.exists()


def test_another_accounts_token_is_refused(client, number):
    assert send(client, "voice", voice_params(), token="bob-token").status_code == 403
    assert not Call.objects.exists()


def test_an_account_without_a_token_refuses_every_webhook(client, number, account):
    account.twilio_auth_token = ""
    account.save()
    assert send(client, "voice", voice_params(), token="").status_code == 403
    assert not Call.objects.exists()


def test_each_number_verifies_with_its_own_accounts_token(client, number):
    bob = AccountFactory(name="Bob Roofing", twilio_auth_token="bob-token")
    StaticNumberFactory(campaign=CampaignFactory(account=bob), e164="+12125550111")
    bobs_call = voice_params(sid="CA" + "c" * 32, to="+12125550111")
    assert send(client, "voice", bobs_call, token=TOKEN).status_code == 403
    assert send(client, "voice", bobs_call, token="bob-token").status_code == 200
    completed = {**bobs_call, "CallStatus": "completed", "CallDuration": "30"}
    assert send(client, "status", completed, token=TOKEN).status_code == 403
    assert send(client, "status", completed, token="bob-token").status_code == 200
    call = Call.objects.get()
    assert (call.account, call.status, call.duration_seconds) == (bob, "abandoned", 30)


def test_a_status_callback_is_not_redirected_to_the_dialled_numbers_account(client, number):
    """A call found by its CallSid stays with its account, whatever To a forged request says."""
    send(client, "voice", voice_params())
    bob = AccountFactory(name="Bob Roofing", twilio_auth_token="bob-token")
    StaticNumberFactory(campaign=CampaignFactory(account=bob), e164="+12125550111")
    event = {**voice_params(to="+12125550111"), "CallStatus": "completed", "CallDuration": "9"}
    assert send(client, "status", event, token="bob-token").status_code == 403
    assert Call.objects.get().duration_seconds == 0
