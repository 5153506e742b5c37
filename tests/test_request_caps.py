"""Caps on what one request may carry (config.limits, campaigns.api.pagination, the batch
endpoints): a body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 in the error shape on every route,
with or without a Content-Length, and writes nothing; a batch holds at most 1,000 items; a page
at most 500 rows."""

import io
import json
import sys
from urllib.parse import urlencode

import pytest
from django.core import signals
from django.core.handlers.asgi import ASGIRequest
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.http import HttpResponse

from attribution.models import Outcome
from calls.models import Call
from campaigns import ratelimit
from config.limits import RequestLimitsMiddleware
from tests.attribution.dni_helpers import ORIGIN, browser, post
from tests.factories import AccountFactory, CampaignFactory, StaticNumberFactory

LIMIT = 2000


def verbose_call(index: int) -> dict:
    """A call as a provider sends it, with every optional field at a realistic length."""
    return {
        "provider": "twilio",
        "external_id": f"CA{index:032x}",
        "tracking_number": "+12125550170",
        "caller_number": "+14155552671",
        "started_at": "2026-11-02T15:04:05.123456Z",
        "duration_seconds": 95,
        "talk_seconds": 80,
        "status": "answered",
        "recording_url": f"https://api.twilio.com/2010-04-01/Accounts/AC{index:032x}/"
        f"Recordings/RE{index:032x}",
        "agent": "Jordan Example (front desk)",
        "transferred": False,
    }


def too_large(size: int | None, limit: int = LIMIT) -> dict:
    sent = f"The body is {size:,} bytes" if size is not None else "The body is too large"
    return {
        "code": "request_too_large",
        "message": f"{sent}; this endpoint takes at most {limit:,} bytes. Send a smaller body, "
        "or split a batch into several requests.",
        "errors": {},
    }


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    ratelimit.reset_outage()
    settings.API_RATE_PER_KEY = 100_000


@pytest.fixture
def small_bodies(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT


def test_a_verbose_batch_of_1000_calls_fits_well_inside_the_default_body_limit(api, account):
    StaticNumberFactory(campaign=CampaignFactory(account=account), e164="+12125550170")
    body = [verbose_call(index) for index in range(1000)]
    size = len(json.dumps(body).encode())
    assert 300_000 < size < 2_621_440 / 5  # about 0.4 MB, measured: the default has 6x room
    response = api.post("/api/v1/calls/", body, format="json")
    assert response.status_code == 201
    assert Call.objects.filter(account=account).count() == 1000


def test_a_json_body_over_the_limit_is_413_and_writes_nothing(api, account, small_bodies):
    body = json.dumps([verbose_call(index) for index in range(10)])
    response = api.post("/api/v1/calls/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == too_large(len(body.encode()))
    assert not Call.objects.exists()


def test_a_twilio_webhook_body_over_the_limit_is_413_not_a_signature_error(client, small_bodies):
    form = urlencode({"CallSid": "CA1", "From": "+14155552671", "Junk": "x" * LIMIT})
    response = client.post(
        "/webhooks/twilio/status", form, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert response.json() == too_large(len(form))


def test_a_multipart_form_over_the_limit_is_413_too(client, db, small_bodies):
    """Multipart bodies are left to Django, which counts their fields, not their files: its
    RequestDataTooBig becomes the same 413, not Django's bare 400."""
    form = {"CallSid": "CA1", "From": "+14155552671", "Junk": "x" * LIMIT}
    response = client.post("/webhooks/twilio/status", form)
    assert response.status_code == 413
    assert response.json() == too_large(None)


def test_the_dni_endpoint_takes_at_most_16_kb(db):
    account = AccountFactory(allowed_origins=[ORIGIN])
    body = {"key": account.public_key, "url": f"{ORIGIN}/", "referrer": "x" * 17_000}
    size = len(json.dumps(body).encode())
    response = post(browser(), body)
    assert response.status_code == 413
    assert response.json() == too_large(size, limit=16 * 1024)


def wsgi_post(path: str, body: bytes, **headers) -> tuple[str, dict, bytes]:
    """POST through the whole WSGI application as gunicorn calls it for a chunked request: the
    chunks decoded into wsgi.input, no CONTENT_LENGTH, wsgi.input_terminated set."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "localhost",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        **headers,
    }
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"], answer["headers"] = status, dict(response_headers)

    # As Django's test client does: the test's transaction holds the one connection, which
    # the request signals would otherwise close.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        response = WSGIHandler()(environ, start_response)
        content = b"".join(response)
        response.close()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return answer["status"], answer["headers"], content


def key_header(api_for, account) -> dict:
    client = api_for(account)
    return {"HTTP_AUTHORIZATION": client._credentials["HTTP_AUTHORIZATION"]}


def test_a_chunked_body_over_the_limit_is_413(api_for, account, small_bodies, settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    body = json.dumps([verbose_call(index) for index in range(10)]).encode()
    status, headers, content = wsgi_post("/api/v1/calls/", body, **key_header(api_for, account))
    assert status.startswith("413")
    assert json.loads(content) == too_large(None)
    assert not Call.objects.exists()


def test_a_chunked_body_within_the_limit_is_read_like_any_other(api_for, account, settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    outcome = {
        "crm": "hubspot",
        "external_id": "D1",
        "stage": "won",
        "value": "120",
        "occurred_at": "2026-11-02T16:00:00Z",
    }
    status, _, content = wsgi_post(
        "/api/v1/outcomes/", json.dumps(outcome).encode(), **key_header(api_for, account)
    )
    assert status.startswith("201"), content
    assert Outcome.objects.get(account=account).external_id == "D1"


@pytest.mark.parametrize(
    ("path", "item"),
    [
        ("/api/v1/calls/", {}),
        ("/api/v1/outcomes/", {}),
        ("/api/v1/costs/", {}),
        (
            "/api/v1/outcomes/hubspot/",
            {"objectId": 1, "propertyName": "dealstage", "propertyValue": "closedwon"},
        ),
    ],
)
def test_a_batch_holds_at_most_1000_items(api, path, item):
    response = api.post(path, [item] * 1001, format="json")
    assert response.status_code == 400
    assert response.json()["message"] == "Ensure this field has no more than 1000 elements."


@pytest.mark.parametrize("page_size", ["0", "-1", "501", "100000", "ten", "1.5"])
def test_a_page_size_outside_1_to_500_is_a_400_naming_the_range(api, page_size):
    response = api.get("/api/v1/campaigns/", {"page_size": page_size})
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": f"page_size: Send a whole number from 1 to 500, not '{page_size}'.",
        "errors": {"page_size": [f"Send a whole number from 1 to 500, not '{page_size}'."]},
    }


def test_a_page_of_500_is_allowed_and_the_default_is_50(api, account):
    CampaignFactory.create_batch(60, account=account)
    assert len(api.get("/api/v1/campaigns/", {"page_size": 500}).json()["results"]) == 60
    assert len(api.get("/api/v1/campaigns/").json()["results"]) == 50


def asgi_request(body: bytes) -> ASGIRequest:
    """A request as Django's ASGI handler builds it for a chunked body: spooled, no length."""
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/calls/",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
    }
    return ASGIRequest(scope, io.BytesIO(body))


def test_under_asgi_a_body_without_length_is_measured_and_given_its_length(small_bodies):
    middleware = RequestLimitsMiddleware(lambda request: HttpResponse(request.body))
    big = middleware(asgi_request(b"x" * (LIMIT + 1)))
    small = middleware(asgi_request(b'{"a": 1}'))
    assert big.status_code == 413
    assert json.loads(big.content) == too_large(LIMIT + 1)
    assert (small.status_code, small.content) == (200, b'{"a": 1}')
