"""Celery beat targets of DNI (config.settings.CELERY_BEAT_SCHEDULE). Thin: one service call each.

Neither takes arguments or retries: both are idempotent sweeps over the current state, and the
next beat is the retry.
"""

from celery import shared_task

from attribution.dni import housekeeping, sizing


@shared_task
def release_expired_assignments_task() -> int:
    """Mark ended leases released (every minute). Idempotent; bookkeeping only, since liveness
    is `ends_at`, so a late or missed run changes no number handed out. Returns the count."""
    return housekeeping.release_expired_assignments()


@shared_task
def size_pools_task() -> int:
    """Recompute every active pool's Erlang B sizing figures (hourly). Idempotent; writes only
    the figures, never adds or removes a number. Returns how many pools were sized."""
    return sizing.size_pools()
