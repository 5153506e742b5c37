"""Number leases for the demo's web sessions, allocated as the live DNI service allocates them.

Pure: builds unsaved NumberAssignment rows. The exclusion constraint on NumberAssignment checks
the result when the loader writes it."""

from bisect import bisect_right
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from attribution.models import NumberAssignment, VisitorSession
from campaigns.models import NumberPool, TrackingNumber

# No lease is longer than the longest visit plus the idle timeout; a lookup scans back this far.
LONGEST_LEASE = timedelta(hours=2)


def allocate(
    *, pool: NumberPool, numbers: list[TrackingNumber], sessions: list[VisitorSession]
) -> list[NumberAssignment]:
    """Lease one number of the pool to each session, in order of arrival.

    A lease runs from the session's start to its last activity plus the pool's idle timeout.
    The number free longest goes first (PRODUCT.md, "DNI rules": a late call then lands on the
    right session as often as possible). When every number is busy the session shares the one
    whose lease ends soonest — the least recently active holder — and the lease is overflow,
    which the exclusion constraint exempts."""
    idle = timedelta(seconds=pool.idle_timeout_seconds)
    busy_until = {number.pk: datetime.min.replace(tzinfo=UTC) for number in numbers}
    by_pk = {number.pk: number for number in numbers}
    leases = []
    for session in sorted(sessions, key=lambda s: s.started_at):
        # min() over the dict keeps the pools' creation order on ties, so runs are repeatable.
        pk = min(busy_until, key=busy_until.__getitem__)
        overflow = busy_until[pk] > session.started_at
        ends_at = session.last_seen_at + idle
        busy_until[pk] = max(busy_until[pk], ends_at)
        leases.append(
            NumberAssignment(
                account_id=pool.account_id,
                number=by_pk[pk],
                pool=pool,
                session=session,
                starts_at=session.started_at,
                ends_at=ends_at,
                overflow=overflow,
            )
        )
    return leases


class LeaseBook:
    """Every lease of every number, to answer "who held this number at that instant?"."""

    def __init__(self, leases: list[NumberAssignment]):
        self._by_number: dict[int, list[NumberAssignment]] = defaultdict(list)
        for lease in sorted(leases, key=lambda a: a.starts_at):
            self._by_number[lease.number.pk].append(lease)
        self._starts = {pk: [a.starts_at for a in rows] for pk, rows in self._by_number.items()}
        self.by_session = {lease.session.pk: lease for lease in leases}

    def covering(self, number: TrackingNumber, moment: datetime) -> list[NumberAssignment]:
        rows = self._by_number.get(number.pk, [])
        index = bisect_right(self._starts.get(number.pk, []), moment)
        found = []
        for i in range(index - 1, -1, -1):
            lease = rows[i]
            if lease.starts_at < moment - LONGEST_LEASE:
                break
            if moment < lease.ends_at:
                found.append(lease)
        return found
