"""Every list endpoint answers in a constant number of queries, however many rows (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_for_account
from tests.test_tenancy_matrix import LIST_ROUTES


def queries_for(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("route", LIST_ROUTES, ids=lambda r: r.path)
def test_list_queries_do_not_grow_with_the_rows(route, account, api_for):
    client = api_for(account)
    existing = len(client.get(route.path).json()["results"])  # the audit trail has the key's issue
    make_for_account(route.model, account)
    queries_for(client, route.path)  # the key's first use also records its last use
    one = queries_for(client, route.path)
    for _ in range(10):
        make_for_account(route.model, account)
    eleven = queries_for(client, route.path)
    assert len(client.get(route.path).json()["results"]) == existing + 11
    assert eleven == one
    assert one <= 3  # the key with its account, the page, one prefetch
