"""Celery entry points of the report rollups (config.settings.CELERY_BEAT_SCHEDULE). Thin: ids
in, one service call.

Both are idempotent — a refresh rolls up the days logged when it starts, and a day rolled up
twice comes out the same — so acks_late is safe. No retries: the next sweep a minute later is
the retry, and the log rows of a failed refresh are still there for it (its transaction rolled
back their deletion).
"""

from celery import shared_task

from attribution.reports import rollups


@shared_task(acks_late=True)
def refresh_rollups_task(account_id: int) -> int:
    """Roll up the account's logged changes. Returns the number of days rolled up."""
    return rollups.refresh_account(account_id=account_id)


@shared_task(acks_late=True)
def sweep_rollups_task() -> int:
    """Every minute: one refresh task per account with logged changes, so accounts roll up in
    parallel on the workers and one failing account holds back no other. Returns how many
    were queued."""
    account_ids = rollups.pending_accounts()
    for account_id in account_ids:
        refresh_rollups_task.delay(account_id)
    return len(account_ids)
