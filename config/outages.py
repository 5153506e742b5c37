"""PostgreSQL away (restarting, failed over, out of connections): a clean 503, not an HTML 500.

A view that cannot reach the database raises `django.db.OperationalError` or `InterfaceError`
(psycopg_pool's `PoolTimeout` arrives as an OperationalError: Django wraps connection errors).
Every such request answers in the API's error shape (config/exceptions.py) with `Retry-After`,
so integrators retry it, and nothing was written: services are atomic, so a request that failed
mid-way rolled back with its connection. Once PostgreSQL is back the pool's health check
(`CONN_HEALTH_CHECKS`) replaces the dead connections and requests succeed again without a restart
of the web processes (docs/operations.md has the figures).

OperationalError also covers a serialization failure, a deadlock or a statement timeout: they
are transient too, and a retry is the right answer to each."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
BODY = {
    "code": "database_unavailable",
    "message": "The database is unavailable for a moment. Retry the request in "
    f"{RETRY_AFTER_SECONDS} seconds; a retry with the same external_id or Idempotency-Key "
    "is stored once.",
    "errors": {},
}


class DatabaseOutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None  # anything else is a bug: Django's 500 and its error log
        logger.warning("database unavailable on %s %s: %s", request.method, request.path, exception)
        response = JsonResponse(BODY, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
