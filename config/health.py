"""`GET /healthz` for load balancers and the Docker HEALTHCHECK (PRODUCT.md, "The public contract").

200 while the database answers (status `ok`, or `degraded` when only the broker is down),
503 when it does not. Checks are bounded by short timeouts so a probe never hangs."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

# Seconds a probe waits for a pooled connection: under the Docker HEALTHCHECK's 4 s, shorter
# than the pool's own timeout for requests (DATABASE_POOL_TIMEOUT).
PROBE_TIMEOUT = 2.0


def database_status() -> str:
    try:
        pool = connection.pool
        if pool is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        else:
            # The pool, as requests get it (so `ok` means requests can be served again after
            # an outage), but bounded by the probe's own timeout.
            pool.open()
            with pool.connection(timeout=PROBE_TIMEOUT) as conn:
                conn.execute("SELECT 1")
    except Exception:  # any failure to answer means down; the probe must not raise
        connection.close_if_unusable_or_obsolete()
        return "down"
    return "ok"


def broker_status() -> str:
    if not settings.CELERY_BROKER_URL:
        return "unconfigured"
    try:
        # One attempt: a retry doubled a probe of a stopped Redis to 2.4 s (0.3 s without).
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=1) as conn:
            conn.ensure_connection(max_retries=0, timeout=1)
    except Exception:  # kombu raises transport-specific errors; all of them mean down
        return "down"
    return "ok"


@never_cache
@require_GET
def healthz(request):
    database, broker = database_status(), broker_status()
    if database == "down":
        overall = "down"
    elif broker == "down":
        overall = "degraded"
    else:
        overall = "ok"
    body = {"status": overall, "database": database, "broker": broker}
    return JsonResponse(body, status=503 if database == "down" else 200)
