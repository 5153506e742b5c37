"""X-Twilio-Signature: our verifier agrees with twilio-python's RequestValidator on every input,
and the webhooks verify the URL Twilio called (PUBLIC_BASE_URL behind a proxy)."""

import json
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from twilio.request_validator import RequestValidator

from calls.models import Call
from calls.twilio import signature
from tests.factories import AccountFactory, CampaignFactory, StaticNumberFactory

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}


def form(params, doseq=False) -> QueryDict:
    return QueryDict(urlencode(params, doseq=doseq))


def ours(url, params, sig, token=TOKEN, body=None):
    return signature.is_valid(token=token, url=url, signature=sig, params=params, body=body)


def test_twilios_published_vector_is_reproduced():
    assert signature.compute_signature(token=TOKEN, url=URL, params=form(PARAMS)) == (
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )
    assert ours(URL, form(PARAMS), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


@pytest.mark.parametrize(
    ("url", "sig", "valid"),
    [
        # Signed with the port written out, requested without it, and the reverse.
        ("https://mycompany.com/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w=", True),
        ("https://mycompany.com:443/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", True),
        ("http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4=", True),
        ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", True),
        # twilio-python strips any port, not only the standard one, when it tries without.
        ("https://mycompany.com:8443/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", True),
        ("https://mycompany.com/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", False),
        ("https://mycompany.com/myapp.php?bar=2&foo=1", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", False),
    ],
)
def test_port_variants_are_judged_as_twilio_judges_them(url, sig, valid):
    assert ours(url, form(PARAMS), sig) is valid
    assert RequestValidator(TOKEN).validate(url, form(PARAMS), sig) is valid


def test_duplicate_parameters_sign_each_distinct_value_in_order():
    params = form({"Sid": "CA123", "SidAccount": "AC123", "Digits": ["5678", "1234", "1234"]}, True)
    expected = "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    assert RequestValidator(TOKEN).compute_signature(URL, params) == expected
    assert signature.compute_signature(token=TOKEN, url=URL, params=params) == expected
    assert ours(URL, params, expected)


@pytest.mark.parametrize(
    "body",
    [
        "To=a&To=b&From=%2B14155552671",
        "To=b&To=a",
        "To=a",
        "Body=caf%C3%A9+%26+cr%C3%A8me&To=%20spaced%20",
        "a=1&B=2&_=3&%C3%A9=4",
        "",
    ],
)
def test_our_signature_equals_twilios_on_form_bodies(body):
    params = QueryDict(body)
    for url in (URL, "https://calls.example.com/webhooks/twilio/voice", "http://h:8000/x?q=%20"):
        expected = RequestValidator(TOKEN).compute_signature(url, params)
        assert signature.compute_signature(token=TOKEN, url=url, params=params) == expected


def test_a_signature_over_one_value_of_a_duplicate_does_not_verify_both():
    sig = RequestValidator(TOKEN).compute_signature(URL, QueryDict("To=a"))
    assert not ours(URL, QueryDict("To=a&To=b"), sig)
    assert not RequestValidator(TOKEN).validate(URL, QueryDict("To=a&To=b"), sig)


@pytest.mark.parametrize("sig", ["", None, "RSOYDt4T1cUTdK1PDd93/VVr8B8", "forged=="])
def test_missing_or_forged_signatures_fail(sig):
    assert not ours(URL, form(PARAMS), sig)


def test_a_wrong_token_or_an_empty_token_fails():
    sig = RequestValidator(TOKEN).compute_signature(URL, form(PARAMS))
    assert not ours(URL, form(PARAMS), sig, token="54321")
    # An account with no token must not accept signatures anyone can compute.
    unsigned = RequestValidator("").compute_signature(URL, form(PARAMS))
    assert not ours(URL, form(PARAMS), unsigned, token="")


def test_json_bodies_are_signed_through_their_hex_sha256():
    body = '{"property": "value", "boolean": true}'
    digest = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    assert signature.body_hash(body.encode()) == digest
    url = f"{URL}&bodySHA256={digest}"
    sig = RequestValidator(TOKEN).compute_signature(url, {})
    assert sig == "a9nBmqA0ju/hNViExpshrM61xv4="
    assert ours(url, None, sig, body=body.encode())
    assert RequestValidator(TOKEN).validate(url, body, sig)
    tampered = b'{"property": "value", "boolean": false}'
    assert not ours(url, None, sig, body=tampered)
    assert not RequestValidator(TOKEN).validate(url, tampered.decode(), sig)


# ------------------------------------------------------------------ through the webhook


@pytest.fixture
def number(db):
    account = AccountFactory(twilio_auth_token="alice-token")
    return StaticNumberFactory(campaign=CampaignFactory(account=account), e164="+12125550100")


VOICE = {"CallSid": "CA" + "1" * 32, "From": "+14155552671", "To": "+12125550100"}


def post_voice(client, *, signed_url, token="alice-token", query="", **extra):
    body = urlencode(VOICE)
    sig = RequestValidator(token).compute_signature(signed_url, QueryDict(body))
    path = "/webhooks/twilio/voice" + (f"?{query}" if query else "")
    return client.post(
        path,
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=sig,
        **extra,
    )


def test_behind_a_proxy_the_public_url_is_verified(client, number, settings):
    settings.PUBLIC_BASE_URL = "https://calls.example.com"
    public = "https://calls.example.com/webhooks/twilio/voice?rc=3"
    assert post_voice(client, signed_url=public, query="rc=3").status_code == 200
    # Signed over the internal URL the request arrived at: not what Twilio signs.
    internal = "http://testserver/webhooks/twilio/voice?rc=3"
    assert post_voice(client, signed_url=internal, query="rc=3").status_code == 403
    assert Call.objects.count() == 1


def test_without_public_base_url_the_requested_url_is_verified(client, number, settings):
    settings.PUBLIC_BASE_URL = ""
    url = "http://testserver/webhooks/twilio/voice"
    assert (
        post_voice(client, signed_url="http://testserver:80/webhooks/twilio/voice").status_code
        == 200
    )
    assert post_voice(client, signed_url=url, token="wrong").status_code == 403


def test_a_json_request_is_verified_by_its_body_hash(client, number, settings):
    settings.PUBLIC_BASE_URL = "https://calls.example.com"
    body = json.dumps(VOICE).encode()
    query = f"bodySHA256={signature.body_hash(body)}"
    url = f"https://calls.example.com/webhooks/twilio/voice?{query}"
    sig = RequestValidator("alice-token").compute_signature(url, {})
    path = f"/webhooks/twilio/voice?{query}"
    tampered = json.dumps({**VOICE, "From": "+14155550000"})
    forged = client.post(
        path, tampered, content_type="application/json", HTTP_X_TWILIO_SIGNATURE=sig
    )
    assert forged.status_code == 403
    response = client.post(path, body, content_type="application/json", HTTP_X_TWILIO_SIGNATURE=sig)
    assert response.status_code == 200
    assert Call.objects.get().caller_e164 == "+14155552671"
