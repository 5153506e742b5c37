"""What a REST request costs the application: the calls list (a page of 50) and one outcome
POST through Django's test client (no HTTP server, no network), against the floor of the same
page read by raw psycopg in the same run.

Every request goes through authentication, the per-key rate limit, the audit trail (one INSERT
per read of personal data), masking by role and the request-size checks; the figure to watch is
the application's milliseconds per request and its ratio to the raw query. Run with
`make bench`, or alone under scripts/with_postgres.py. BENCH_API_REQUESTS (default 400) sets
the requests per measurement.
"""

import os
import statistics
import sys
import time
import warnings
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from calls.models import Call  # noqa: E402
from campaigns import services  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_API_REQUESTS", "400"))
CALLS = 500
PAGE = 50


def make_account():
    account = services.create_account(name=f"bench api {time.time_ns()}")
    campaign = services.create_campaign(account=account, name="Print", channel="offline")
    start = timezone.now() - timedelta(days=10)
    Call.objects.bulk_create(
        Call(
            account=account,
            provider="bench",
            external_id=f"c{i}",
            tracking_e164="+12125550100",
            caller_e164=f"+1415555{i % 10000:04d}",
            started_at=start + timedelta(minutes=i),
            duration_seconds=60,
            status="answered",
            campaign=campaign,
            confidence="static",
        )
        for i in range(CALLS)
    )
    return account


def per_request_ms(fn) -> tuple[float, float]:
    samples = []
    for _ in range(REQUESTS):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples), statistics.quantiles(samples, n=20)[-1]


def main() -> None:
    warnings.filterwarnings("ignore", "No directory at")  # WhiteNoise: no collected static here
    call_command("migrate", verbosity=0)
    account = make_account()
    _, raw_key = services.issue_api_key(account=account, role="admin")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    outcome_ids = iter(range(10**9))

    def read_calls() -> None:
        response = client.get(f"/api/v1/calls/?page_size={PAGE}")
        assert response.status_code == 200, response.content[:300]

    def post_outcome() -> None:
        body = {
            "crm": "bench",
            "external_id": f"o{next(outcome_ids)}",
            "stage": "lead",
            "caller_number": "+14155550042",
            "occurred_at": timezone.now().isoformat(),
        }
        response = client.post("/api/v1/outcomes/", body, format="json")
        assert response.status_code == 201, response.content[:300]

    def raw_page() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT * FROM calls_call WHERE account_id = %s "
                "ORDER BY started_at DESC, id DESC LIMIT %s",
                [account.pk, PAGE + 1],
            )
            cursor.fetchall()

    # The bench measures the work, not the limiter's refusals: a budget it never reaches
    # (the limiter still counts every request).
    with override_settings(
        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"], API_RATE_PER_KEY=10**9
    ):
        read_calls(), post_outcome(), raw_page()  # warm up
        rows = [
            ("GET /api/v1/calls/ (page of 50)", per_request_ms(read_calls)),
            ("POST /api/v1/outcomes/ (one)", per_request_ms(post_outcome)),
            ("raw psycopg: the same page", per_request_ms(raw_page)),
        ]
    floor = rows[-1][1][0]
    print(f"\nREST requests in-process, {REQUESTS} each, {CALLS} calls in the account")
    print(f"{'':36}{'median ms':>10}{'p95 ms':>9}{'× raw page':>11}")
    for label, (median, p95) in rows:
        print(f"{label:36}{median:>10.2f}{p95:>9.2f}{median / floor:>11.1f}")


if __name__ == "__main__":
    main()
