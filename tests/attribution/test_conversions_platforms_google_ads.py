"""Google Ads API v26 adapter: click and call conversion bodies parsed by the google-ads
library's own messages, and partial failures of a real local server row by row."""

from decimal import Decimal

import pytest
from google.ads.googleads.v26.services.types import conversion_upload_service as cus
from google.protobuf import json_format

from attribution.conversions.platforms import base, hashing
from attribution.conversions.platforms import google_ads as ads
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

CLICKS = "/v26/customers/1234567890:uploadClickConversions"
CALLS = "/v26/customers/1234567890:uploadCallConversions"
CONFIG = {"customer_id": "123-456-7890"}
FAILURE_TYPE = "type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure"
CREDENTIALS = {
    "client_id": "cid",
    "client_secret": "csecret",
    "refresh_token": "rtoken",
    "developer_token": "devtoken",
}


@pytest.fixture
def server(settings):
    with running() as server:
        settings.GOOGLE_OAUTH_TOKEN_URL = f"{server.url}/token"
        yield server


def ads_target(server, tokens=None, **config):
    tokens = tokens if tokens is not None else valid_token()
    return target("google_ads", server.url, CONFIG | config, CREDENTIALS, tokens)


def click(i=0, **overrides):
    overrides.setdefault("gclid", f"G{i}")
    return ads.build(facts(dedup_key=f"cv-{i}", **overrides), target("google_ads", config=CONFIG))


def partial_failure(*errors):
    """A 200 whose partialFailureError names rows, as the REST API sends it."""
    return {
        "partialFailureError": {
            "code": 3,
            "message": "Multiple errors in 'details'.",
            "details": [
                {
                    "@type": FAILURE_TYPE,
                    "errors": [
                        {
                            "errorCode": {"conversionUploadError": code},
                            "message": message,
                            "location": {
                                "fieldPathElements": [
                                    {"fieldName": "conversions", "index": index},
                                    {"fieldName": "gclid"},
                                ]
                            },
                        }
                        for index, code, message in errors
                    ],
                }
            ],
        },
        "results": [{}] * 4,
    }


def test_a_click_conversion_in_the_accounts_time_zone_with_its_order_id():
    conversion = click(caller_e164="+14155550100", email="Jane.Doe@example.com")
    assert conversion == {
        "conversionAction": "customers/1234567890/conversionActions/987654321",
        "conversionDateTime": "2026-11-20 14:32:45-05:00",
        "conversionValue": 150.0,
        "currencyCode": "USD",
        "consent": {"adUserData": "GRANTED"},
        "orderId": "cv-0",
        "gclid": "G0",
        "userIdentifiers": [
            {
                "hashedPhoneNumber": hashing.google_hashed_phone("+14155550100"),
                "userIdentifierSource": "FIRST_PARTY",
            },
            {
                "hashedEmail": hashing.google_hashed_email("jane.doe@example.com"),
                "userIdentifierSource": "FIRST_PARTY",
            },
        ],
    }
    assert ads.group_key(conversion) == "click"


def test_without_a_click_id_it_is_an_enhanced_conversion_for_leads():
    conversion = click(gclid="", email="a@example.com")
    assert "gclid" not in conversion
    assert conversion["userIdentifiers"] == [
        {
            "hashedEmail": hashing.google_hashed_email("a@example.com"),
            "userIdentifierSource": "FIRST_PARTY",
        }
    ]


def test_gbraid_is_sent_alone_when_wbraid_is_known_too():
    conversion = click(gclid="", gbraid="B", wbraid="W")
    assert (conversion.get("gbraid"), conversion.get("wbraid")) == ("B", None)


def test_a_call_conversion_names_the_caller_and_the_calls_start():
    call = ads.build(
        facts(
            upload="call",
            caller_e164="+14155550100",
            call_started_at=facts().occurred_at.replace(hour=19, minute=0, second=0),
        ),
        target("google_ads", config=CONFIG | {"ad_user_data": "denied"}),
    )
    assert call == {
        "conversionAction": "customers/1234567890/conversionActions/987654321",
        "conversionDateTime": "2026-11-20 14:32:45-05:00",
        "conversionValue": 150.0,
        "currencyCode": "USD",
        "consent": {"adUserData": "DENIED"},
        "callerId": "+14155550100",
        "callStartDateTime": "2026-11-20 14:00:00-05:00",
    }
    assert ads.group_key(call) == "call"


def test_a_call_conversion_without_the_caller_is_skipped():
    assert ads.build(facts(upload="call"), target("google_ads", config=CONFIG)) == base.Skip(
        "a call conversion needs the caller's number and the call's start time"
    )


def test_nothing_to_match_on_is_skipped():
    assert click(gclid="") == base.Skip("no click id, phone number or email to match on")


def test_click_and_call_bodies_are_valid_upload_requests_in_rest_json_names(server):
    server.reply(CLICKS, Reply(200, {"results": [{}, {}]}))
    server.reply(CALLS, Reply(200, {"results": [{}]}))
    call = ads.build(
        facts(upload="call", caller_e164="+14155550100", call_started_at=facts().occurred_at),
        target("google_ads", config=CONFIG),
    )
    batch = [click(0, email="a@example.com"), call, click(1, gclid="", wbraid="W", value=None)]
    assert ads.send(ads_target(server), batch, http()) == [base.Result("accepted")] * 3
    bodies = {r.path: r.json() for r in server.requests}
    for path, message_class in (
        (CLICKS, cus.UploadClickConversionsRequest),
        (CALLS, cus.UploadCallConversionsRequest),
    ):
        message = message_class.pb()()
        json_format.ParseDict(bodies[path], message)
        assert_json_names(message.DESCRIPTOR, bodies[path])
        assert message.partial_failure is True
    assert [c["orderId"] for c in bodies[CLICKS]["conversions"]] == ["cv-0", "cv-1"]
    assert len(bodies[CALLS]["conversions"]) == 1


def test_headers_carry_the_token_developer_token_and_login_customer(server):
    server.reply(CLICKS, Reply(200, {"results": [{}]}))
    ads.send(ads_target(server, login_customer_id="999-000-1111"), [click()], http())
    headers = server.requests[0].headers
    assert headers["authorization"] == "Bearer cached-token"
    assert headers["developer-token"] == "devtoken"
    assert headers["login-customer-id"] == "9990001111"


def test_partial_failure_maps_each_row(server):
    server.reply(
        CLICKS,
        Reply(
            200,
            partial_failure(
                (0, "CLICK_CONVERSION_ALREADY_EXISTS", "Already uploaded."),
                (1, "TOO_RECENT_EVENT", "The click is too recent."),
                (3, "UNPARSEABLE_GCLID", "The gclid could not be decoded."),
            ),
        ),
    )
    results = ads.send(ads_target(server), [click(i) for i in range(4)], http())
    assert results == [
        base.Result("accepted", "CLICK_CONVERSION_ALREADY_EXISTS", "Already uploaded."),
        base.Result("retry", "TOO_RECENT_EVENT", "The click is too recent.", 21600.0),
        base.Result("accepted"),
        base.Result("rejected", "UNPARSEABLE_GCLID", "The gclid could not be decoded."),
    ]


def test_a_used_order_id_counts_as_accepted(server):
    server.reply(
        CLICKS, Reply(200, partial_failure((0, "ORDER_ID_ALREADY_IN_USE", "Order id used.")))
    )
    assert ads.send(ads_target(server), [click()], http()) == [
        base.Result("accepted", "ORDER_ID_ALREADY_IN_USE", "Order id used.")
    ]


def test_a_whole_request_error_rejects_every_row(server):
    server.reply(
        CLICKS,
        Reply(
            400,
            {
                "error": {
                    "code": 400,
                    "message": "Request contains an invalid argument.",
                    "status": "INVALID_ARGUMENT",
                    "details": [
                        {
                            "@type": FAILURE_TYPE,
                            "errors": [
                                {
                                    "errorCode": {
                                        "conversionUploadError": "TOO_MANY_CONVERSIONS_IN_REQUEST"
                                    },
                                    "message": "Fewer than 2001.",
                                }
                            ],
                        }
                    ],
                }
            },
        ),
    )
    assert (
        ads.send(ads_target(server), [click(0), click(1)], http())
        == [
            base.Result(
                "rejected",
                "TOO_MANY_CONVERSIONS_IN_REQUEST",
                "Request contains an invalid argument.",
            )
        ]
        * 2
    )


def test_a_permission_error_waits_for_fixed_credentials(server):
    server.reply(
        CLICKS,
        Reply(
            403,
            {
                "error": {
                    "message": "The developer token is not approved.",
                    "status": "PERMISSION_DENIED",
                    "details": [
                        {
                            "errors": [
                                {
                                    "errorCode": {
                                        "authorizationError": "DEVELOPER_TOKEN_NOT_APPROVED"
                                    }
                                }
                            ]
                        }
                    ],
                }
            },
        ),
    )
    assert ads.send(ads_target(server), [click()], http()) == [
        base.Result(
            "retry",
            "AUTH_FAILED",
            "DEVELOPER_TOKEN_NOT_APPROVED: The developer token is not approved.",
        )
    ]


def test_a_429_retries_after_the_named_wait(server):
    server.reply(
        CLICKS, Reply(429, {"error": {"status": "RESOURCE_EXHAUSTED"}}, {"Retry-After": "120"})
    )
    assert ads.send(ads_target(server), [click()], http()) == [
        base.Result("retry", "RATE_LIMITED", "HTTP 429", 120.0)
    ]


def test_a_503_retries(server):
    server.reply(CLICKS, Reply(503, {"error": {"status": "UNAVAILABLE"}}))
    assert ads.send(ads_target(server), [click()], http()) == [
        base.Result("retry", "HTTP_503", "HTTP 503")
    ]


def test_a_timeout_retries(server):
    server.reply(CLICKS, Reply(200, {}, delay=0.6))
    assert ads.send(ads_target(server), [click()], http(timeout=0.2)) == [
        base.Result("retry", "TIMEOUT", "ReadTimeout: timed out")
    ]


def test_a_401_refreshes_once_and_a_second_401_waits_for_credentials(server):
    saved = Saved()
    server.reply(CLICKS, Reply(401, {"error": {"status": "UNAUTHENTICATED"}}))
    server.reply("/token", Reply(200, {"access_token": "fresh", "expires_in": 3600}))
    results = ads.send(ads_target(server, valid_token("stale", saved)), [click()], http())
    assert results == [
        base.Result(
            "retry",
            "AUTH_FAILED",
            "Google OAuth: the platform refused a freshly refreshed access token",
        )
    ]
    assert len(server.on(CLICKS)) == 2
    assert len(server.on("/token")) == 1
    assert [values["access_token"] for values in saved.values] == ["fresh"]


ADJUSTMENTS = "/v26/customers/1234567890:uploadConversionAdjustments"


def restatement(i=0, **overrides):
    fields = {"dedup_key": f"cv-{i}-v2", "restatement": True, "restates": f"cv-{i}", "gclid": "G"}
    return ads.build(facts(**(fields | overrides)), target("google_ads", config=CONFIG))


def test_a_corrected_value_is_a_restatement_of_the_original_order_id(server):
    from google.ads.googleads.v26.services.types import conversion_adjustment_upload_service as cas

    server.reply(ADJUSTMENTS, Reply(200, {"results": [{}]}))
    server.reply(CLICKS, Reply(200, {"results": [{}]}))
    item = restatement(value=Decimal("175.5"))
    assert item["orderId"] == "cv-0"
    assert item["adjustmentType"] == "RESTATEMENT"
    assert item["restatementValue"] == {"adjustedValue": 175.5, "currencyCode": "USD"}
    assert ads.group_key(item) == "adjustment"
    assert ads.send(ads_target(server), [item, click(1)], http()) == [base.Result("accepted")] * 2
    [body] = [r.json() for r in server.requests if r.path == ADJUSTMENTS]
    message = cas.UploadConversionAdjustmentsRequest.pb()()
    json_format.ParseDict(body, message)
    assert_json_names(message.DESCRIPTOR, body)
    assert (message.partial_failure, len(message.conversion_adjustments)) == (True, 1)


def test_a_call_conversion_is_never_restated():
    item = restatement(upload="call", caller_e164="+14155550100")
    assert item == base.Skip("Google restates click conversions by order id only")


def test_an_adjustment_google_cannot_find_yet_waits(server):
    failure = partial_failure((0, "CONVERSION_NOT_FOUND", "Not found."))
    detail = failure["partialFailureError"]["details"][0]["errors"][0]
    detail["errorCode"] = {"conversionAdjustmentUploadError": "CONVERSION_NOT_FOUND"}
    detail["location"]["fieldPathElements"][0]["fieldName"] = "conversion_adjustments"
    server.reply(ADJUSTMENTS, Reply(200, failure))
    assert ads.send(ads_target(server), [restatement()], http()) == [
        base.Result("retry", "CONVERSION_NOT_FOUND", "Not found.", 21600.0)
    ]


def test_a_retraction_names_the_order_id_and_carries_no_value():
    from google.ads.googleads.v26.services.types import conversion_adjustment_upload_service as cas

    item = restatement(retraction=True, value=Decimal("175.5"))
    assert item["adjustmentType"] == "RETRACTION"
    assert "restatementValue" not in item
    body = {"conversionAdjustments": [base.public(item)], "partialFailure": True}
    message = cas.UploadConversionAdjustmentsRequest.pb()()
    json_format.ParseDict(body, message)
    assert_json_names(message.DESCRIPTOR, body)
