"""Celery entry points of the outbox (config.settings.CELERY_BEAT_SCHEDULE). Thin: ids in, one
service call.

Safe with acks_late: a task redelivered after a lost worker drains again, and rows are only
ever sent under a live claim (`delivery`). No Celery retries and no ETAs: the database holds
each row's next attempt and the beat's sweeper picks due rows up, so nothing waits in Redis.
The hard time limit (300 s) stays under the claim lease (CONVERSIONS_CLAIM_SECONDS, 360 s) and
far under Redis' visibility timeout (CELERY_BROKER_TRANSPORT_OPTIONS), so a slow batch is never
delivered to a second worker while the first still sends it."""

from celery import shared_task
from django.utils import timezone

from attribution.conversions import delivery, selectors


@shared_task(acks_late=True, time_limit=300, soft_time_limit=280)
def send_conversions_task(destination_id: int) -> int:
    """Deliver one destination's due rows; returns how many rows were claimed."""
    return delivery.drain(destination_id=destination_id, budget_seconds=240).claimed


@shared_task(bind=True, acks_late=True)
def sweep_conversions_task(self) -> int:
    """Beat: one delivery task per destination with rows due, on this task's queue. Returns how
    many were queued."""
    queue = (self.request.delivery_info or {}).get("routing_key")
    ids = selectors.due_destination_ids(now=timezone.now())
    for destination_id in ids:
        send_conversions_task.apply_async((destination_id,), queue=queue)
    return len(ids)
