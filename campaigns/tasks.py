"""Celery beat targets of the campaigns app (config.settings.CELERY_BEAT_SCHEDULE). Thin."""

from celery import shared_task

from campaigns import idempotency


@shared_task
def purge_idempotency_keys_task() -> int:
    """Delete Idempotency-Keys older than 24 hours (hourly). Idempotent, takes no arguments and
    does not retry: the next beat is the retry. Returns how many were deleted."""
    return idempotency.purge_expired_keys()
