"""Microsoft Advertising adapter: the SOAP request equals what Microsoft's own SDK (bingads'
suds client, from the shipped WSDL) writes for the same data, and a real local server's partial
errors and faults become exact Results."""

import datetime as dt
import importlib.util
import os
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from suds.client import Client

from attribution.conversions.platforms import base, hashing
from attribution.conversions.platforms import microsoft_ads as ms
from tests.attribution.platform_servers import (
    OCCURRED,
    Reply,
    Saved,
    facts,
    http,
    running,
    target,
    valid_token,
)

PATH = ms.PATH
CONFIG = {"account_id": "149000111", "customer_id": "250000222"}
CREDENTIALS = {"client_id": "app-id", "refresh_token": "r1", "developer_token": "devtoken"}
# The WSDL bingads ships (found without importing bingads, which takes seconds).
WSDL = os.path.join(
    importlib.util.find_spec("bingads").submodule_search_locations[0],
    "v13/proxies/production/campaignmanagement_service.xml",
)
ENVELOPE = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">{}</s:Envelope>'


def ok(*batch_errors):
    errors = "".join(
        f"<BatchError><Code>{code}</Code><ErrorCode>{name}</ErrorCode><Index>{index}</Index>"
        f"<Message>{message}</Message><Type>BatchError</Type></BatchError>"
        for index, code, name, message in batch_errors
    )
    return ENVELOPE.format(
        '<s:Body><ApplyOfflineConversionsResponse xmlns="https://bingads.microsoft.com/'
        f'CampaignManagement/v13"><PartialErrors>{errors}</PartialErrors>'
        "</ApplyOfflineConversionsResponse></s:Body>"
    )


def fault(code, name, message):
    return ENVELOPE.format(
        "<s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring>Invalid client data."
        '</faultstring><detail><AdApiFaultDetail xmlns="https://adapi.microsoft.com"><Errors>'
        f"<AdApiError><Code>{code}</Code><ErrorCode>{name}</ErrorCode><Message>{message}</Message>"
        "</AdApiError></Errors></AdApiFaultDetail></detail></s:Fault></s:Body>"
    )


@pytest.fixture(scope="module")
def sdk():
    return Client(f"file://{WSDL}", nosend=True, cache=None)


@pytest.fixture
def server(settings):
    with running() as server:
        settings.MICROSOFT_OAUTH_TOKEN_URL = f"{server.url}/token"
        yield server


def ms_target(server, tokens=None):
    tokens = tokens if tokens is not None else valid_token()
    return target("microsoft_ads", server.url, CONFIG, CREDENTIALS, tokens)


def conversion(i=0, **overrides):
    overrides.setdefault("msclkid", f"f894f652ea334e739002f7167ab8f8e{i}")
    overrides.setdefault("action", "Phone lead")
    return ms.build(facts(dedup_key=f"cv-{i}", **overrides), target("x"))


def tree(xml: bytes) -> list[tuple[str, str]]:
    """Namespace-qualified tags and texts in document order (prefixes do not matter)."""
    return [(node.tag, (node.text or "").strip()) for node in ET.fromstring(xml).iter()]


def test_build_sends_the_click_id_hashes_value_and_utc_time():
    assert conversion(caller_e164="+14155550100", email="Jane@Example.com") == {
        "ConversionName": "Phone lead",
        "ConversionTime": "2026-11-20T19:32:45Z",
        "ConversionValue": 150.0,
        "ConversionCurrencyCode": "USD",
        "MicrosoftClickId": "f894f652ea334e739002f7167ab8f8e0",
        "HashedEmailAddress": hashing.microsoft_hashed_email("jane@example.com"),
        "HashedPhoneNumber": hashing.microsoft_hashed_phone("+14155550100"),
    }


def test_no_click_id_and_no_hashable_identifier_is_skipped():
    assert conversion(msclkid="") == base.Skip("no click id, phone number or email to match on")


def test_a_stale_click_alone_is_skipped_with_the_reason():
    old = conversion(session_started_at=OCCURRED - dt.timedelta(days=91))
    assert old == base.Skip(
        "the click is 91 days older than the conversion, outside the 90-day window, "
        "and there is no phone number or email to match on"
    )


def test_a_restatement_is_an_adjustment_sent_with_its_own_operation(monkeypatch):
    monkeypatch.setattr(ms, "_now", lambda: OCCURRED + dt.timedelta(days=2))
    item = conversion(restatement=True, value=None)
    assert item == {
        "AdjustmentType": "Restate",
        "AdjustmentTime": "2026-11-22T19:32:45Z",
        "ConversionName": "Phone lead",
        "ConversionTime": "2026-11-20T19:32:45Z",
        "MicrosoftClickId": "f894f652ea334e739002f7167ab8f8e0",
    }
    assert (ms.group_key(item), ms.group_key(conversion())) == ("adjustment", "conversion")


def sdk_envelope(sdk, operation: str, element: str, items: list[dict]) -> bytes:
    """What bingads' suds client would send for the same items (nosend=True)."""
    array = sdk.factory.create(f"ArrayOf{element}")
    for item in items:
        node = sdk.factory.create(element)
        for name, value in item.items():
            setattr(node, name, value)
        getattr(array, element).append(node)
    sdk.set_options(
        soapheaders={
            "AuthenticationToken": "tok",
            "CustomerAccountId": "149000111",
            "CustomerId": "250000222",
            "DeveloperToken": "devtoken",
        }
    )
    return getattr(sdk.service, operation)(**{f"{element}s": array}).envelope


def our_envelope(group: str, items: list[dict]) -> bytes:
    return ms.envelope(
        target("microsoft_ads", config=CONFIG, credentials=CREDENTIALS), "tok", group, items
    )


def test_the_envelope_equals_the_sdks_for_the_same_conversions(sdk):
    items = [
        conversion(0, email="a@example.com", value=None),
        conversion(1, action='Goal <&> "quoted"'),
    ]
    ours = our_envelope("conversion", items)
    theirs = sdk_envelope(sdk, "ApplyOfflineConversions", "OfflineConversion", items)
    assert tree(ours) == tree(theirs)
    assert "Goal &lt;&amp;&gt;" in ours.decode()


def test_the_adjustment_envelope_equals_the_sdks(sdk, monkeypatch):
    monkeypatch.setattr(ms, "_now", lambda: OCCURRED + dt.timedelta(days=1))
    item = conversion(restatement=True, value=Decimal("99.5"))
    ours = our_envelope("adjustment", [item])
    theirs = sdk_envelope(
        sdk, "ApplyOfflineConversionAdjustments", "OfflineConversionAdjustment", [item]
    )
    assert tree(ours) == tree(theirs)
    assert item["AdjustmentValue"] == 99.5


def test_a_batch_without_partial_errors_is_accepted_with_the_soap_action(server):
    server.reply(PATH, Reply(200, ok()))
    assert (
        ms.send(ms_target(server), [conversion(0), conversion(1)], http())
        == [base.Result("accepted")] * 2
    )
    (request,) = server.requests
    assert request.headers["soapaction"] == "ApplyOfflineConversions"
    assert request.headers["content-type"] == "text/xml; charset=utf-8"
    header = ET.fromstring(request.body).find("{http://schemas.xmlsoap.org/soap/envelope/}Header")
    assert [(node.tag.split("}")[1], node.text) for node in header] == [
        ("AuthenticationToken", "cached-token"),
        ("CustomerAccountId", "149000111"),
        ("CustomerId", "250000222"),
        ("DeveloperToken", "devtoken"),
    ]


def test_partial_errors_reject_their_index_and_a_duplicate_counts_as_accepted(server):
    server.reply(
        PATH,
        Reply(
            200,
            ok(
                (1, 3508, "OfflineConversionMicrosoftClickIdInvalid", "The click id is invalid."),
                (2, 3599, "OfflineConversionDuplicate", "Already applied."),
            ),
        ),
    )
    results = ms.send(ms_target(server), [conversion(i) for i in range(3)], http())
    assert results == [
        base.Result("accepted"),
        base.Result(
            "rejected", "OfflineConversionMicrosoftClickIdInvalid", "The click id is invalid."
        ),
        base.Result("accepted", "OfflineConversionDuplicate", "Already applied."),
    ]


def test_an_expired_token_fault_refreshes_once_and_saves_the_rotated_refresh_token(server):
    saved = Saved()
    tokens = valid_token("stale", saved)
    server.reply(
        PATH,
        Reply(500, fault(109, "AuthenticationTokenExpired", "Authentication token expired.")),
        Reply(200, ok()),
    )
    server.reply(
        "/token",
        Reply(200, {"access_token": "fresh", "expires_in": 3600, "refresh_token": "r2"}),
    )
    assert ms.send(ms_target(server, tokens), [conversion()], http()) == [base.Result("accepted")]
    (token_request,) = server.on("/token")
    assert token_request.form() == {
        "grant_type": "refresh_token",
        "client_id": "app-id",
        "refresh_token": "r1",
        "scope": "https://ads.microsoft.com/msads.manage offline_access",
    }
    assert [(v["access_token"], v["refresh_token"]) for v in saved.values] == [("fresh", "r2")]
    assert tokens.refresh_token == "r2"
    tokens_in_requests = [
        ET.fromstring(r.body).find(f".//{{{ms.NS}}}AuthenticationToken").text
        for r in server.on(PATH)
    ]
    assert tokens_in_requests == ["stale", "fresh"]


def test_another_fault_retries_with_its_code(server):
    server.reply(PATH, Reply(500, fault(117, "CallRateExceeded", "Too many calls.")))
    assert ms.send(ms_target(server), [conversion()], http()) == [
        base.Result("retry", "CallRateExceeded", "Too many calls.")
    ]
    assert server.on("/token") == []


def test_a_500_without_a_soap_body_retries(server):
    server.reply(PATH, Reply(500, b"oops"))
    assert ms.send(ms_target(server), [conversion()], http()) == [
        base.Result("retry", "HTTP_500", "HTTP 500")
    ]


def test_a_429_retries_after_the_named_wait(server):
    server.reply(PATH, Reply(429, b"", {"Retry-After": "15"}))
    assert ms.send(ms_target(server), [conversion()], http()) == [
        base.Result("retry", "RATE_LIMITED", "HTTP 429", 15.0)
    ]


def test_a_timeout_retries(server):
    server.reply(PATH, Reply(200, ok(), delay=0.6))
    assert ms.send(ms_target(server), [conversion()], http(timeout=0.2)) == [
        base.Result("retry", "TIMEOUT", "ReadTimeout: timed out")
    ]


def test_conversions_and_adjustments_go_in_separate_requests(server):
    server.reply(PATH, Reply(200, ok()))
    batch = [conversion(0), conversion(1, restatement=True), conversion(2)]
    assert ms.send(ms_target(server), batch, http()) == [base.Result("accepted")] * 3
    assert [r.headers["soapaction"] for r in server.requests] == [
        "ApplyOfflineConversions",
        "ApplyOfflineConversionAdjustments",
    ]
