"""Twilio's callbacks (status, <Dial> action, recording): the statuses they map to, and a call
whose callbacks arrive late, twice and out of order ending exactly where the ordered ones do."""

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

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

RECORDING_URL = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1"


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_BASE_URL = BASE


@pytest.fixture
def number(db):
    account = AccountFactory(name="Alice Plumbing", twilio_auth_token=TOKEN)
    return StaticNumberFactory(campaign=CampaignFactory(account=account, forward_to=FORWARD_TO),
                               e164=TRACKING)  # fmt: skip


def parent(status, sid=SID, caller=CALLER, **extra):
    return voice_params(sid=sid, caller=caller, CallStatus=status, **extra)


def child(status, sid=SID, caller=CALLER, **extra):
    return {"CallSid": "CB" + sid[2:], "ParentCallSid": sid, "From": caller, "To": FORWARD_TO,
            "CallStatus": status, "Direction": "outbound-dial", **extra}  # fmt: skip


def dial_result(status, sid=SID, caller=CALLER, **extra):
    return parent("in-progress", sid, caller, DialCallStatus=status, **extra)


def recording(source, sid=SID, **extra):
    return {"AccountSid": "AC" + "0" * 32, "CallSid": sid, "RecordingSid": "RE1",
            "RecordingUrl": RECORDING_URL, "RecordingStatus": "completed",
            "RecordingDuration": "14", "RecordingSource": source, **extra}  # fmt: skip


def call_state():
    call = Call.objects.get()
    return call.status, call.duration_seconds, call.talk_seconds, call.recording_url


# ---------------------------------------------------------------------------- statuses


def test_an_answered_call_takes_talk_from_the_dial_and_duration_from_the_call(client, number):
    send(client, "voice", voice_params())
    for event in ("initiated", "ringing", "in-progress"):
        assert send(client, "status", child(event)).status_code == 200
    assert Call.objects.get().status == "answered"  # the dialled leg picked up
    answer = twiml(send(client, "dial", dial_result("completed", DialCallDuration="42")))
    assert [node.tag for node in answer] == ["Hangup"]
    send(client, "status", child("completed", CallDuration="42"))
    send(client, "status", parent("completed", CallDuration="60"))
    assert call_state() == ("answered", 60, 42, "")
    assert Call.objects.get().transferred is False


def test_an_unanswered_dial_offers_voicemail_and_the_message_makes_it_voicemail(client, number):
    send(client, "voice", voice_params())
    answer = twiml(send(client, "dial", dial_result("no-answer", DialCallDuration="0")))
    assert [node.tag for node in answer] == ["Say", "Record"]
    assert answer[1].attrib == {
        "action": f"{BASE}/webhooks/twilio/dial",
        "method": "POST",
        "maxLength": "120",
        "playBeep": "true",
        "recordingStatusCallback": f"{BASE}/webhooks/twilio/recording",
    }
    assert call_state() == ("missed", 0, None, "")
    # <Record>'s own action comes back to the dial URL without DialCallStatus: just hang up.
    after_record = send(client, "dial", parent("in-progress", RecordingUrl=RECORDING_URL))
    assert [node.tag for node in twiml(after_record)] == ["Hangup"]
    send(client, "recording", recording("RecordVerb"))
    send(client, "status", parent("completed", CallDuration="75"))
    assert call_state() == ("voicemail", 75, None, RECORDING_URL)


def test_without_a_recording_source_a_recording_after_an_unanswered_dial_is_voicemail(
    client, number
):
    send(client, "voice", voice_params())
    send(client, "dial", dial_result("busy"))
    send(client, "recording", recording(""))
    assert call_state() == ("voicemail", 0, None, RECORDING_URL)


def test_a_voicemail_recording_that_overtakes_the_dial_result_is_still_voicemail(client, number):
    send(client, "voice", voice_params())
    send(client, "recording", recording("RecordVerb"))
    send(client, "dial", dial_result("no-answer", DialCallDuration="0"))
    assert call_state() == ("voicemail", 0, None, RECORDING_URL)


def test_the_dialled_legs_recording_of_an_answered_call_is_only_its_url(client, number):
    send(client, "voice", voice_params())
    send(client, "recording", recording("DialVerb"))
    send(client, "dial", dial_result("completed", DialCallDuration="30"))
    assert call_state() == ("answered", 30, 30, RECORDING_URL)


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([parent("completed", CallDuration="12")], ("abandoned", 12, None, "")),
        ([parent("canceled", CallDuration="7")], ("abandoned", 7, None, "")),
        (
            [dial_result("canceled"), parent("completed", CallDuration="9")],
            ("abandoned", 9, None, ""),
        ),
        ([dial_result("busy"), parent("completed", CallDuration="5")], ("busy", 5, None, "")),
        ([dial_result("failed")], ("failed", 0, None, "")),
        ([parent("completed", CallDuration="40"), parent("ringing")], ("abandoned", 40, None, "")),
    ],
)
def test_calls_nobody_answered_end_as_the_caller_left_them(client, number, events, expected):
    send(client, "voice", voice_params())
    for event in events:
        route = "dial" if "DialCallStatus" in event else "status"
        assert send(client, route, event).status_code == 200
    assert call_state() == expected


def test_an_answered_dial_without_a_duration_was_transferred(client, number):
    send(client, "voice", voice_params())
    send(client, "dial", dial_result("completed"))
    call = Call.objects.get()
    assert (call.status, call.transferred, call.talk_seconds) == ("answered", True, None)


# ------------------------------------------------------------------ unknown CallSids


def test_a_callback_for_a_call_never_seen_creates_it_from_its_own_data(client, number):
    send(client, "status", parent("completed", caller="anonymous", CallDuration="33"))
    call = Call.objects.get()
    assert (call.external_id, call.tracking_e164, call.campaign) == (SID, TRACKING, number.campaign)
    assert (call.caller_e164, call.caller_raw, call.status) == ("", "anonymous", "abandoned")


@pytest.mark.parametrize(
    ("route", "params"),
    [("status", child("in-progress")), ("recording", recording("DialVerb"))],
)
def test_a_callback_naming_no_known_call_and_no_number_stores_nothing(
    client, number, route, params
):
    assert send(client, route, params).status_code == 200
    assert not Call.objects.exists()


# ---------------------------------------------------------------------- callback storm


def answered(sid, caller):
    return [
        ("status", child("initiated", sid, caller)),
        ("status", child("ringing", sid, caller)),
        ("status", child("in-progress", sid, caller)),
        ("status", child("completed", sid, caller, CallDuration="42")),
        ("dial", dial_result("completed", sid, caller, DialCallDuration="42")),
        ("recording", recording("DialVerb", sid)),
        (
            "status",
            parent(
                "completed",
                sid,
                caller,
                CallDuration="60",
                Timestamp="Mon, 02 Nov 2026 15:05:05 +0000",
            ),
        ),  # fmt: skip
    ]


def voicemail(sid, caller):
    return [
        ("status", child("initiated", sid, caller)),
        ("status", child("no-answer", sid, caller, CallDuration="0")),
        ("dial", dial_result("no-answer", sid, caller, DialCallDuration="0")),
        ("dial", parent("in-progress", sid, caller, RecordingUrl=RECORDING_URL)),
        ("recording", recording("RecordVerb", sid)),
        ("status", parent("completed", sid, caller, CallDuration="75")),
    ]


def abandoned(sid, caller):
    return [
        ("status", child("ringing", sid, caller)),
        ("status", child("canceled", sid, caller, CallDuration="0")),
        ("dial", dial_result("canceled", sid, caller)),
        ("status", parent("completed", sid, caller, CallDuration="12")),
    ]


def final(sid):
    call = Call.objects.get(external_id=sid)
    fields = ("status", "duration_seconds", "talk_seconds", "recording_url", "transferred",
              "spam", "tracking_e164", "campaign_id", "confidence", "caller_raw")  # fmt: skip
    return {name: getattr(call, name) for name in fields}


@pytest.mark.parametrize("scenario", [answered, voicemail, abandoned])
def test_a_callback_storm_converges_to_the_ordered_outcome(client, number, scenario):
    """Every callback sent three times (or once), shuffled: the call ends exactly as when they
    come once, in order. (One caller per run, so the short-call spam rule never links runs.)"""
    runs = {}
    for run, (seed, copies) in enumerate([(None, 1), *((seed, 3) for seed in range(6)),
                                          *((seed, 1) for seed in range(6, 12))]):  # fmt: skip
        sid, caller = f"CA{run:032x}", f"+1415555{2600 + run:04d}"
        assert send(client, "voice", voice_params(sid=sid, caller=caller)).status_code == 200
        events = scenario(sid, caller) * copies
        if seed is not None:
            random.Random(seed).shuffle(events)
        for route, params in events:
            assert send(client, route, params).status_code == 200
        runs[seed] = final(sid)
    expected = {
        answered: ("answered", 60, 42, RECORDING_URL),
        voicemail: ("voicemail", 75, None, RECORDING_URL),
        abandoned: ("abandoned", 12, None, ""),
    }[scenario]
    ordered = runs.pop(None)
    assert tuple(ordered.values())[:4] == expected
    for seed, outcome in runs.items():
        assert {**outcome, "caller_raw": ""} == {**ordered, "caller_raw": ""}, f"seed {seed}"


# ---------------------------------------------------------------------------- cost per callback


def statements(queries) -> list[str]:
    return [q["sql"].split()[0] for q in queries]


def test_a_replayed_callback_reads_the_call_once_and_writes_nothing(
    client, number, django_assert_num_queries
):
    send(client, "voice", voice_params())
    send(client, "status", child("in-progress"))
    before = Call.objects.values().get()
    # The webhook's transaction (a savepoint inside the test's), the call locked with its
    # account and number, the end: no UPDATE, no spam lookups.
    with django_assert_num_queries(3) as queries:
        assert send(client, "status", child("in-progress")).status_code == 200
    assert statements(queries) == ["SAVEPOINT", "SELECT", "RELEASE"]
    assert Call.objects.values().get() == before  # updated_at included: nothing was rewritten


def test_a_callback_that_changes_the_call_writes_only_what_changed(client, number):
    send(client, "voice", voice_params())
    send(client, "status", child("in-progress"))
    with CaptureQueriesContext(connection) as queries:
        send(client, "status", parent("completed", CallDuration="75"))
    updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert '"duration_seconds" = 75' in updates[0]
    assert '"status"' not in updates[0]  # answered outranks the parent's completed
    assert not [q for q in queries if "calls_blockednumber" in q["sql"]]  # same caller
    assert call_state() == ("answered", 75, None, "")


@pytest.mark.parametrize("dial_first", [True, False])
def test_a_caller_who_hangs_up_while_the_business_rings_is_abandoned_unless_it_rang_out(
    client, number, dial_first
):
    # With <Dial answerOnBridge> the caller's own leg is never answered when nobody picks up:
    # Twilio ends it `no-answer`. Alone that is the caller giving up (abandoned); the dial
    # result saying the business let it ring out makes it missed, in either order.
    send(client, "voice", voice_params())
    send(client, "status", parent("no-answer", CallDuration="12"))
    assert call_state() == ("abandoned", 12, None, "")
    events = [
        ("dial", dial_result("no-answer", DialCallDuration="0")),
        ("status", parent("no-answer", CallDuration="25")),
    ]
    for route, params in events if dial_first else events[::-1]:
        send(client, route, params)
    assert call_state() == ("missed", 25, None, "")
