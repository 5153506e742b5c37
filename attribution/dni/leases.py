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

# Every column of the session row, from the model: a field added there cannot be left out here.
SESSION_COLUMNS = tuple(field.column for field in VisitorSession._meta.concrete_fields)
INSERT_SESSION = (
    f"INSERT INTO attribution_visitorsession ({', '.join(SESSION_COLUMNS)}) "
    f"VALUES ({', '.join(f'%({c})s' for c in SESSION_COLUMNS)}) RETURNING id"
)

# Claim the number free longest, lease it, and move its lease end: one statement. `{session}`
# is the session's id, or the id of a session created by the same statement (START_SQL).
_ALLOCATE = """
picked AS (
    SELECT id FROM campaigns_trackingnumber
    WHERE pool_id = %(pool)s AND active AND (lease_ends_at IS NULL OR lease_ends_at <= %(now)s)
    ORDER BY lease_ends_at ASC NULLS FIRST, id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
), leased AS (
    UPDATE campaigns_trackingnumber n SET lease_ends_at = %(ends)s
    FROM picked WHERE n.id = picked.id
    RETURNING n.id, n.e164
), graced AS (
    -- The number's earlier holders stop attributing calls now that someone else shows it.
    UPDATE attribution_numberassignment a SET grace_ends_at = %(now)s
    FROM picked WHERE a.number_id = picked.id
        AND tstzrange(a.starts_at, COALESCE(a.grace_ends_at, a.ends_at), '[)') @> %(now)s
        AND a.ends_at <= %(now)s
), assigned AS (
    INSERT INTO attribution_numberassignment
        (account_id, number_id, pool_id, session_id, starts_at, ends_at, grace_ends_at,
         overflow, released)
    SELECT %(account)s, id, %(pool)s, {session}, %(now)s, %(ends)s, %(grace_ends)s, false, false
    FROM leased
    RETURNING number_id
)
SELECT leased.id, leased.e164 FROM leased JOIN assigned ON assigned.number_id = leased.id
"""
ALLOCATE_SQL = "WITH " + _ALLOCATE.format(session="%(session)s")
# A new session and its lease in one round trip, atomic without a transaction block. The
# session row is written even when no number is free; it then shares one (OVERFLOW_SQL).
START_SQL = f"WITH created AS ({INSERT_SESSION}), " + _ALLOCATE.format(
    session="(SELECT id FROM created)"
)

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
        (account_id, number_id, pool_id, session_id, starts_at, ends_at, grace_ends_at,
         overflow, released)
    SELECT %(account)s, id, %(pool)s, %(session)s, %(now)s, %(ends)s, %(grace_ends)s, true, false
    FROM leased
    RETURNING number_id
), counted AS (
    INSERT INTO attribution_poolexhaustion (account_id, pool_id, hour, count)
    SELECT %(account)s, %(pool)s, %(hour)s, 1 FROM assigned
    ON CONFLICT (pool_id, hour) DO UPDATE SET count = attribution_poolexhaustion.count + 1
)
SELECT leased.id, leased.e164 FROM leased JOIN assigned ON assigned.number_id = leased.id
"""

# Renew a live session: push its expiry, its lease and its number's lease end, in one statement.
# A session started without consent takes the visitor id once a renewal brings consent.
RENEW_SQL = """
WITH renewed AS (
    UPDATE attribution_visitorsession
    SET last_seen_at = %(now)s, visitor_id = COALESCE(visitor_id, %(visitor)s),
        expires_at = %(now)s + make_interval(secs => idle_timeout_seconds)
    WHERE id = %(session)s AND account_id = %(account)s AND expires_at > %(now)s
    RETURNING id, visitor_id, campaign_id, expires_at
), lease AS (
    UPDATE attribution_numberassignment a SET ends_at = renewed.expires_at,
        grace_ends_at = renewed.expires_at + (a.grace_ends_at - a.ends_at)
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
    visitor_id: str | None  # None: the visitor gave no consent to storing one
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


def _fetch(sql: str, params: dict):
    """One statement, one round trip. Outside a transaction block it commits by itself, which
    is all the atomicity a single statement needs; inside one (tests) a savepoint keeps a
    failure from poisoning the caller's transaction."""
    if connection.in_atomic_block:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _lost_race(exc: IntegrityError) -> bool:
    return isinstance(exc.__cause__, pg_errors.ExclusionViolation)


def renew_session(
    *,
    config: AccountConfig,
    session_id: uuid.UUID,
    consent: bool = True,
    visitor_id: str | None = None,
    now: datetime | None = None,
) -> SessionAnswer | None:
    """Extend a live session and its lease by the idle timeout; None when it is unknown to this
    account or expired (the caller then starts a new session). Idempotent for a heartbeat.

    With consent, a session that has no visitor id yet takes `visitor_id` (a new one if None);
    without, the session's visitor id is left as it is and not answered."""
    now = now or timezone.now()
    visitor = (visitor_id or uuid.uuid4().hex) if consent else None
    params = {"now": now, "session": session_id, "account": config.account_id, "visitor": visitor}
    try:
        row = _fetch(RENEW_SQL, params)
    except IntegrityError as exc:
        if not _lost_race(exc):
            raise
        return None  # the lease could not be extended without overlapping another: it lapsed
    if row is None:
        return None
    visitor_id, campaign_id, expires_at, e164 = row
    if e164 is None:  # a session without a pool number shows its campaign's static number
        e164 = config.static_numbers.get(campaign_id)
    visitor_id = visitor_id if consent else None
    return SessionAnswer(session_id, visitor_id, e164, campaign_id, expires_at, created=False)


def start_session(
    *,
    config: AccountConfig,
    classification: Classification,
    visit: VisitFacts,
    visitor_id: str | None,
    consent: bool = True,
    now: datetime | None = None,
) -> SessionAnswer:
    """Record a new session and give it a number: a lease from its pool, else its campaign's
    static number, else none. Bots never take a pool number. With a pool, the session and its
    lease are one statement; a lost race for a number retries the whole statement.

    With consent the session belongs to `visitor_id` (a new one if None); without, to no
    visitor at all (NULL), and `visitor_id` must be None."""
    now = now or timezone.now()
    if consent:
        visitor_id = visitor_id or uuid.uuid4().hex
    elif visitor_id is not None:
        raise ValueError("A visitor id needs the visitor's consent.")
    pool = (
        None
        if visit.is_bot
        else config.pool_for(classification.campaign_id, classification.keyword_id)
    )
    idle = pool.idle_timeout_seconds if pool else DEFAULT_IDLE_SECONDS
    campaign_id = classification.campaign_id or (pool.campaign_id if pool else None)
    session = _session_row(config, classification, visit, visitor_id, campaign_id, idle, now)
    e164 = None
    if pool is None:
        _fetch(INSERT_SESSION, session)
    else:
        params = {**session, **_lease_params(config, pool, session["id"], now)}
        e164 = _start_with_lease(params)
    e164 = e164 or config.static_numbers.get(campaign_id)
    return SessionAnswer(
        session["id"], session["visitor_id"], e164, campaign_id, session["expires_at"], True
    )


def _session_row(config, classification, visit, visitor_id, campaign_id, idle, now) -> dict:
    row = dict.fromkeys(SESSION_COLUMNS, "")
    row.update(classification.params)
    row.update(
        id=uuid.uuid4(),
        account_id=config.account_id,
        visitor_id=visitor_id,
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
    )
    return row


def _lease_params(config: AccountConfig, pool: PoolRef, session_id, now: datetime) -> dict:
    return {
        "pool": pool.id,
        "account": config.account_id,
        "session": session_id,
        "now": now,
        "ends": now + timedelta(seconds=pool.idle_timeout_seconds),
        "grace_ends": now + timedelta(seconds=pool.idle_timeout_seconds + pool.grace_seconds),
        "hour": now.astimezone(UTC).replace(minute=0, second=0, microsecond=0),
    }


def _start_with_lease(params: dict) -> str | None:
    for attempt in range(RACE_RETRIES):
        try:
            row = _fetch(START_SQL if attempt == 0 else ALLOCATE_SQL, params)
            break
        except IntegrityError as exc:
            if not _lost_race(exc):
                raise
            # Lost a race for a number another request had just committed; the statement
            # rolled back whole, so the session is created again with the next try.
            if attempt == 0:
                _fetch(INSERT_SESSION, params)
    else:
        row = None
    if row is not None:
        return row[1]
    row = _fetch(OVERFLOW_SQL, params)
    return row[1] if row else None


SYNC_LEASE_ENDS_SQL = """
UPDATE campaigns_trackingnumber n SET lease_ends_at = last.ends_at
FROM (
    SELECT number_id, max(ends_at) AS ends_at FROM attribution_numberassignment
    WHERE account_id = %(account)s GROUP BY number_id
) AS last
WHERE n.id = last.number_id
"""


def sync_lease_ends(*, account) -> int:
    """Set every pool number's `lease_ends_at` from its leases, for rows written in bulk (the
    demo, imports) rather than by the allocator. Returns the numbers updated."""
    with connection.cursor() as cursor:
        cursor.execute(SYNC_LEASE_ENDS_SQL, {"account": account.pk})
        return cursor.rowcount


COUNT_EXHAUSTION_SQL = """
INSERT INTO attribution_poolexhaustion (account_id, pool_id, hour, count)
SELECT account_id, pool_id, date_trunc('hour', starts_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
       count(*)
FROM attribution_numberassignment
WHERE account_id = %(account)s AND overflow
GROUP BY account_id, pool_id, 3
ON CONFLICT (pool_id, hour) DO UPDATE SET count = EXCLUDED.count
"""


def count_exhaustion(*, account) -> int:
    """Rebuild the hourly exhaustion counters from overflow leases written in bulk (the demo,
    imports); the allocator keeps them itself. Returns the hours written."""
    with connection.cursor() as cursor:
        cursor.execute(COUNT_EXHAUSTION_SQL, {"account": account.pk})
        return cursor.rowcount
