"""Signed webhook adapter: the stable event body, the signature a receiver verifies (and refuses
when tampered or stale), and a real local receiver's answers as exact Results."""

import datetime as dt
import hashlib
import hmac
import time
from decimal import Decimal

import pytest

from attribution.conversions.platforms import base, webhook
from tests.attribution.platform_servers import (
    OCCURRED,
    Reply,
    facts,
    http,
    running,
    target,
)

SECRET = "whsec_test_0123456789"
CREATED = OCCURRED + dt.timedelta(minutes=5)


@pytest.fixture(autouse=True)
def _frozen_created(monkeypatch):
    monkeypatch.setattr(webhook, "_now", lambda: CREATED)


@pytest.fixture
def server():
    with running() as server:
        yield server


def hook_target(server, path="/hooks/callpath"):
    return target("webhook", "", {"url": f"{server.url}{path}"}, {"secret": SECRET})


def event(**overrides):
    return webhook.build(facts(**overrides), target("webhook"))


def test_the_event_body_carries_everything_about_the_conversion():
    body = event(
        trigger="won",
        gclid="G1",
        msclkid="M1",
        caller_e164="+14155550100",
        email="jane@example.com",
        outcome_id=12,
        outcome_crm="hubspot",
        outcome_external_id="deal-9",
        call_id=34,
        call_external_id="CA123",
        call_started_at=OCCURRED - dt.timedelta(minutes=30),
        campaign_id=5,
        campaign_name="Spring",
        keyword_text="plumber near me",
    )
    assert body == {
        "id": "cv-1-42",
        "type": "conversion.created",
        "created": "2026-11-20T19:37:45Z",
        "data": {
            "trigger": "won",
            "action": "987654321",
            "occurred_at": "2026-11-20T19:32:45Z",
            "value": "150.00",
            "currency": "USD",
            "outcome": {"id": 12, "crm": "hubspot", "external_id": "deal-9"},
            "call": {"id": 34, "external_id": "CA123", "started_at": "2026-11-20T19:02:45Z"},
            "campaign": {"id": 5, "name": "Spring"},
            "keyword": "plumber near me",
            "click_ids": {"gclid": "G1", "msclkid": "M1"},
            "caller_number": "+14155550100",
            "email": "jane@example.com",
        },
    }


def test_a_restated_value_is_a_conversion_restated_event_and_no_value_is_null():
    body = event(restatement=True, value=None)
    assert body["type"] == "conversion.restated"
    assert body["data"]["value"] is None
    assert body["data"]["outcome"] == {"id": None, "crm": None, "external_id": None}


def test_a_conversion_without_identifiers_is_still_sent():
    assert isinstance(event(), dict)


def test_a_delivery_is_signed_and_the_receiver_can_verify_it(server):
    server.reply("/hooks/callpath", Reply(204))
    item = event(value=Decimal("99.90"))
    assert webhook.send(hook_target(server), [item], http()) == [base.Result("accepted")]
    (request,) = server.requests
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "Callpath-Webhooks/1"
    assert request.headers["callpath-event-id"] == "cv-1-42"
    assert request.json() == item
    signature = request.headers["callpath-signature"]
    assert webhook.verify_signature(SECRET, signature, request.body)
    assert not webhook.verify_signature("whsec_other", signature, request.body)
    assert not webhook.verify_signature(SECRET, signature, request.body.replace(b"99.90", b"9990"))


def test_a_signature_verifies_within_five_minutes_of_clock_skew_but_not_beyond_tolerance():
    body = b'{"id":"cv-1"}'
    signed_at = 1_763_800_000
    header = webhook.sign(SECRET, signed_at, body)
    assert webhook.verify_signature(SECRET, header, body, now=signed_at + 300)
    assert webhook.verify_signature(SECRET, header, body, now=signed_at - 300)
    assert webhook.verify_signature(SECRET, header, body, now=signed_at + 600)
    assert not webhook.verify_signature(SECRET, header, body, now=signed_at + 601)
    assert not webhook.verify_signature(SECRET, header, body, tolerance=60, now=signed_at + 300)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(b"secret", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert webhook.sign("secret", 1700000000, b"{}") == f"t=1700000000,v1={expected}"


@pytest.mark.parametrize(
    "header",
    ["", "t=abc,v1=00", "v1=00", "t=1763800000", "t=1763800000,t=1763800001,v1=00"],
)
def test_a_malformed_signature_header_never_verifies(header):
    assert not webhook.verify_signature(SECRET, header, b"{}", now=1_763_800_000)


def test_a_current_signature_verifies_with_the_default_clock():
    header = webhook.sign(SECRET, int(time.time()), b"{}")
    assert webhook.verify_signature(SECRET, header, "{}")


def test_a_client_error_is_rejected_with_the_status_and_the_start_of_the_body(server):
    server.reply("/hooks/callpath", Reply(422, "x" * 500))
    assert webhook.send(hook_target(server), [event()], http()) == [
        base.Result("rejected", "HTTP_422", "x" * 200)
    ]


@pytest.mark.parametrize("status", [408, 500, 503])
def test_a_timeout_status_or_server_error_retries(server, status):
    server.reply("/hooks/callpath", Reply(status, b""))
    assert webhook.send(hook_target(server), [event()], http()) == [
        base.Result("retry", f"HTTP_{status}", f"HTTP {status}")
    ]


def test_a_429_retries_after_the_named_wait(server):
    server.reply("/hooks/callpath", Reply(429, b"", {"Retry-After": "90"}))
    assert webhook.send(hook_target(server), [event()], http()) == [
        base.Result("retry", "RATE_LIMITED", "HTTP 429", 90.0)
    ]


def test_a_slow_receiver_retries(server):
    server.reply("/hooks/callpath", Reply(200, b"", delay=0.6))
    assert webhook.send(hook_target(server), [event()], http(timeout=0.2)) == [
        base.Result("retry", "TIMEOUT", "ReadTimeout: timed out")
    ]


def test_an_unreachable_receiver_retries():
    with running() as server:
        url = server.url
    closed = target("webhook", "", {"url": f"{url}/hooks"}, {"secret": SECRET})
    (result,) = webhook.send(closed, [event()], http())
    assert (result.status, result.code) == ("retry", "CONNECTION_ERROR")
