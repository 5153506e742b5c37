"""Meta Conversions API adapter: events equal the facebook-business SDK's own serialisation, and
a real local server's answers (a refused batch bisected to its bad event) become exact Results."""

import datetime as dt
from decimal import Decimal

import pytest
from facebook_business.adobjects.serverside.action_source import ActionSource
from facebook_business.adobjects.serverside.custom_data import CustomData
from facebook_business.adobjects.serverside.event import Event
from facebook_business.adobjects.serverside.user_data import UserData

from attribution.conversions.platforms import base, meta
from tests.attribution.platform_servers import (
    CLICKED,
    OCCURRED,
    Reply,
    facts,
    http,
    running,
    target,
)

PATH = "/v26.0/555000111/events"
CONFIG = {"pixel_id": "555000111"}
CREDENTIALS = {"access_token": "EAAtoken"}


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setattr(meta, "_now", lambda: OCCURRED + dt.timedelta(hours=1))
    with running() as server:
        yield server


def meta_target(server, **config):
    return target("meta", server.url, CONFIG | config, CREDENTIALS)


def event(i=0, **overrides):
    overrides.setdefault("caller_e164", "+14155550100")
    return meta.build(facts(dedup_key=f"cv-{i}", action="Lead", **overrides), target("meta"))


def test_a_phone_call_event_equals_the_sdks_serialisation():
    built = meta.build(
        facts(
            action="Purchase",
            caller_e164="+14155550100",
            email=" Jane.Doe@example.com",
            fbclid="IwAR0abc",
        ),
        target("meta"),
    )
    sdk = Event(
        event_name="Purchase",
        event_time=int(OCCURRED.timestamp()),
        event_id="cv-1-42",
        action_source=ActionSource.PHONE_CALL,
        user_data=UserData(
            phones=["+14155550100"],
            emails=["Jane.Doe@example.com"],
            fbc=f"fb.1.{int(CLICKED.timestamp() * 1000)}.IwAR0abc",
        ),
        custom_data=CustomData(value=150.0, currency="USD"),
    ).normalize()
    assert built == sdk


def test_a_lead_ads_lead_is_a_crm_event_equal_to_the_sdks():
    built = meta.build(
        facts(action="Qualified Lead", lead_id="1234567890123456", value=None),
        target("meta", config={"lead_event_source": "HubSpot"}),
    )
    sdk = Event(
        event_name="Qualified Lead",
        event_time=int(OCCURRED.timestamp()),
        event_id="cv-1-42",
        action_source=ActionSource.SYSTEM_GENERATED,
        user_data=UserData(lead_id="1234567890123456"),
        custom_data=CustomData(
            custom_properties={"event_source": "crm", "lead_event_source": "HubSpot"}
        ),
    ).normalize()
    assert built == sdk


def test_a_lead_event_names_callpath_as_the_crm_by_default():
    built = meta.build(facts(lead_id="1234567890123456"), target("meta"))
    assert built["custom_data"] == {
        "value": 150.0,
        "currency": "usd",
        "event_source": "crm",
        "lead_event_source": "Callpath",
    }


def test_no_identifier_is_skipped():
    assert meta.build(facts(), target("meta")) == base.Skip(
        "no click id, phone number or email to match on"
    )


def test_an_fbclid_outside_the_window_alone_is_skipped_with_the_reason():
    old = facts(fbclid="IwAR0abc", session_started_at=OCCURRED - dt.timedelta(days=10))
    assert meta.build(old, target("meta", click_window_days=7)) == base.Skip(
        "the click is 10 days older than the conversion, outside the 7-day window, "
        "and there is no phone number or email to match on"
    )


def test_a_batch_is_accepted_with_the_token_in_the_body_not_the_url(server):
    server.reply(PATH, Reply(200, {"events_received": 2, "fbtrace_id": "x"}))
    results = meta.send(
        meta_target(server, test_event_code="TEST123"), [event(0), event(1)], http()
    )
    assert results == [base.Result("accepted")] * 2
    (request,) = server.requests
    assert request.path == PATH
    assert request.json() == {
        "data": [event(0), event(1)],
        "access_token": "EAAtoken",
        "test_event_code": "TEST123",
    }


def test_an_event_older_than_seven_days_is_rejected_without_being_sent(server):
    server.reply(PATH, Reply(200, {"events_received": 1}))
    stale = event(0, occurred_at=OCCURRED - dt.timedelta(days=7, minutes=1))
    results = meta.send(meta_target(server), [stale, event(1)], http())
    assert results == [
        base.Result("skipped", "EVENT_TOO_OLD", "Meta takes events up to 7 days old"),
        base.Result("accepted"),
    ]
    assert [e["event_id"] for e in server.requests[0].json()["data"]] == ["cv-1"]


def test_a_refused_batch_is_bisected_to_the_one_bad_event(server):
    refusal = {
        "error": {
            "message": "Invalid parameter",
            "type": "OAuthException",
            "code": 100,
            "error_subcode": 2804003,
            "error_user_msg": "The event_name is invalid.",
            "fbtrace_id": "y",
        }
    }

    def answer(request):
        ids = [e["event_id"] for e in request.json()["data"]]
        return Reply(400, refusal) if "cv-2" in ids else Reply(200, {"events_received": len(ids)})

    server.reply(PATH, answer)
    results = meta.send(meta_target(server), [event(i) for i in range(4)], http())
    assert results == [
        base.Result("accepted"),
        base.Result("accepted"),
        base.Result("rejected", "100/2804003", "The event_name is invalid."),
        base.Result("accepted"),
    ]
    sent = [[e["event_id"] for e in r.json()["data"]] for r in server.requests]
    assert sent == [
        ["cv-0", "cv-1", "cv-2", "cv-3"],
        ["cv-0", "cv-1"],
        ["cv-2", "cv-3"],
        ["cv-2"],
        ["cv-3"],
    ]


def test_a_throttling_code_retries_and_stops_bisecting(server):
    server.reply(
        PATH,
        Reply(400, {"error": {"message": "Application request limit reached", "code": 4}}),
    )
    results = meta.send(meta_target(server), [event(i) for i in range(3)], http())
    assert results == [base.Result("retry", "META_4", "Application request limit reached")] * 3
    assert len(server.requests) == 1


def test_an_invalid_token_waits_for_fixed_credentials(server):
    server.reply(
        PATH,
        Reply(
            400,
            {"error": {"message": "Error validating access token EAAtoken", "code": 190}},
        ),
    )
    assert meta.send(meta_target(server), [event()], http()) == [
        base.Result("retry", "AUTH_FAILED", "Error validating access token [redacted]")
    ]


def test_a_429_retries_after_the_named_wait(server):
    server.reply(PATH, Reply(429, {}, {"Retry-After": "60"}))
    assert (
        meta.send(meta_target(server), [event(0), event(1)], http())
        == [base.Result("retry", "RATE_LIMITED", "HTTP 429", 60.0)] * 2
    )


def test_a_500_retries(server):
    server.reply(PATH, Reply(500, {}))
    assert meta.send(meta_target(server), [event()], http()) == [
        base.Result("retry", "HTTP_500", "HTTP 500")
    ]


def test_a_timeout_retries(server):
    server.reply(PATH, Reply(200, {"events_received": 1}, delay=0.6))
    assert meta.send(meta_target(server), [event()], http(timeout=0.2)) == [
        base.Result("retry", "TIMEOUT", "ReadTimeout: timed out")
    ]


def test_a_value_is_sent_as_a_float_with_a_lowercase_currency():
    built = event(value=Decimal("99.95"), currency="EUR")
    assert built["custom_data"] == {"value": 99.95, "currency": "eur"}
