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
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and EXAMPLES:
        reporter.write_line(
            f"schemathesis: {len(EXAMPLES)} operations, {sum(EXAMPLES.values())} requests"
        )
        reporter.write_line(str(EXAMPLES.most_common(12)))


@schema.parametrize()
# The key and its account are made once per operation, not per example: examples are meant to
# build on each other's writes (one transaction per operation, rolled back after it).
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_its_schema_says(case, api_headers):
    EXAMPLES[case.operation.label] += 1
    case.call_and_validate(headers=api_headers, checks=CHECKS)
