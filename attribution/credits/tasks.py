"""Celery entry points of the credits (config.settings.CELERY_BEAT_SCHEDULE). Thin: ids in, one
service call.

Both are idempotent — a recompute replaces the rows of the calls it covers — so acks_late is
safe: a worker lost halfway leaves the task to be run again whole. No retries: the next beat
is the retry, and a failure raises to the worker log.
"""

from celery import shared_task

from attribution.credits import services
from campaigns.models import Account


@shared_task(acks_late=True)
def recompute_credits_task(account_id: int, call_ids: list[int]) -> int:
    """Recompute the credits of a few calls (a hook's `transaction.on_commit` target, so a
    webhook never waits for the account's lock). Calls or an account deleted meanwhile are
    nothing to do. Returns the number of touchpoint rows written."""
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        return 0
    return services.recompute_credits(account=account, call_ids=call_ids)


@shared_task(acks_late=True)
def recompute_account_credits_task(account_id: int) -> int:
    """Recompute the removal effects and every call's credits of one account. An account
    deleted meanwhile is nothing to do. Returns the number of touchpoint rows written."""
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        return 0
    return services.recompute_account_credits(account=account)


@shared_task(bind=True, acks_late=True)
def recompute_all_credits_task(self) -> int:
    """Nightly: one recompute task per account, on the queue this one came from, so accounts
    run in parallel on the workers and one failing account holds back no other. Returns how
    many were queued."""
    queue = (self.request.delivery_info or {}).get("routing_key")
    account_ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    for account_id in account_ids:
        recompute_account_credits_task.apply_async((account_id,), queue=queue)
    return len(account_ids)
