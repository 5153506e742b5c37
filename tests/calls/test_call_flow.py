"""Per-campaign call flow: each setting as the TwiML Twilio receives (parsed back, exact), the
whisper webhook and its signature, the API's and the admin's checks, and the database's."""

import pytest
from django.db import IntegrityError
from django.urls import reverse
from twilio.request_validator import RequestValidator

from calls.twilio import flow, twiml
from campaigns.models import Campaign
from tests.calls.twilio_support import (
    BASE,
    CALLER,
    FORWARD_TO,
    SID,
    TOKEN,
    TRACKING,
    send,
    voice_params,
)
from tests.calls.twilio_support import twiml as parse
from tests.factories import AccountFactory, CallFactory, CampaignFactory, StaticNumberFactory

DIAL = f"{BASE}/webhooks/twilio/dial"
STATUS = f"{BASE}/webhooks/twilio/status"
RECORDING = f"{BASE}/webhooks/twilio/recording"
WHISPER = f"{BASE}/webhooks/twilio/whisper"
NUMBER_ATTRS = {
    "statusCallback": STATUS,
    "statusCallbackEvent": "initiated ringing answered completed",
}
DEFAULTS = {
    "ring_timeout_seconds": 20,
    "recording_mode": "record-from-answer-dual",
    "caller_id_mode": "caller",
    "whisper_message": "",
    "voicemail_enabled": True,
    "voicemail_max_seconds": 120,
    "voicemail_prompt": (
        "Sorry, nobody can take your call right now. Please leave a message after the tone."
    ),
    "unavailable_message": "Sorry, we cannot take your call right now. Goodbye.",
}


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


def configure(campaign: Campaign, **settings) -> None:
    for name, value in settings.items():
        setattr(campaign, name, value)
    campaign.full_clean()
    campaign.save()


def dial_of(client, **params):
    [dial] = parse(send(client, "voice", voice_params(**params)))
    assert dial.tag == "Dial"
    return dial


def unanswered(client, status="no-answer"):
    """The <Dial> action after the business did not pick up: what the caller is offered."""
    body = voice_params(CallStatus="in-progress", DialCallStatus=status, DialCallDuration="0")
    return parse(send(client, "dial", body))


def whisper_request(client, query, *, token=TOKEN, signature=None):
    """The request Twilio makes to <Number url> when the business answers: the child leg's
    parameters, signed over the URL we wrote (its query string included)."""
    params = {"CallSid": "CB" + "b" * 32, "ParentCallSid": SID, "From": CALLER, "To": FORWARD_TO,
              "CallStatus": "in-progress", "Direction": "outbound-dial"}  # fmt: skip
    sig = RequestValidator(token).compute_signature(f"{WHISPER}?{query}", params)
    return client.post(
        f"/webhooks/twilio/whisper?{query}", params, HTTP_X_TWILIO_SIGNATURE=signature or sig
    )


# ------------------------------------------------------------------------------ defaults


def test_a_new_campaign_forwards_calls_as_before_and_the_caller_hears_ringing(client, number):
    dial = dial_of(client)
    assert dial.attrib == {
        "action": DIAL,
        "method": "POST",
        "timeout": "20",
        "answerOnBridge": "true",
        "callerId": CALLER,
        "record": "record-from-answer-dual",
        "recordingStatusCallback": RECORDING,
    }
    [dialled] = dial
    assert (dialled.tag, dialled.text, dialled.attrib) == ("Number", FORWARD_TO, NUMBER_ATTRS)


def test_a_new_campaigns_settings_are_the_default_flow(account):
    assert flow.flow_for(Campaign(account=account)) == twiml.DEFAULT_FLOW
    assert flow.flow_for(None) == twiml.DEFAULT_FLOW


def test_a_new_campaign_offers_voicemail_as_before(client, number):
    send(client, "voice", voice_params())
    say, record = unanswered(client)
    assert (say.tag, say.text) == ("Say", DEFAULTS["voicemail_prompt"])
    assert record.tag == "Record"
    assert record.attrib == {
        "action": DIAL,
        "method": "POST",
        "maxLength": "120",
        "playBeep": "true",
        "recordingStatusCallback": RECORDING,
    }


# ------------------------------------------------------------------------------ settings


def test_the_ring_timeout_is_the_dials_timeout(client, number, campaign):
    configure(campaign, ring_timeout_seconds=45)
    assert dial_of(client).attrib["timeout"] == "45"


@pytest.mark.parametrize(
    "mode",
    [
        "record-from-answer",
        "record-from-ringing",
        "record-from-answer-dual",
        "record-from-ringing-dual",
    ],
)
def test_the_recording_mode_is_the_dials_record_attribute(client, number, campaign, mode):
    configure(campaign, recording_mode=mode)
    attrib = dial_of(client).attrib
    assert (attrib["record"], attrib["recordingStatusCallback"]) == (mode, RECORDING)


def test_a_campaign_that_records_nothing_asks_for_no_recording_callback(client, number, campaign):
    configure(campaign, recording_mode="do-not-record")
    assert dial_of(client).attrib == {
        "action": DIAL,
        "method": "POST",
        "timeout": "20",
        "answerOnBridge": "true",
        "callerId": CALLER,
        "record": "do-not-record",
    }


@pytest.mark.parametrize(
    ("mode", "caller", "shown"),
    [
        ("caller", CALLER, CALLER),
        ("caller", "anonymous", TRACKING),  # withheld: nothing of the caller's to show
        ("caller", "+266696687", TRACKING),
        ("tracking", CALLER, TRACKING),
        ("tracking", "anonymous", TRACKING),
    ],
)
def test_the_business_sees_the_number_the_caller_id_mode_names(
    client, number, campaign, mode, caller, shown
):
    configure(campaign, caller_id_mode=mode)
    assert dial_of(client, caller=caller).attrib["callerId"] == shown


def test_voicemail_takes_the_campaigns_prompt_and_length(client, number, campaign):
    configure(campaign, voicemail_max_seconds=300, voicemail_prompt="Leave it at the beep.")
    send(client, "voice", voice_params())
    say, record = unanswered(client, status="busy")
    assert (say.tag, say.text) == ("Say", "Leave it at the beep.")
    assert (record.tag, record.attrib["maxLength"]) == ("Record", "300")


def test_without_voicemail_an_unanswered_call_hears_goodbye_and_hangs_up(client, number, campaign):
    configure(campaign, voicemail_enabled=False, unavailable_message="We are closed. Bye.")
    send(client, "voice", voice_params())
    for status in ("no-answer", "busy", "failed"):
        answer = unanswered(client, status=status)
        assert [(node.tag, node.text) for node in answer] == [
            ("Say", "We are closed. Bye."),
            ("Hangup", None),
        ]


def test_empty_messages_leave_out_the_say(client, number, campaign):
    configure(campaign, voicemail_prompt="")
    send(client, "voice", voice_params())
    assert [node.tag for node in unanswered(client)] == ["Record"]
    configure(campaign, voicemail_enabled=False, unavailable_message="")
    assert [node.tag for node in unanswered(client)] == ["Hangup"]


def test_spoken_text_is_xml_escaped(client, number, campaign):
    prompt = 'Press <1> & say "hi" </Say><Hangup/>'
    configure(campaign, voicemail_prompt=prompt)
    send(client, "voice", voice_params())
    response = send(client, "dial", voice_params(DialCallStatus="no-answer"))
    assert b'Press &lt;1&gt; &amp; say "hi" &lt;/Say&gt;&lt;Hangup/&gt;' in response.content
    say, record = parse(response)
    assert (say.text, record.tag) == (prompt, "Record")


def test_a_campaign_without_forward_to_says_its_own_unavailable_message(client, number, campaign):
    configure(campaign, forward_to="", unavailable_message="Call us tomorrow.")
    answer = parse(send(client, "voice", voice_params()))
    assert [(node.tag, node.text) for node in answer] == [
        ("Say", "Call us tomorrow."),
        ("Hangup", None),
    ]


def test_voicemail_follows_the_dialled_numbers_campaign_when_the_call_was_never_seen(
    client, number, campaign
):
    # The voice webhook was lost: the <Dial> action creates the call from its To.
    configure(campaign, voicemail_enabled=False, unavailable_message="Closed.")
    answer = unanswered(client)
    assert [(node.tag, node.text) for node in answer] == [("Say", "Closed."), ("Hangup", None)]


def test_a_call_with_no_tracking_number_gets_the_default_voicemail(client, account, number):
    # A call of this CallSid sent through the API, for a number we do not have.
    CallFactory(account=account, external_id=SID, tracking_e164="+12125559999", status="ringing")
    configure(number.campaign, voicemail_enabled=False)
    say, record = unanswered(client)
    assert (say.text, record.attrib["maxLength"]) == (DEFAULTS["voicemail_prompt"], "120")


# ------------------------------------------------------------------------------ whisper


def test_a_whisper_makes_the_number_ask_the_whisper_webhook(client, number, campaign):
    configure(campaign, whisper_message="Call from Google Ads.")
    [dialled] = dial_of(client)
    url = f"{WHISPER}?campaign={campaign.pk}"
    assert dialled.attrib == {**NUMBER_ATTRS, "url": url, "method": "POST"}
    assert reverse("twilio-whisper") == "/webhooks/twilio/whisper"


def test_the_whisper_webhook_says_the_campaigns_message(client, campaign):
    configure(campaign, whisper_message="Call from <Google Ads> & friends.")
    answer = parse(whisper_request(client, f"campaign={campaign.pk}"))
    assert [(node.tag, node.text) for node in answer] == [
        ("Say", "Call from <Google Ads> & friends.")
    ]


def test_a_whisper_removed_since_the_call_began_connects_in_silence(client, campaign):
    answer = parse(whisper_request(client, f"campaign={campaign.pk}"))
    assert (answer.tag, list(answer)) == ("Response", [])


@pytest.mark.parametrize("signature", ["forged=", "RSOYDt4T1cUTdK1PDd93/VVr8B8="])
def test_a_whisper_request_with_a_bad_signature_is_403(client, campaign, signature):
    configure(campaign, whisper_message="Secret campaign name.")
    response = whisper_request(client, f"campaign={campaign.pk}", signature=signature)
    assert (response.status_code, response.content) == (
        403,
        b"Twilio signature missing or invalid.",
    )


def test_a_whisper_request_signed_with_another_accounts_token_is_403(client, campaign):
    configure(campaign, whisper_message="Secret campaign name.")
    AccountFactory(name="Bob Roofing", twilio_auth_token="bob-token")
    response = whisper_request(client, f"campaign={campaign.pk}", token="bob-token")
    assert response.status_code == 403


def test_the_signature_covers_the_campaign_in_the_query(client, account, campaign):
    theirs = CampaignFactory(account=account, whisper_message="Another campaign.")
    signed_for_ours = whisper_request(client, f"campaign={campaign.pk}").wsgi_request
    signature = signed_for_ours.META["HTTP_X_TWILIO_SIGNATURE"]
    response = whisper_request(client, f"campaign={theirs.pk}", signature=signature)
    assert response.status_code == 403


@pytest.mark.parametrize("query", ["campaign=999999", "campaign=abc", "campaign=", "other=1"])
def test_a_whisper_for_no_campaign_connects_in_silence(client, campaign, query):
    answer = parse(whisper_request(client, query))
    assert (answer.tag, list(answer)) == ("Response", [])


# ------------------------------------------------------------------------------ API


def test_a_campaign_is_created_with_the_default_call_flow(api):
    response = api.post("/api/v1/campaigns/", {"name": "Brand", "channel": "paid_search"})
    assert response.status_code == 201
    body = response.json()
    assert {name: body[name] for name in DEFAULTS} == DEFAULTS


def test_the_call_flow_is_written_and_read_through_the_api(api, account):
    settings = {
        "ring_timeout_seconds": 30,
        "recording_mode": "record-from-ringing",
        "caller_id_mode": "tracking",
        "whisper_message": "Call from Bing.",
        "voicemail_enabled": False,
        "voicemail_max_seconds": 60,
        "voicemail_prompt": "",
        "unavailable_message": "Closed for the day.",
    }
    created = api.post("/api/v1/campaigns/", {"name": "Brand", "channel": "display", **settings})
    assert created.status_code == 201
    campaign_id = created.json()["id"]
    body = api.get(f"/api/v1/campaigns/{campaign_id}/").json()
    assert {name: body[name] for name in settings} == settings

    patched = api.patch(f"/api/v1/campaigns/{campaign_id}/", {"ring_timeout_seconds": 90})
    assert patched.status_code == 200
    assert {name: patched.json()[name] for name in settings} == {
        **settings,
        "ring_timeout_seconds": 90,
    }


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"ring_timeout_seconds": 0}, "ring_timeout_seconds",
         "Ensure this value is greater than or equal to 5."),
        ({"ring_timeout_seconds": 500}, "ring_timeout_seconds",
         "Ensure this value is less than or equal to 120."),
        ({"ring_timeout_seconds": "soon"}, "ring_timeout_seconds", "A valid integer is required."),
        ({"voicemail_max_seconds": 4}, "voicemail_max_seconds",
         "Ensure this value is greater than or equal to 5."),
        ({"voicemail_max_seconds": 3601}, "voicemail_max_seconds",
         "Ensure this value is less than or equal to 3600."),
        ({"recording_mode": "record-everything"}, "recording_mode",
         '"record-everything" is not a recording mode; choose one of do-not-record, '
         "record-from-answer, record-from-ringing, record-from-answer-dual, "
         "record-from-ringing-dual."),
        ({"recording_mode": True}, "recording_mode",
         '"True" is not a recording mode; choose one of do-not-record, '
         "record-from-answer, record-from-ringing, record-from-answer-dual, "
         "record-from-ringing-dual."),
        ({"caller_id_mode": "business"}, "caller_id_mode",
         '"business" is not a caller ID mode; choose one of caller, tracking.'),
        ({"whisper_message": "x" * 501}, "whisper_message",
         "Ensure this field has no more than 500 characters."),
        ({"voicemail_prompt": None}, "voicemail_prompt", "This field may not be null."),
        ({"voicemail_enabled": "maybe"}, "voicemail_enabled", "Must be a valid boolean."),
    ],
)  # fmt: skip
def test_a_bad_call_flow_setting_is_400_and_changes_nothing(api, account, body, field, message):
    created = api.post("/api/v1/campaigns/", {"name": "Brand", "channel": "display", **body})
    assert created.status_code == 400
    assert created.json()["errors"] == {field: [message]}
    assert not Campaign.objects.exists()

    campaign = CampaignFactory(account=account)
    patched = api.patch(f"/api/v1/campaigns/{campaign.pk}/", {"name": "Renamed", **body})
    assert patched.status_code == 400
    assert patched.json()["errors"] == {field: [message]}
    campaign.refresh_from_db()
    assert {name: getattr(campaign, name) for name in DEFAULTS} == DEFAULTS
    assert campaign.name != "Renamed"


@pytest.mark.parametrize(
    ("field", "value", "constraint"),
    [
        ("ring_timeout_seconds", 4, "campaign_ring_timeout_range"),
        ("ring_timeout_seconds", 121, "campaign_ring_timeout_range"),
        ("recording_mode", "true", "campaign_recording_mode_valid"),
        ("caller_id_mode", "", "campaign_caller_id_mode_valid"),
        ("voicemail_max_seconds", 3601, "campaign_voicemail_length_range"),
    ],
)
def test_the_database_refuses_a_call_flow_out_of_range(campaign, field, value, constraint):
    with pytest.raises(IntegrityError, match=constraint):
        Campaign.objects.filter(pk=campaign.pk).update(**{field: value})


# ------------------------------------------------------------------------------ admin


def test_the_admin_edits_the_call_flow_in_its_own_fieldset(admin_client, campaign):
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    page = admin_client.get(url)
    fieldsets = {fieldset.name: fieldset.fields for fieldset in page.context["adminform"]}
    assert fieldsets["Call flow"] == ["forward_to", *DEFAULTS]

    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    response = admin_client.post(url, {**data, "ring_timeout_seconds": 500})
    assert response.context["adminform"].form.errors == {
        "ring_timeout_seconds": ["Ensure this value is less than or equal to 120."]
    }
    response = admin_client.post(url, {**data, "caller_id_mode": "tracking"})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.caller_id_mode, campaign.ring_timeout_seconds) == ("tracking", 20)
