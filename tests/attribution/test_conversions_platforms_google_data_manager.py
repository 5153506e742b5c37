"""Google Data Manager adapter: the events:ingest body against Google's own message definitions,
and every answer of a real local server turned into exact Results."""

import datetime as dt

import pytest
from google.ads.datamanager_v1.types import ingestion_service
from google.protobuf import json_format

from attribution.conversions.platforms import base, hashing
from attribution.conversions.platforms import google_data_manager as dm
from tests.attribution.platform_servers import (
    Reply,
    Saved,
    assert_json_names,
    facts,
    http,
    running,
    target,
    valid_token,
)

PATH = "/v1/events:ingest"
CONFIG = {"customer_id": "123-456-7890", "login_customer_id": "1112223333"}
CREDENTIALS = {"client_id": "cid", "client_secret": "csecret", "refresh_token": "rtoken"}


@pytest.fixture
def server(settings):
    with running() as server:
        settings.GOOGLE_OAUTH_TOKEN_URL = f"{server.url}/token"
        yield server


def dm_target(server, tokens=None, **config):
    return target(
        "google_data_manager",
        server.url,
        CONFIG | config,
        CREDENTIALS,
        tokens if tokens is not None else valid_token(),
    )


def items(n=1, **overrides):
    overrides.setdefault("gclid", "G")
    return [
        dm.build(facts(dedup_key=f"cv-{i}", **overrides), target("x", config=CONFIG))
        for i in range(n)
    ]


def test_build_sends_the_gclid_hashed_identifiers_value_and_phone_source():
    event = dm.build(
        facts(gclid="G1", gbraid="B1", caller_e164="+14155550100", email="Jane.Doe@example.com"),
        target("google_data_manager", config=CONFIG),
    )
    assert event == {
        "_action": "987654321",
        "transactionId": "cv-1-42",
        "eventTimestamp": "2026-11-20T19:32:45Z",
        "eventSource": "PHONE",
        "adIdentifiers": {"gclid": "G1"},
        "userData": {
            "userIdentifiers": [
                {"phoneNumber": hashing.google_hashed_phone("+14155550100")},
                {"emailAddress": hashing.google_hashed_email("jane.doe@example.com")},
            ]
        },
        "conversionValue": 150.0,
        "currency": "USD",
    }


def test_build_prefers_gbraid_over_wbraid_and_never_sends_both():
    event = dm.build(facts(gbraid="B1", wbraid="W1"), target("google_data_manager"))
    assert event["adIdentifiers"] == {"gbraid": "B1"}
    assert dm.build(facts(wbraid="W1"), target("x"))["adIdentifiers"] == {"wbraid": "W1"}


def test_build_without_a_value_sends_no_value_or_currency():
    event = dm.build(facts(gclid="G1", value=None), target("google_data_manager"))
    assert "conversionValue" not in event
    assert "currency" not in event


def test_build_skips_a_conversion_with_nothing_to_match_on():
    assert dm.build(facts(), target("google_data_manager")) == base.Skip(
        "no click id, phone number or email to match on"
    )


def test_build_skips_a_click_outside_the_window_when_nothing_else_matches():
    old = facts(gclid="G1", session_started_at=facts().occurred_at - dt.timedelta(days=31))
    assert dm.build(old, target("google_data_manager", click_window_days=30)) == base.Skip(
        "the click is 31 days older than the conversion, outside the 30-day window, "
        "and there is no phone number or email to match on"
    )


def test_build_drops_a_stale_click_but_sends_the_callers_number():
    old = facts(
        gclid="G1",
        caller_e164="+14155550100",
        session_started_at=facts().occurred_at - dt.timedelta(days=31),
    )
    event = dm.build(old, target("google_data_manager", click_window_days=30))
    assert "adIdentifiers" not in event
    assert event["userData"] == {
        "userIdentifiers": [{"phoneNumber": hashing.google_hashed_phone("+14155550100")}]
    }


def test_group_key_is_the_conversion_action():
    assert dm.group_key(items(action="111")[0]) == "111"


def test_request_body_is_a_valid_ingest_events_request_in_rest_json_names():
    events = items(gclid="G1", caller_e164="+14155550100", email="a@example.com") + items(
        wbraid="W", value=None
    )
    body = dm.request_body(dm_target_for_body(), events)
    message = ingestion_service.IngestEventsRequest.pb()()
    json_format.ParseDict(body, message)
    assert_json_names(message.DESCRIPTOR, body)
    assert body["destinations"] == [
        {
            "operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": "1234567890"},
            "productDestinationId": "987654321",
            "loginAccount": {"accountType": "GOOGLE_ADS", "accountId": "1112223333"},
        }
    ]
    assert body["encoding"] == "HEX"
    assert body["consent"] == {"adUserData": "CONSENT_GRANTED"}
    assert message.events[0].ad_identifiers.gclid == "G1"
    assert message.events[0].event_timestamp.seconds == int(facts().occurred_at.timestamp())
    assert "_action" not in body["events"][0]


def dm_target_for_body(**config):
    return target("google_data_manager", config=CONFIG | config)


def test_consent_follows_the_destinations_settings():
    body = dm.request_body(
        dm_target_for_body(ad_user_data="denied", ad_personalization="granted"), items()
    )
    assert body["consent"] == {
        "adUserData": "CONSENT_DENIED",
        "adPersonalization": "CONSENT_GRANTED",
    }


def test_a_200_marks_every_event_sent_with_the_bearer_token(server):
    server.reply(PATH, Reply(200, {"requestId": "r-1"}))
    results = dm.send(dm_target(server), items(3, gclid="G"), http())
    assert results == [base.Result("sent")] * 3
    (request,) = server.requests
    assert request.headers["authorization"] == "Bearer cached-token"
    assert [event["transactionId"] for event in request.json()["events"]] == [
        "cv-0",
        "cv-1",
        "cv-2",
    ]


def test_a_400_naming_event_indexes_rejects_those_and_retries_the_rest(server):
    server.reply(
        PATH,
        Reply(
            400,
            {
                "error": {
                    "code": 400,
                    "message": "There was a problem with the request.",
                    "status": "INVALID_ARGUMENT",
                    "details": [
                        {
                            "@type": "type.googleapis.com/google.rpc.BadRequest",
                            "fieldViolations": [
                                {
                                    "field": "events[1].ad_identifiers.gclid",
                                    "description": "The gclid is malformed.",
                                }
                            ],
                        }
                    ],
                }
            },
        ),
    )
    results = dm.send(dm_target(server), items(3, gclid="G"), http())
    others = base.Result("retry", "BATCH_REJECTED", "another event of the request was invalid")
    assert results == [
        others,
        base.Result("rejected", "INVALID_ARGUMENT", "The gclid is malformed."),
        others,
    ]


def test_a_400_naming_no_event_rejects_them_all_with_the_message(server):
    server.reply(
        PATH,
        Reply(
            400,
            {"error": {"code": 400, "message": "Bad destination.", "status": "INVALID_ARGUMENT"}},
        ),
    )
    results = dm.send(dm_target(server), items(2, gclid="G"), http())
    assert results == [base.Result("rejected", "INVALID_ARGUMENT", "Bad destination.")] * 2


def test_a_429_retries_everything_after_the_named_wait(server):
    server.reply(
        PATH, Reply(429, {"error": {"status": "RESOURCE_EXHAUSTED"}}, {"Retry-After": "30"})
    )
    assert (
        dm.send(dm_target(server), items(2, gclid="G"), http())
        == [base.Result("retry", "RATE_LIMITED", "HTTP 429", 30.0)] * 2
    )


def test_a_500_retries_everything(server):
    server.reply(PATH, Reply(500, {"error": {"status": "INTERNAL"}}))
    assert dm.send(dm_target(server), items(1, gclid="G"), http()) == [
        base.Result("retry", "HTTP_500", "HTTP 500")
    ]


def test_a_timeout_retries_everything(server):
    server.reply(PATH, Reply(200, {}, delay=0.6))
    assert (
        dm.send(dm_target(server), items(2, gclid="G"), http(timeout=0.2))
        == [base.Result("retry", "TIMEOUT", "ReadTimeout: timed out")] * 2
    )


def test_a_401_refreshes_the_token_once_persists_it_and_retries(server):
    saved = Saved()
    server.reply(PATH, Reply(401, {"error": {"status": "UNAUTHENTICATED"}}), Reply(200, {}))
    server.reply("/token", Reply(200, {"access_token": "fresh", "expires_in": 3599}))
    results = dm.send(dm_target(server, valid_token("stale", saved)), items(1, gclid="G"), http())
    assert results == [base.Result("sent")]
    assert [r.headers["authorization"] for r in server.on(PATH)] == ["Bearer stale", "Bearer fresh"]
    (token_request,) = server.on("/token")
    assert token_request.form() == {
        "grant_type": "refresh_token",
        "client_id": "cid",
        "client_secret": "csecret",
        "refresh_token": "rtoken",
    }
    assert [values["access_token"] for values in saved.values] == ["fresh"]
    assert "refresh_token" not in saved.values[0]


def test_an_expired_cached_token_is_refreshed_before_sending(server):
    saved = Saved()
    tokens = base.TokenStore("old", dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1), saved)
    server.reply(PATH, Reply(200, {}))
    server.reply("/token", Reply(200, {"access_token": "fresh", "expires_in": 3600}))
    assert dm.send(dm_target(server, tokens), items(1, gclid="G"), http()) == [base.Result("sent")]
    assert server.on(PATH)[0].headers["authorization"] == "Bearer fresh"
    assert tokens.access_token == "fresh"
    assert len(saved.values) == 1


def test_a_refused_refresh_token_retries_with_auth_failed_and_no_secret(server):
    tokens = base.TokenStore(persist=Saved())
    server.reply(
        "/token",
        Reply(400, {"error": "invalid_grant", "error_description": "Token rtoken was revoked."}),
    )
    (result,) = dm.send(dm_target(server, tokens), items(1, gclid="G"), http())
    assert result == base.Result(
        "retry",
        "AUTH_FAILED",
        "Google OAuth: token refresh refused (invalid_grant): Token [redacted] was revoked.",
    )
    assert server.on(PATH) == []


def test_a_token_endpoint_outage_retries_everything(server):
    server.reply("/token", Reply(503, {}))
    results = dm.send(dm_target(server, base.TokenStore()), items(2, gclid="G"), http())
    assert (
        results
        == [
            base.Result(
                "retry", "AUTH_UNAVAILABLE", "Google OAuth: token endpoint answered HTTP 503"
            )
        ]
        * 2
    )


def test_a_mixed_batch_goes_as_one_request_per_conversion_action(server):
    server.reply(PATH, Reply(200, {}))
    batch = [
        items(action="A", gclid="1")[0],
        items(action="B", gclid="2")[0],
        items(action="A", gclid="3")[0],
    ]
    assert dm.send(dm_target(server), batch, http()) == [base.Result("sent")] * 3
    sent = [
        (r.json()["destinations"][0]["productDestinationId"], len(r.json()["events"]))
        for r in server.requests
    ]
    assert sent == [("A", 2), ("B", 1)]
