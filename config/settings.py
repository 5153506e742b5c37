"""The one settings module. Everything that differs between machines comes from the environment.

Outside DEBUG a missing SECRET_KEY stops the process at start-up instead of running with a
guessable default.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="insecure-dev-only-key" if DEBUG else environ.Env.NOTSET)
# Rotating SECRET_KEY: put the old one here until sessions and encrypted fields have moved on.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
# Fernet keys for secrets stored in the database (campaigns.crypto), newest first; without them
# a key is derived from SECRET_KEY (and its fallbacks).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The URL the outside world calls us by (Twilio signs the URL it called, which a proxy hides).
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="").rstrip("/")

# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto and X-Forwarded-Host.
if env.bool("BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_HTTPONLY = True
# The admin's session and CSRF cookies never leave the site on cross-site requests.
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Admin log-in throttling: failed attempts per (username, client IP) in PostgreSQL.
    "axes",
    "campaigns",
    "calls",
    "attribution",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Early: an over-large body is refused (413) before anything reads it (config/limits.py).
    "config.limits.RequestLimitsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who is acting, for the audit events services write (campaigns/audit/context.py).
    "campaigns.audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so its process_exception sees a view's database error first: 503, not an HTML 500.
    # Refuses log-ins from a (username, IP) pair locked out after repeated failures.
    "axes.middleware.AxesMiddleware",
    "config.outages.DatabaseOutageMiddleware",
]

# Admin messages stay on the server: one of them shows a new API key, which must not travel
# in a (signed but readable) cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# PostgreSQL only. `scripts/with_postgres.py` sets DATABASE_URL for the make targets; a
# socket directory travels URL-encoded in the host part (postgres://user@%2Fpath/db).
DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/callpath")
}
DATABASES["default"]["HOST"] = unquote(DATABASES["default"].get("HOST") or "")
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise environ.ImproperlyConfigured("Callpath runs on PostgreSQL only: set a postgres:// URL.")
# Django's native psycopg 3 pool; CONN_MAX_AGE must stay 0 with it.
if env.bool("DATABASE_POOL", default=True):
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": 1,
            "max_size": env.int("DATABASE_POOL_SIZE", default=10),
            # While PostgreSQL is away a request waits this long for a connection, then answers
            # 503 (config.outages): seconds, not the gunicorn timeout (docs/operations.md).
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=3.0),
            # psycopg_pool retries a failed connect with doubling delays for this long: at its
            # default (300 s) the pool came back 11 s after PostgreSQL did, following a 20 s
            # outage. Giving up after 2 s lets the next request start a fresh attempt at once.
            "reconnect_timeout": env.float("DATABASE_POOL_RECONNECT_TIMEOUT", default=2.0),
        },
        # A server that drops packets instead of refusing fails a connect in seconds.
        "connect_timeout": 5,
    }
DATABASES["default"]["CONN_MAX_AGE"] = 0
# With the pool this is the pool's `check`: a pooled connection is tested (one empty query)
# before it is handed out, so the connections a PostgreSQL restart killed are replaced instead
# of failing one request each.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Admin log-in throttling (django-axes): after ADMIN_LOGIN_FAILURE_LIMIT failures for one
# username from one client IP, that pair gets 429 for ADMIN_LOGIN_COOLOFF_MINUTES. Locking by
# username alone would let anyone lock an administrator out; by IP alone, one office's typos would
# lock out its colleagues. Successful log-ins are in our audit log, not in axes' access log.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("ADMIN_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
AXES_CLIENT_IP_CALLABLE = "campaigns.ratelimit.client_ip"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Celery. Without a broker every task runs in-process, so the demo needs no Redis.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# Workers log through LOGGING (below, with its redaction filter), not Celery's own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Redis redelivers an unacknowledged task after this long; every task's hard time limit is far
# below it (the conversions' 300 s), so a running task is never handed to a second worker.
# An unreachable broker fails a publish at once (one connection attempt, at most 2 s), not after
# kombu's connection retries (6 s per publish, measured with Redis down): the outbox's on-commit
# nudge runs inside an API request and the sweeper is its fallback. Publishes with Celery's
# retry policy (beat, the sweepers) still retry; workers reconnect by their own settings.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "max_retries": 0,
    "socket_connect_timeout": 2,
}
CELERY_BEAT_SCHEDULE = {
    # Bookkeeping only: leases are live by their end time whether or not this runs.
    "release-expired-assignments": {
        "task": "attribution.dni.tasks.release_expired_assignments_task",
        "schedule": 60.0,
    },
    "size-pools": {"task": "attribution.dni.tasks.size_pools_task", "schedule": 3600.0},
    # Attribution credits of every account, with fresh data-driven removal effects (the per-call
    # path between runs uses the stored effects). One task per account.
    "recompute-credits": {
        "task": "attribution.credits.tasks.recompute_all_credits_task",
        "schedule": crontab(hour=3, minute=17),
    },
    # Report rollups: the days logged by the database's triggers, rolled up per account.
    "sweep-rollups": {"task": "attribution.reports.tasks.sweep_rollups_task", "schedule": 60.0},
    # The offline-conversion outbox: destinations with rows due get a delivery task.
    "sweep-conversions": {
        "task": "attribution.conversions.tasks.sweep_conversions_task",
        "schedule": 15.0,
    },
    # Idempotency-Keys are replayed for 24 hours; older ones are dead weight.
    "purge-idempotency-keys": {
        "task": "campaigns.tasks.purge_idempotency_keys_task",
        "schedule": 3600.0,
    },
    # Accounts with a retention setting: calls and sessions past it anonymised, one task each.
    "sweep-retention": {
        "task": "attribution.privacy.tasks.sweep_retention_task",
        "schedule": crontab(hour=2, minute=41),
    },
}

# Offline conversions: where each platform is reached (tests and proxies point them elsewhere;
# a destination's own base_url wins) and the OAuth token endpoints of Google and Microsoft.
CONVERSIONS_BASE_URLS = {
    "google_data_manager": env(
        "GOOGLE_DATA_MANAGER_BASE_URL", default="https://datamanager.googleapis.com"
    ),
    "google_ads": env("GOOGLE_ADS_BASE_URL", default="https://googleads.googleapis.com"),
    "meta": env("META_GRAPH_BASE_URL", default="https://graph.facebook.com"),
    "microsoft_ads": env(
        "MICROSOFT_ADS_BASE_URL", default="https://campaign.api.bingads.microsoft.com"
    ),
    "webhook": "",
}
GOOGLE_OAUTH_TOKEN_URL = env(
    "GOOGLE_OAUTH_TOKEN_URL", default="https://oauth2.googleapis.com/token"
)
MICROSOFT_OAUTH_TOKEN_URL = env(
    "MICROSOFT_OAUTH_TOKEN_URL",
    default="https://login.microsoftonline.com/common/oauth2/v2.0/token",
)
# A claimed outbox row is another worker's again after this long (a worker killed mid-batch).
# Longer than the send task's hard time limit, so a live worker never loses its claim.
CONVERSIONS_CLAIM_SECONDS = env.int("CONVERSIONS_CLAIM_SECONDS", default=360)
CONVERSIONS_MAX_ATTEMPTS = env.int("CONVERSIONS_MAX_ATTEMPTS", default=10)
# Backoff of a row to retry: base·2^(attempt-1), jittered, capped (rules.backoff). Smaller in
# the fault tests' workers, which cannot be monkeypatched from the test process.
CONVERSIONS_BACKOFF_BASE_SECONDS = env.float("CONVERSIONS_BACKOFF_BASE_SECONDS", default=30.0)
CONVERSIONS_BACKOFF_CAP_SECONDS = env.float("CONVERSIONS_BACKOFF_CAP_SECONDS", default=6 * 3600.0)

# A shared cache for rate limits: Redis in production (atomic INCR across processes),
# in-process memory for the demo.
CACHE_URL = env("CACHE_URL", default="")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_URL,
        # A Redis that is down or unreachable fails a rate-limit check in at most a second,
        # which then lets the request through (campaigns.ratelimit fails open).
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# Dynamic number insertion: requests per minute per client IP and per public key.
DNI_RATE_PER_IP = env.int("DNI_RATE_PER_IP", default=120)
DNI_RATE_PER_KEY = env.int("DNI_RATE_PER_KEY", default=60_000)
# Behind a proxy, the client is the address the nearest of TRUSTED_PROXY_HOPS proxies saw: the
# X-Forwarded-For entry that many from the right (campaigns.ratelimit.client_ip).
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
TRUSTED_PROXY_HOPS = env.int("TRUSTED_PROXY_HOPS", default=1)
# REST API requests per minute per API key; the reports (ROI, cost per call, KPIs) have their
# own, smaller budget (campaigns.api.throttling).
API_RATE_PER_KEY = env.int("API_RATE_PER_KEY", default=600)
API_RATE_REPORTS_PER_KEY = env.int("API_RATE_REPORTS_PER_KEY", default=60)
# Request bodies above this are answered 413 (config/limits.py). A batch of 1,000 verbose
# calls is about 0.45 MB of JSON (tests/test_request_caps.py): Django's default of 2.5 MB
# leaves five times that.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["campaigns.api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["campaigns.api.auth.ReadOnlyOrWriter"],
    "DEFAULT_PAGINATION_CLASS": "campaigns.api.pagination.IdCursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["campaigns.api.filtering.AccountScopedFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["campaigns.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "PAGE_SIZE": 50,
    # `format` is ours (the finance export's csv|xlsx|json), not DRF's renderer override.
    "URL_FORMAT_OVERRIDE": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Callpath API",
    "DESCRIPTION": "Campaign attribution and call tracking. Authenticate with "
    "`Authorization: Bearer <api key>`; see the README for roles.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # 429 and 413 on every operation that can answer them, RateLimit-* headers.
        "campaigns.api.throttling.document_limits",
        # 400, 401, 403, 404, 409, 422 with the one error shape, from what each operation takes.
        "config.schema.document_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "campaigns.models.Channel",
        "ApiKeyRoleEnum": "campaigns.models.Role",
        "ConversionStatusEnum": "attribution.models.conversions.ConversionStatus",
        "CallStatusEnum": "calls.models.CallStatus",
    },
}

# Every handler carries the redaction filter (config.logging): secrets never reach a log line.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "config.logging.RedactSecrets"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_secrets"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
