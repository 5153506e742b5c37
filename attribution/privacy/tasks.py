"""Celery entry points of the retention sweep (config.settings.CELERY_BEAT_SCHEDULE). Thin: ids
in, one service call.

Idempotent — a run anonymises only rows that still hold an identity — so acks_late is safe: a
worker lost halfway leaves whole batches done and the task, run again, finishes. No retries:
tomorrow's beat is the retry, and a failure raises to the worker log."""

from celery import shared_task

from attribution.privacy import services
from campaigns.models import Account


@shared_task(acks_late=True)
def anonymise_account_task(account_id: int) -> int:
    """Anonymise what the account's retention setting puts past its cutoff today. An account
    deleted meanwhile, or with no retention setting, is nothing to do. Returns the rows
    changed (calls, sessions and outcomes)."""
    account = Account.objects.filter(pk=account_id).first()
    cutoff = services.retention_cutoff(account=account) if account is not None else None
    if cutoff is None:
        return 0
    report = services.anonymise_older_than(account=account, cutoff=cutoff)
    return report.calls + report.sessions + report.outcomes


@shared_task(bind=True, acks_late=True)
def sweep_retention_task(self) -> int:
    """Daily: one task per account with a retention setting, on the queue this one came from,
    so one large account holds back no other. Returns how many were queued."""
    queue = (self.request.delivery_info or {}).get("routing_key")
    account_ids = list(
        Account.objects.filter(retention_days__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for account_id in account_ids:
        anonymise_account_task.apply_async((account_id,), queue=queue)
    return len(account_ids)
