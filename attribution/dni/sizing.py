"""Pool sizing: the observed load of each pool and the Erlang B size it calls for.

Informational only: sizing writes figures on the pool for the admin and the API, and never adds,
buys or releases a number. Run hourly by `tasks.size_pools_task`.

The load is measured over a trailing window (7 days by default) of the pool's assignments,
overflow ones included (they are sessions the pool should have served):

- peak_hour_sessions: the most assignments that started in any one clock hour (UTC);
- mean_holding_seconds: the mean length of the assignments that have ended. Live ones are left
  out (their end is not known yet), so a long session counts once it is over; with none ended,
  the pool's idle timeout, the shortest a lease can be;
- offered load A = peak_hour_sessions × mean_holding_seconds / 3600 erlangs, sized for the busy
  hour as telephone trunks are, so the pool holds up when it matters;
- recommended_size: the smallest pool with B(n, A) < 1%; blocking_probability: B at the pool's
  current count of active numbers; exhaustion_rate: overflow assignments / all assignments.
"""

from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from attribution.dni import erlang
from attribution.models import NumberAssignment, PoolExhaustion
from campaigns.models import NumberPool, TrackingNumber

TARGET_BLOCKING = 0.01  # PRODUCT.md: "blocking probability at the observed load under 1%"


def _window(pool: NumberPool, *, since: datetime, now: datetime) -> QuerySet[NumberAssignment]:
    """The pool's assignments that started in [since, now]."""
    return NumberAssignment.objects.filter(
        account_id=pool.account_id,
        pool=pool,
        starts_at__gte=since,
        starts_at__lte=now,
        # Implied by the two above (a lease ends after it starts), but it lets PostgreSQL range
        # scan the (pool, ends_at) index instead of reading every lease the pool ever had.
        ends_at__gt=since,
    )


def _peak_hour_sessions(assignments: QuerySet[NumberAssignment]) -> int:
    """The most assignments that started in one clock hour, UTC, counted by PostgreSQL."""
    per_hour = (
        assignments.annotate(hour=TruncHour("starts_at", tzinfo=UTC))
        .values("hour")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("n", flat=True)
    )
    return per_hour.first() or 0


@transaction.atomic
def size_pool(*, pool: NumberPool, now: datetime | None = None, window_days: int = 7) -> NumberPool:
    """Measure `pool`'s load over the trailing `window_days` and store its sizing figures.

    Writes only the pool's sizing fields, in one UPDATE; safe to repeat (the same rows give the
    same figures). With no assignment in the window, recommended_size, blocking_probability,
    exhaustion_rate and mean_holding_seconds are None (not enough data) and sized_at is `now`.
    Returns `pool` with the new figures set on it."""
    now = now or timezone.now()
    assignments = _window(pool, since=now - timedelta(days=window_days), now=now)
    totals = assignments.aggregate(
        total=Count("id"),
        overflow=Count("id", filter=Q(overflow=True)),
        holding=Avg(F("ends_at") - F("starts_at"), filter=Q(ends_at__lte=now)),
    )
    figures: dict = {
        "peak_hour_sessions": 0.0,
        "mean_holding_seconds": None,
        "blocking_probability": None,
        "exhaustion_rate": None,
        "recommended_size": None,
        "sized_at": now,
    }
    if totals["total"]:
        peak = _peak_hour_sessions(assignments)
        holding = totals["holding"]
        holding_seconds = (
            holding.total_seconds() if holding is not None else float(pool.idle_timeout_seconds)
        )
        load = peak * holding_seconds / 3600
        numbers = TrackingNumber.objects.filter(pool=pool, active=True).count()
        figures.update(
            peak_hour_sessions=float(peak),
            mean_holding_seconds=holding_seconds,
            blocking_probability=erlang.erlang_b(numbers, load),
            exhaustion_rate=totals["overflow"] / totals["total"],
            recommended_size=_recommended_size(load),
        )
    NumberPool.objects.filter(pk=pool.pk).update(**figures)
    for field, value in figures.items():
        setattr(pool, field, value)
    return pool


def _recommended_size(load: float) -> int | None:
    try:
        return erlang.smallest_size(load, TARGET_BLOCKING)
    except erlang.LoadTooLarge:
        # Beyond any pool we would rent: no figure rather than a misleading one.
        return None


def size_pools(*, now: datetime | None = None) -> int:
    """Size every active pool as of one `now`; returns how many were sized. Each pool is sized
    in its own transaction, so one pool's figures never wait for the rest."""
    now = now or timezone.now()
    count = 0
    for pool in NumberPool.objects.filter(active=True).order_by("id").iterator():
        size_pool(pool=pool, now=now)
        count += 1
    return count


def exhaustion_by_hour(*, pool: NumberPool, since: datetime) -> QuerySet[PoolExhaustion]:
    """The pool's hours from `since` in which sessions found every number busy, oldest first.

    Each row counts the sessions that had to share a number in that UTC hour; hours without
    exhaustion have no row."""
    return PoolExhaustion.objects.filter(
        account_id=pool.account_id, pool=pool, hour__gte=since
    ).order_by("hour")
