"""The Celery app `config`: `celery -A config worker`, `celery -A config beat`.

Without CELERY_BROKER_URL the settings make every task run in-process (eager), which is what the
demo uses; production and the Celery tests use Redis."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Autodiscovery imports `<app>.tasks` only; tasks of a sub-package are named here.
app.autodiscover_tasks(
    [
        "attribution.dni",
        "attribution.credits",
        "attribution.reports",
        "attribution.conversions",
        "attribution.privacy",
    ]
)
