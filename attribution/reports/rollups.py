"""Writes of the report rollups (attribution.models.reports): kept current from a log of changed
days, and rebuilt whole on demand.

Design
------
- **What changed.** The database's statement-level triggers on calls, outcomes, touchpoints,
  costs (and campaigns' channel, accounts' time zone) log each (account, local day) a write
  touches into RollupDirtyDay, in the writer's transaction (migration 0008). No write path can
  skip it — ORM, bulk SQL, COPY imports and the credits' bulk recompute all fire them — and a
  log row is visible exactly when its change is committed.
- **Rolling up.** `refresh_account` (the sweeper task's body, every minute) takes the
  account's log rows and rolls those days up again from the raw rows, set-based: the day's
  RollupKeywordDay rows (Σ credit, answered, qualified, conversions, revenue for all six
  models in one pass, and cost) are replaced, RollupCampaignDay sums them. Before a report,
  `catch_up` does the same synchronously for the report's range when it has at most SYNC_DAYS
  logged days. Many days (REBUILD_DAYS, e.g. after the nightly credits recompute) or a new
  time zone rebuild the account instead.
- **Distinct callers** are not additive, so they get their own structure, exact for any range:
  RollupCallerDay holds each caller-day per campaign × keyword with a bit per model that gave
  it credit; RollupReach counts, per level (keyword, campaign, channel, account), model,
  group and day, the day's callers by the gap to their previous credited day in the group. A
  caller counts once in [s, e]: on its first day there, the one whose previous day is before
  s. So a range's distinct callers are Σ over its days d of reach[d − s + 1] — one array
  lookup per group-day, a few thousand for 90 days by campaign. A changed day changes the
  gaps of its callers' next days too, so a refresh reads every caller-day of the changed days'
  callers (before and after), counts the links that can differ on both sides, and adds the
  difference to the stored counts (rollup_sql.links). Days outside a report's range never
  change its answer (a gap to a day before s is as good as any other), so a report may roll
  up its own range alone. Callers are E.164 numbers (as the digits' bigint); no number, no
  caller.
- **Concurrency.** A refresh of an account holds a transaction-level advisory lock on it: two
  refreshes never interleave their differences. A refresh takes the log rows its first
  statement after the lock sees (each then committed, with its data), and reads the raw rows
  after that: a write committed later keeps its own log row for the next refresh, so nothing
  is lost and a day is at worst rolled up twice. Only `rebuild_account` (the command) waits
  for the lock; the sweeper's refresh and `catch_up` skip an account whose refresh is running.
"""

import datetime as dt
from typing import Protocol

from django.db import connection, transaction

from attribution.reports import rollup_sql

# A refresh of this many days or more rebuilds the account (cheaper than the differences).
REBUILD_DAYS = 28
# A report rolls its own range up first when it has at most this many logged days.
SYNC_DAYS = 7
# … and at most about this many calls on them (a day of a very busy account takes seconds: the
# report waits for no such thing and says how fresh it is; the sweeper rolls it up).
SYNC_CALLS = 20_000
# Days per statement of a rebuild (the progress bar's steps).
BATCH_DAYS = 7
# pg_advisory_xact_lock(key, account id): this key names "rolling up an account".
_LOCK_KEY = 0x524F4C4C  # "ROLL"

_TABLES = (
    "attribution_rollupkeywordday",
    "attribution_rollupcampaignday",
    "attribution_rollupcallerday",
    "attribution_rollupreach",
)


class Progress(Protocol):
    """What a rebuild reports to: a tqdm bar fits."""

    total: float | None

    def update(self, n: float) -> object: ...


def refresh_account(*, account_id: int) -> int:
    """Roll up every logged change of the account (or rebuild it: a new time zone, or
    REBUILD_DAYS days or more). Idempotent. When a refresh of the account is running it does
    nothing (the log rows wait for the next sweep): a long rebuild never piles up workers
    waiting on its lock, a minute apart. An account deleted meanwhile only has its log and
    rollups dropped. Returns the number of days rolled up."""
    with transaction.atomic(), connection.cursor() as cursor:
        if not _lock(cursor, account_id):
            return 0
        tz = _time_zone(cursor, account_id)
        cursor.execute(
            "DELETE FROM attribution_rollupdirtyday WHERE account_id = %s RETURNING day",
            [account_id],
        )
        logged = {day for (day,) in cursor.fetchall()}
        if tz is None:
            _delete_rollups(cursor, account_id)
            return 0
        if not logged:
            return 0
        if None in logged or len(logged) >= REBUILD_DAYS:
            return _rebuild(cursor, account_id, tz, progress=None)
        days = sorted(logged)
        _refresh_days(cursor, account_id, tz, days)
        return len(days)


def catch_up(*, account, start: dt.date, end: dt.date) -> bool:
    """Before a report over [start, end]: roll up the range's logged days now when there are at
    most SYNC_DAYS of them and no refresh of the account is running (never waits for one).
    Returns whether the range is up to date; when not, the report says how fresh it is."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """SELECT DISTINCT day FROM attribution_rollupdirtyday
               WHERE account_id = %s AND (day IS NULL OR day BETWEEN %s AND %s)""",
            [account.pk, start, end],
        )
        pending = {day for (day,) in cursor.fetchall()}
        if not pending:
            return True
        if (
            None in pending
            or len(pending) > SYNC_DAYS
            or _calls_of(cursor, account, pending) > SYNC_CALLS
        ):
            return False
        if not _lock(cursor, account.pk):
            return False
        cursor.execute(
            """DELETE FROM attribution_rollupdirtyday
               WHERE account_id = %s AND day BETWEEN %s AND %s RETURNING day""",
            [account.pk, start, end],
        )
        days = sorted({day for (day,) in cursor.fetchall()})
        if days:
            _refresh_days(cursor, account.pk, account.time_zone, days)
        return True


def rebuild_account(*, account, progress: Progress | None = None) -> int:
    """Drop the account's rollups and roll every day of it up again, in one transaction
    (readers see the old rollups until it commits). Idempotent. Returns the number of days."""
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor, account.pk, wait=True)
        cursor.execute("DELETE FROM attribution_rollupdirtyday WHERE account_id = %s", [account.pk])
        return _rebuild(cursor, account.pk, account.time_zone, progress=progress)


def pending_accounts() -> list[int]:
    """Accounts with logged changes not rolled up yet."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT account_id FROM attribution_rollupdirtyday ORDER BY 1")
        return [account_id for (account_id,) in cursor.fetchall()]


def _refresh_days(cursor, account_id: int, tz: str, days: list[dt.date]) -> None:
    params = {"account": account_id, "tz": tz, "days": days}
    _prepare(cursor)
    _roll_up_sums(cursor, params)
    cursor.execute(rollup_sql.NEW_CALLER_DAYS, params)
    cursor.execute(rollup_sql.AFFECTED_CALLERS, params)
    cursor.execute(rollup_sql.OLD_CALLER_ROWS, params)
    cursor.execute(rollup_sql.LINKS_TABLE)
    # The affected callers' links before and after, from their rows alone: the difference is
    # what the change did to the stored reach.
    _links(cursor, params, source=rollup_sql.OLD_ROWS, sign=-1, changed_only=True)
    _links(cursor, params, source=rollup_sql.NEW_ROWS, sign=1, changed_only=True)
    _apply_links(cursor, params, onto_stored=True)
    cursor.execute(rollup_sql.DELETE_DAYS.format(table="attribution_rollupcallerday"), params)
    cursor.execute(rollup_sql.SWAP_CALLER_DAYS, params)
    cursor.execute(rollup_sql.DROP_TEMPORARY)


def _rebuild(cursor, account_id: int, tz: str, *, progress: Progress | None) -> int:
    _prepare(cursor)
    _delete_rollups(cursor, account_id)
    cursor.execute(rollup_sql.ACCOUNT_DAYS, {"account": account_id, "tz": tz})
    days = [day for (day,) in cursor.fetchall()]
    if progress is not None:
        progress.total = len(days) + 1  # the days, then the distinct callers
    for batch in (days[i : i + BATCH_DAYS] for i in range(0, len(days), BATCH_DAYS)):
        params = {"account": account_id, "tz": tz, "days": batch}
        _roll_up_sums(cursor, params)
        cursor.execute(rollup_sql.NEW_CALLER_DAYS, params)
        cursor.execute(rollup_sql.SWAP_CALLER_DAYS, params)
        cursor.execute("DROP TABLE rollup_new_callers")
        if progress is not None:
            progress.update(len(batch))
    params = {"account": account_id, "tz": tz, "days": days}
    cursor.execute(rollup_sql.LINKS_TABLE)
    _links(cursor, params, source=rollup_sql.ALL_ROWS, sign=1)
    _apply_links(cursor, params, onto_stored=False)
    cursor.execute(rollup_sql.DROP_TEMPORARY)
    # Fresh statistics, so that the next refreshes look callers up by index.
    for table in _TABLES:
        cursor.execute(f"ANALYZE {table}")
    if progress is not None:
        progress.update(1)
    return len(days)


def _roll_up_sums(cursor, params: dict) -> None:
    for table in ("attribution_rollupkeywordday", "attribution_rollupcampaignday"):
        cursor.execute(rollup_sql.DELETE_DAYS.format(table=table), params)
    cursor.execute(rollup_sql.INSERT_KEYWORD_DAYS, params)
    cursor.execute(rollup_sql.INSERT_CAMPAIGN_DAYS, params)


def _links(cursor, params: dict, *, source: str, sign: int, changed_only: bool = False) -> None:
    for level in rollup_sql.LEVELS:
        sql = rollup_sql.links(level=level, source=source, sign=sign, changed_only=changed_only)
        cursor.execute(sql, params)


def _apply_links(cursor, params: dict, *, onto_stored: bool) -> None:
    cursor.execute("ANALYZE rollup_links")
    cursor.execute(rollup_sql.apply_links(onto_stored=onto_stored), params)
    emptied = [row_id for (row_id,) in cursor.fetchall()]
    if emptied:
        cursor.execute("DELETE FROM attribution_rollupreach WHERE id = ANY(%s)", [emptied])


def _prepare(cursor) -> None:
    # Sorts of a whole account's caller-days stay in memory; a leftover temporary table of
    # a failed refresh on this connection must not stop the next one.
    cursor.execute("SET LOCAL work_mem = '256MB'")
    # Compiling these statements costs more than it saves on a day's rows (~0.5 s each).
    cursor.execute("SET LOCAL jit = off")
    cursor.execute(rollup_sql.DROP_TEMPORARY)


def _delete_rollups(cursor, account_id: int) -> None:
    for table in _TABLES:
        cursor.execute(f"DELETE FROM {table} WHERE account_id = %s", [account_id])


def _calls_of(cursor, account, days: set) -> int:
    """About how many calls the days hold: as many as were rolled up last time (a day never
    rolled up counts as none)."""
    cursor.execute(
        """SELECT coalesce(sum(calls_last_touch), 0) FROM attribution_rollupcampaignday
           WHERE account_id = %s AND day = ANY(%s)""",
        [account.pk, sorted(days)],
    )
    return cursor.fetchone()[0]


def _time_zone(cursor, account_id: int) -> str | None:
    cursor.execute("SELECT time_zone FROM campaigns_account WHERE id = %s", [account_id])
    row = cursor.fetchone()
    return row[0] if row else None


def _lock(cursor, account_id: int, *, wait: bool = False) -> bool:
    if wait:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_KEY, account_id])
        return True
    cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_LOCK_KEY, account_id])
    return cursor.fetchone()[0]
