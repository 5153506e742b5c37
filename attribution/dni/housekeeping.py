"""Periodic bookkeeping of number leases.

A lease is live while `ends_at` is in the future: allocation, renewal and call matching read
`ends_at` (and the number's `lease_ends_at`), never `released`. The `released` flag only records
that the sweep has seen a lease over, for reports and for the admin; a sweep that runs late, or
not at all, changes no number handed out.
"""

from datetime import datetime

from django.db import connection
from django.utils import timezone

BATCH_SIZE = 5_000

# One bounded batch per statement, found through the partial index assignment_unreleased_idx
# (ends_at WHERE NOT released), which holds only the leases not yet swept. SKIP LOCKED: a second
# sweep running at the same time takes other rows instead of queueing behind this one; the outer
# `NOT released` makes a row that was released meanwhile count once.
RELEASE_SQL = """
UPDATE attribution_numberassignment SET released = true
WHERE NOT released AND id IN (
    SELECT id FROM attribution_numberassignment
    WHERE NOT released AND ends_at <= %(now)s
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
)
"""


def release_expired_assignments(
    *, now: datetime | None = None, batch_size: int = BATCH_SIZE
) -> int:
    """Mark every lease that ended at or before `now` released; returns how many were marked.

    Idempotent: a released lease is never selected again, so a second run marks 0. Each batch
    of at most `batch_size` rows commits on its own (no enclosing transaction, on purpose): row
    locks are held for one short statement, and a sweep killed midway keeps what it did."""
    now = now or timezone.now()
    total = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(RELEASE_SQL, {"now": now, "batch": batch_size})
            total += cursor.rowcount
            if cursor.rowcount < batch_size:
                return total
