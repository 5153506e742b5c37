"""Hypothesis fuzzes the endpoints anyone on the internet can reach: the DNI endpoint (arbitrary
bodies, content types, origins and field types, with a valid public key and without one) and the
Twilio webhooks (arbitrary form bodies, signed with the account's token so they get past the
signature check, and unsigned). Whatever arrives: never a 5xx, and the contract's answers only.

Derandomized (the same examples every run) and bounded (a few hundred requests in all). The
account is made once per test, not per example (hence `function_scoped_fixture` suppressed):
examples are meant to build on each other's writes, as real traffic does, all inside the
test's transaction."""

import json
import uuid
import xml.etree.ElementTree as ET

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from attribution.dni import config as dni_config
from calls.models import Call
from tests.attribution.dni_helpers import BROWSER_UA, ORIGIN
from tests.calls.twilio_support import BASE, FORWARD_TO, SID, TOKEN, TRACKING, send
from tests.factories import (
    AccountFactory,
    CampaignFactory,
    PoolFactory,
    PoolNumberFactory,
    StaticNumberFactory,
)

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DNI_STATUSES = {200, 201, 400, 403, 404, 413, 429}
DNI_ANSWER = {"session_id", "visitor_id", "number", "campaign", "expires_at"}


@pytest.fixture
def account(db, settings):
    # Far above what the examples send: the fuzz is after the answers, not the limiter.
    settings.DNI_RATE_PER_IP = settings.DNI_RATE_PER_KEY = 1_000_000
    settings.PUBLIC_BASE_URL = BASE
    cache.clear()
    dni_config.clear()
    account = AccountFactory(allowed_origins=[ORIGIN], twilio_auth_token=TOKEN)
    campaign = CampaignFactory(account=account, channel="direct", forward_to=FORWARD_TO)
    PoolNumberFactory(pool=PoolFactory(campaign=campaign, is_default=True), e164="+12125550142")
    StaticNumberFactory(campaign=campaign, e164=TRACKING)
    return account


# ------------------------------------------------------------------------------ DNI


def _containers(inner):
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    _containers,
    max_leaves=6,
)
# Past the fields' limits (64 and 2,048 characters), mostly under the 16 KB body limit.
huge_text = st.integers(min_value=60, max_value=4_000).map(lambda n: "é" * n)


def _field(*likely):
    """A field's value: most often a likely one (so requests get past validation and reach
    the sessions), else any JSON value, a huge string or odd text."""
    likely_values = st.sampled_from(likely)
    odd = st.one_of(json_values, huge_text, st.text())
    return st.one_of(*[likely_values] * 5, odd)


@st.composite
def dni_bodies(draw, public_key: str):
    fields = {
        "key": _field(public_key, public_key, "pk_unknown"),
        "url": _field(f"{ORIGIN}/?utm_source=google", f"{ORIGIN}/", "javascript:alert(1)"),
        "visitor_id": _field(None, "visitor-000001", "v"),
        "session_id": _field(None, str(uuid.UUID(int=7)), "not-a-uuid"),
        "referrer": _field("", "https://www.google.com/", "::"),
        "consent": _field(True, False, "yes"),
    }
    body = {}
    for index, (name, value) in enumerate(fields.items()):
        required = index < 2  # key and url: present 9 times in 10
        if draw(st.integers(0, 9)) < (9 if required else 5):
            body[name] = draw(value)
    shape = draw(st.sampled_from(["object"] * 6 + ["json", "bytes"]))
    if shape == "object":
        return json.dumps(body).encode()
    if shape == "json":
        return json.dumps(draw(json_values)).encode()
    return draw(st.binary(max_size=200))


content_types = st.sampled_from(
    [
        "text/plain;charset=UTF-8",
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/octet-stream",
        "text/plain;charset=latin-1",
    ]
)
origins = st.sampled_from([ORIGIN, ORIGIN, ORIGIN, None, "https://evil.example.com", "null"])


@settings(FUZZ, max_examples=80)
@given(data=st.data())
def test_dni_answers_any_body_with_a_contract_status_and_json(client, account, data):
    for _ in range(2):  # two requests per example: a session, then whatever comes after it
        body = data.draw(dni_bodies(account.public_key))
        origin = data.draw(origins)
        headers = {"HTTP_ORIGIN": origin} if origin is not None else {}
        response = client.post(
            "/dni/v1/sessions",
            body,
            content_type=data.draw(content_types),
            HTTP_USER_AGENT=BROWSER_UA,
            **headers,
        )
        assert response.status_code in DNI_STATUSES, response.content[:300]
        event(f"DNI {response.status_code}")  # the mix: pytest --hypothesis-show-statistics
        assert response["Content-Type"] == "application/json"
        answer = json.loads(response.content)
        if response.status_code in (200, 201):
            assert set(answer) == DNI_ANSWER
        else:
            assert set(answer) == {"code", "message", "errors"}


# ------------------------------------------------------------------------------ Twilio

SIDS = [SID, "CA" + "b" * 32, "", "not-a-sid"]
twilio_text = st.one_of(st.text(max_size=30), st.sampled_from(["", " ", "0", "-1", "1e9"]))
TWILIO_FIELDS = {
    "CallSid": st.sampled_from(SIDS) | twilio_text,
    "ParentCallSid": st.sampled_from(SIDS) | twilio_text,
    "From": st.sampled_from(["+14155552671", "anonymous", "client:alice", "266696687"])
    | twilio_text,
    "CallStatus": st.sampled_from(
        ["ringing", "in-progress", "completed", "busy", "no-answer", "canceled", "failed"]
    )
    | twilio_text,
    "DialCallStatus": st.sampled_from(["completed", "answered", "no-answer", "busy", "failed"])
    | twilio_text,
    "CallDuration": st.integers(-5, 10**12).map(str) | twilio_text,
    "DialCallDuration": st.integers(-5, 10**12).map(str) | twilio_text,
    "RecordingUrl": st.sampled_from(["https://api.twilio.com/rec/RE1", "ftp://x", ""])
    | twilio_text,
    "RecordingStatus": st.sampled_from(["completed", "absent", "failed"]) | twilio_text,
    "RecordingDuration": st.integers(-5, 10**12).map(str) | twilio_text,
    "Timestamp": st.sampled_from(["Thu, 03 Dec 2026 13:00:00 +0000", "yesterday"]) | twilio_text,
    "SequenceNumber": st.integers(-5, 10**6).map(str) | twilio_text,
}


@st.composite
def twilio_forms(draw, *, parent: bool = True):
    """A form Twilio could send to a number of ours: `To` is our tracking number, so the
    request names the account whose token must verify it; anything else is arbitrary."""
    form = {"To": TRACKING}
    for name, values in TWILIO_FIELDS.items():
        if (parent or name != "ParentCallSid") and draw(st.booleans()):
            form[name] = draw(values)
    extra = st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=20), max_size=3)
    return {**draw(extra), **form}


routes = st.sampled_from(["voice", "status", "dial", "recording"])


def _assert_twiml(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/xml")
    assert ET.fromstring(response.content).tag == "Response"


@settings(FUZZ, max_examples=150)
@given(route=routes, form=twilio_forms(), method=st.sampled_from(["post", "post", "get"]))
def test_a_signed_twilio_webhook_always_answers_twiml(client, account, route, form, method):
    _assert_twiml(send(client, route, form, method=method))


@settings(FUZZ, max_examples=40)
@given(route=routes, form=twilio_forms(parent=False))
def test_an_unsigned_twilio_webhook_for_our_number_is_403(client, account, route, form):
    response = send(client, route, form, signature="not-a-signature")
    assert response.status_code == 403
    assert response.content == b"Twilio signature missing or invalid."


@settings(FUZZ, max_examples=40)
@given(route=routes, body=st.binary(max_size=300), content_type=content_types)
def test_a_twilio_webhook_with_any_body_is_never_a_server_error(
    client, account, route, body, content_type
):
    response = client.post(f"/webhooks/twilio/{route}", body, content_type=content_type)
    if content_type == "multipart/form-data":  # no boundary: Django cannot read the form
        assert response.status_code == 400
        return
    assert response.status_code in (200, 403)
    if response.status_code == 200:
        _assert_twiml(response)


@pytest.mark.parametrize("route", ["status", "dial", "recording"])
def test_a_twilio_duration_past_a_week_is_stored_as_no_duration_not_a_500(client, account, route):
    # Found by the fuzz: CallDuration=10^12 overflowed the integer column (a 500 to Twilio,
    # which retries). Like any Twilio data we cannot read, it is taken as absent.
    huge = str(10**12)
    form = {"To": TRACKING, "CallSid": SID, "CallStatus": "completed", "CallDuration": huge}
    form |= {"DialCallStatus": "completed", "DialCallDuration": huge, "RecordingDuration": huge}
    _assert_twiml(send(client, route, form))
    call = Call.objects.get(external_id=SID)
    assert (call.duration_seconds, call.talk_seconds) == (0, None)
