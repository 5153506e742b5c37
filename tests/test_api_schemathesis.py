"""The API against its own OpenAPI schema, by schemathesis: every operation the schema at
/api/schema/ describes is called in-process through the WSGI app, with an admin key of an account
that has data behind every resource, and every answer must be no 5xx, a status code the schema
documents for that operation, the documented content type, a body matching the documented schema
and the documented headers.

The schema is read from the running app, so a new endpoint is covered without new test code. The
run is derandomized (a fixed seed) and bounded (`MAX_EXAMPLES` per operation in the fuzzing
phase, plus schemathesis's examples and coverage phases) so it stays well under two minutes.
"""

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from campaigns import services
from campaigns.models import Role
from tests.factories import (
    AccountFactory,
    AssignmentFactory,
    BlockedNumberFactory,
    CallFactory,
    CampaignFactory,
    ConversionFactory,
    CostFactory,
    CrmStageMappingFactory,
    DestinationFactory,
    KeywordFactory,
    OutcomeFactory,
    PoolFactory,
    PoolNumberFactory,
    SessionFactory,
    StaticNumberFactory,
    TouchpointFactory,
)

SEED = 20261203
MAX_EXAMPLES = 8
STATEFUL_SCENARIOS = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

# What ran, per operation: printed at the end of the module so a run says how much it covered.
EXAMPLES: Counter = Counter()


def _seed_account():
    """An account with a row behind every resource, so list and detail answers have bodies."""
    account = AccountFactory(name="Schemathesis Plumbing", twilio_auth_token="st-token")
    campaign = CampaignFactory(account=account, name="Search")
    keyword = KeywordFactory(campaign=campaign, text="emergency plumber")
    pool = PoolFactory(campaign=campaign, keyword=keyword)
    number = PoolNumberFactory(pool=pool)
    StaticNumberFactory(campaign=CampaignFactory(account=account, name="Radio"))
    CostFactory(campaign=campaign, date=dt.date(2026, 11, 2), amount=Decimal("41.20"))
    session = SessionFactory(account=account, campaign=campaign, keyword=keyword)
    AssignmentFactory(number=number, session=session)
    call = CallFactory(
        account=account,
        campaign=campaign,
        keyword=keyword,
        session=session,
        tracking_e164=number.e164,
        started_at=timezone.now() - dt.timedelta(days=1),
    )
    TouchpointFactory(call=call, campaign=campaign, keyword=keyword, session=session)
    OutcomeFactory(account=account, call=call, stage="won", value=Decimal("250.00"))
    BlockedNumberFactory(account=account)
    CrmStageMappingFactory(account=account)
    ConversionFactory(destination=DestinationFactory(account=account))
    return account


def _load_schema():
    """The schema the app serves at /api/schema/, fetched through the WSGI app at import (the
    operations become one test each). schemathesis's WSGI client calls the app as "localhost"."""
    with override_settings(ALLOWED_HOSTS=["localhost"]):
        loaded = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    loaded.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)
    # The coverage phase is deterministic and unbounded by max_examples: its negative half alone
    # is ~3,000 requests (minutes here). Its positive half (every parameter's boundary values,
    # every documented answer's schema) stays; the fuzzing phase sends invalid data too.
    loaded.config.phases.coverage.generation.update(modes=["positive"])
    loaded.config.seed = SEED
    return loaded


schema = _load_schema()


@pytest.fixture
def _keep_the_test_connection():
    """The real WSGI handler closes "old" connections at each request's start and end, which
    hands the test's open transaction back to the pool (rolled back, seed data gone). Django's
    test client disconnects the same receiver for the same reason."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_headers(db, settings, _keep_the_test_connection):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    _, raw_key = services.issue_api_key(account=_seed_account(), role=Role.ADMIN)
    return {"Authorization": f"Bearer {raw_key}"}


@pytest.fixture(scope="module", autouse=True)
def _report_coverage(request):
    """Say how much ran (operations, requests per phase), past pytest's output capture."""
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or not EXAMPLES:
        return
    phases = Counter()
    for (_, phase), count in EXAMPLES.items():
        phases[phase] += count
    operations = {label for label, _ in EXAMPLES}
    with capture.global_and_fixture_disabled():
        reporter.write_line(
            f"schemathesis: {len(operations)} operations, {sum(phases.values())} requests "
            f"({', '.join(f'{phase} {count}' for phase, count in phases.most_common())})"
        )


@schema.parametrize()
# The key and its account are made once per operation, not per example: examples are meant to
# build on each other's writes (one transaction per operation, rolled back after it).
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_its_schema_says(case, api_headers):
    EXAMPLES[case.operation.label, case.meta.phase.name.value] += 1
    response = case.call_and_validate(headers=api_headers, checks=CHECKS)
    # A throttled example tests nothing but the limiter: each operation has its own key.
    assert response.status_code != 429


# -- Stateful: the links schemathesis infers (a list's ids into GET/PATCH/DELETE of one) -----

APIWorkflow = schema.as_state_machine()


def test_linked_operations_answer_as_the_schema_says(api_headers):
    class Workflow(APIWorkflow):
        def get_call_kwargs(self, case):
            return {"headers": api_headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            EXAMPLES[case.operation.label, "stateful"] += 1
            case.validate_response(response, checks=CHECKS, headers=api_headers)

    before = sum(n for (_, phase), n in EXAMPLES.items() if phase == "stateful")
    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=6,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
    )
    # Checks that run on no step prove nothing: the links must have produced requests.
    assert sum(n for (_, phase), n in EXAMPLES.items() if phase == "stateful") - before > 50


# -- What the run found, each kept as a plain test ----------------------------------------------


def test_a_filter_error_on_a_request_whose_body_is_not_json_is_a_400(api):
    # The error handler read request.data to align batch errors; an unparseable body made
    # that read raise inside the handler, and the 400 became a 500.
    response = api.generic("GET", "/api/v1/calls/?page_size=0", "x", content_type="text/plain")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "page_size": ["Send a whole number from 1 to 500, not '0'."]
    }


def test_a_bad_idempotency_key_with_a_text_body_is_a_400(api):
    response = api.post(
        "/api/v1/outcomes/", "{}", content_type="text/plain", HTTP_IDEMPOTENCY_KEY="x" * 256
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["Idempotency-Key"]


def test_a_moment_whose_offset_postgresql_refuses_is_read_in_utc(api, account):
    # +16:59 is a valid ISO 8601 offset in Python and out of PostgreSQL's range (±15:59).
    ConversionFactory(destination=DestinationFactory(account=account))
    response = api.get("/api/v1/conversions/", {"start": "2000-01-01T00:00:00+16:59"})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_a_moment_that_leaves_the_calendar_in_utc_is_a_400(api):
    response = api.get("/api/v1/calls/", {"end": "0001-01-01T00:00:00+16:59"})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "end": ["This moment is out of range: send a year from 1 to 9999."]
    }


def test_an_unreadable_cursor_is_a_400(api):
    response = api.get("/api/v1/campaigns/", {"cursor": "é"})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "cursor": ["Not a cursor we gave out: follow `next` as given."]
    }


@pytest.mark.parametrize("path", ["/api/v1/calls/0.5/", "/api/v1/nothing-here/"])
def test_an_api_url_no_route_matches_is_a_json_404(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "code": "not_found",
        "message": f"No such path: {path}",
        "errors": {},
    }


def test_an_id_past_bigint_is_a_404(api):
    response = api.get("/api/v1/calls/99999999999999999999/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_schema_documents_the_error_answers_and_the_batch_posts(db):
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    assert {"400", "401", "403", "404", "415"} <= set(
        paths["/api/v1/campaigns/{id}/"]["patch"]["responses"]
    )
    assert {"401", "403", "404", "409"} <= set(
        paths["/api/v1/campaigns/{id}/"]["delete"]["responses"]
    )
    outcomes = paths["/api/v1/outcomes/"]["post"]
    assert {"409", "422"} <= set(outcomes["responses"])
    item = {"$ref": "#/components/schemas/Outcome"}
    assert outcomes["responses"]["201"]["content"]["application/json"]["schema"] == {
        "oneOf": [item, {"type": "array", "items": item}]
    }
