"""Sessions and number leases: the writes behind `POST /dni/v1/sessions`.

Correct under any concurrency without a global lock:
- a free number is claimed with `FOR UPDATE SKIP LOCKED` on its row, so concurrent requests
  take different numbers instead of queueing behind one another;
- PostgreSQL's exclusion constraint on NumberAssignment refuses two overlapping exclusive
  leases of one number whatever the code does; a request that loses a race (it saw a number as
  free in a snapshot taken just before another request committed it) retries with a fresh one;
- `TrackingNumber.lease_ends_at` orders the free numbers (free longest first) so the choice is one
  index scan; it moves in the same statement as the lease it mirrors.
Each allocation and each renewal is one SQL statement: one round trip to the database.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from psycopg import errors as pg_errors

from attribution.dni.classify import Classification
from attribution.dni.config import DEFAULT_IDLE_SECONDS, AccountConfig, PoolRef
from attribution.models import VisitorSession

RACE_RETRIES = 3

# Claim the number free longest, lease it, and move its lease end, in one statement.
ALLOCATE_SQL = """
WITH picked AS (
    SELECT id FROM campaigns_trackingnumber
    WHERE pool_id = %(pool)s AND active AND (lease_ends_at IS NULL OR lease_ends_at <= %(now)s)
    ORDER BY lease_ends_at ASC NULLS FIRST, id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
), leased AS (
    UPDATE campaigns_trackingnumber n SET lease_ends_at = %(ends)s
    FROM picked WHERE n.id = picked.id
    RETURNING n.id, n.e164
), assigned AS (
    INSERT INTO attribution_numberassignment
        (account_id, number_id, pool_id, session_id, starts_at, ends_at, overflow, released)
    SELECT %(account)s, id, %(pool)s, %(session)s, %(now)s, %(ends)s, false, false FROM leased
    RETURNING number_id
)
SELECT leased.id, leased.e164 FROM leased JOIN assigned ON assigned.number_id = leased.id
"""

# Every number is busy: share the one whose holder was least recently active (its lease ends
# soonest). The shared lease is flagged overflow, which the exclusion constraint exempts.
OVERFLOW_SQL = """
WITH picked AS (
    SELECT id FROM campaigns_trackingnumber
    WHERE pool_id = %(pool)s AND active
    ORDER BY lease_ends_at ASC NULLS FIRST, id
    LIMIT 1
), leased AS (
    UPDATE campaigns_trackingnumber n SET lease_ends_at = GREATEST(n.lease_ends_at, %(ends)s)
    FROM picked WHERE n.id = picked.id
    RETURNING n.id, n.e164
), assigned AS (
    INSERT INTO attribution_numberassignment
        (account_id, number_id, pool_id, session_id, starts_at, ends_at, overflow, released)
    SELECT %(account)s, id, %(pool)s, %(session)s, %(now)s, %(ends)s, true, false FROM leased
    RETURNING number_id
), counted AS (
    INSERT INTO attribution_poolexhaustion (account_id, pool_id, hour, count)
    SELECT %(account)s, %(pool)s, %(hour)s, 1 FROM assigned
    ON CONFLICT (pool_id, hour) DO UPDATE SET count = attribution_poolexhaustion.count + 1
)
SELECT leased.id, leased.e164 FROM leased JOIN assigned ON assigned.number_id = leased.id
"""

# Renew a live session: push its expiry, its lease and its number's lease end, in one statement.
RENEW_SQL = """
WITH renewed AS (
    UPDATE attribution_visitorsession
    SET last_seen_at = %(now)s,
        expires_at = %(now)s + make_interval(secs => idle_timeout_seconds)
    WHERE id = %(session)s AND account_id = %(account)s AND expires_at > %(now)s
    RETURNING id, visitor_id, campaign_id, expires_at
), lease AS (
    UPDATE attribution_numberassignment a SET ends_at = renewed.expires_at
    FROM renewed WHERE a.session_id = renewed.id AND a.ends_at > %(now)s
    RETURNING a.number_id, renewed.expires_at
), numbered AS (
    UPDATE campaigns_trackingnumber n
    SET lease_ends_at = GREATEST(n.lease_ends_at, lease.expires_at)
    FROM lease WHERE n.id = lease.number_id
    RETURNING n.e164
)
SELECT renewed.visitor_id, renewed.campaign_id, renewed.expires_at, (SELECT e164 FROM numbered)
FROM renewed
"""


@dataclass(frozen=True)
class SessionAnswer:
    session_id: uuid.UUID
    visitor_id: str
    e164: str | None
    campaign_id: int | None
    expires_at: datetime
    created: bool


@dataclass(frozen=True)
class VisitFacts:
    url: str
    referrer: str
    user_agent: str
    ip: str | None
    is_bot: bool


def renew_session(
    *, config: AccountConfig, session_id: uuid.UUID, now: datetime | None = None
) -> SessionAnswer | None:
    """Extend a live session and its lease by the idle timeout; None when it is unknown to this
    account or expired (the caller then starts a new session). Idempotent for a heartbeat."""
    now = now or timezone.now()
    params = {"now": now, "session": session_id, "account": config.account_id}
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(RENEW_SQL, params)
            row = cursor.fetchone()
    except IntegrityError:
        # The lease could not be extended without overlapping another: it had lapsed.
        return None
    if row is None:
        return None
    visitor_id, campaign_id, expires_at, e164 = row
    if e164 is None:  # a session without a pool number shows its campaign's static number
        e164 = config.static_numbers.get(campaign_id)
    return SessionAnswer(session_id, visitor_id, e164, campaign_id, expires_at, created=False)


@transaction.atomic
def start_session(
    *,
    config: AccountConfig,
    classification: Classification,
    visit: VisitFacts,
    visitor_id: str | None,
    now: datetime | None = None,
) -> SessionAnswer:
    """Record a new session and give it a number: a lease from its pool, else its campaign's
    static number, else none. Bots never take a pool number."""
    now = now or timezone.now()
    pool = (
        None
        if visit.is_bot
        else config.pool_for(classification.campaign_id, classification.keyword_id)
    )
    idle = pool.idle_timeout_seconds if pool else DEFAULT_IDLE_SECONDS
    campaign_id = classification.campaign_id or (pool.campaign_id if pool else None)
    session = VisitorSession.objects.create(
        account_id=config.account_id,
        visitor_id=visitor_id or uuid.uuid4().hex,
        campaign_id=campaign_id,
        keyword_id=classification.keyword_id,
        channel=classification.channel,
        landing_url=visit.url,
        referrer=visit.referrer,
        user_agent=visit.user_agent,
        ip=visit.ip,
        is_bot=visit.is_bot,
        started_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=idle),
        idle_timeout_seconds=idle,
        **classification.params,
    )
    e164 = lease_number(config=config, pool=pool, session_id=session.id, now=now) if pool else None
    if e164 is None:
        e164 = config.static_numbers.get(campaign_id)
    return SessionAnswer(
        session.id, session.visitor_id, e164, campaign_id, session.expires_at, created=True
    )


def lease_number(
    *, config: AccountConfig, pool: PoolRef, session_id: uuid.UUID, now: datetime
) -> str | None:
    """Lease the pool number free longest to the session; share one (overflow) when none is
    free. Returns the number, or None when the pool has no active number at all."""
    params = {
        "pool": pool.id,
        "account": config.account_id,
        "session": session_id,
        "now": now,
        "ends": now + timedelta(seconds=pool.idle_timeout_seconds),
        "hour": now.astimezone(UTC).replace(minute=0, second=0, microsecond=0),
    }
    for _ in range(RACE_RETRIES):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(ALLOCATE_SQL, params)
                row = cursor.fetchone()
        except IntegrityError as exc:
            if not isinstance(exc.__cause__, pg_errors.ExclusionViolation):
                raise
            continue  # lost a race for a number another request just committed; look again
        if row is not None:
            return row[1]
        break
    with connection.cursor() as cursor:
        cursor.execute(OVERFLOW_SQL, params)
        row = cursor.fetchone()
    return row[1] if row else None
