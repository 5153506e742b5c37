"""Reads of the credits: calls' touchpoints and the Markov transition counts, set-based.

A call's touchpoints (PRODUCT.md, "Touchpoints and models") are its own session and the
visitor's earlier sessions — same account and visitor_id, not bots — that started within the
account's lookback window before the call (call start − lookback_days ≤ session start) and no
later than the call's own session; oldest first (ties by session id), the call's own session last.
The own session is always a touch, bot or not, even when it started before the window: it is
what the call is attributed to. A call without a session has one touch: its own campaign and
keyword (or Unattributed), touched at the call's start. One SQL statement gathers them for any
set of calls.
"""

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from contextlib import contextmanager
from fractions import Fraction

from django.db import connection, transaction

from attribution.credits import markov, threads
from attribution.models.credits import RemovalEffect

# How far back the data-driven model looks for journeys (PRODUCT.md: the trailing 90 days).
JOURNEY_DAYS = 90

# (call_id, session_id | None, campaign_id | None, keyword_id | None, touched_at as text,
#  age of the touch at the call in microseconds), ordered by call then position.
TouchRow = tuple[int, str | None, int | None, int | None, str, int]

# `{calls}` is a SELECT of calls_call rows (id, started_at, session_id, campaign_id,
# keyword_id); the result is their touches, `own` true for the call's own session.
# A session without a visitor id (no consent) joins no other session, not even itself: the
# LEFT JOIN leaves `s` NULL there and the own session stands in (s.id IS NULL below).
_TOUCHES = """
    SELECT c.id AS call_id, COALESCE(s.id, own.id) AS session_id,
           CASE WHEN s.id IS NULL THEN own.campaign_id ELSE s.campaign_id END AS campaign_id,
           CASE WHEN s.id IS NULL THEN own.keyword_id ELSE s.keyword_id END AS keyword_id,
           COALESCE(s.started_at, own.started_at) AS touched_at, c.started_at AS call_at,
           COALESCE(s.id = own.id, true) AS own
    FROM ({calls}) c
    JOIN attribution_visitorsession own ON own.id = c.session_id
    LEFT JOIN attribution_visitorsession s
      ON s.account_id = own.account_id AND s.visitor_id = own.visitor_id
     AND s.started_at <= own.started_at
     AND (s.id = own.id
          OR (NOT s.is_bot AND s.started_at >= c.started_at - make_interval(days => %(lookback)s)))
    UNION ALL
    SELECT c.id, NULL, c.campaign_id, c.keyword_id, c.started_at, c.started_at, true
    FROM ({calls}) c
    WHERE c.session_id IS NULL
"""
_POSITION = "own, touched_at, session_id"  # within a call

_CALLS = "SELECT id, started_at, session_id, campaign_id, keyword_id FROM calls_call"
_CALLS_BY_ID = f"{_CALLS} WHERE account_id = %(account)s AND id = ANY(%(ids)s)"
_CALLS_BY_RANGE = f"""{_CALLS} WHERE account_id = %(account)s AND id >= %(low)s
    AND (%(high)s::bigint IS NULL OR id < %(high)s)"""
_CALLS_OF_JOURNEYS = f"""{_CALLS} WHERE account_id = %(account)s AND NOT spam
    AND started_at >= %(since)s"""


_INDEX_LOOKUPS = {"jit": "off", "enable_hashjoin": "off", "enable_mergejoin": "off"}


def touchpoints_of_calls(*, account, call_ids: Sequence[int]) -> list[TouchRow]:
    """The touches of the given calls of the account (other accounts' ids are ignored)."""
    params = {"account": account.pk, "ids": list(call_ids), "lookback": account.lookback_days}
    return _touch_rows(_CALLS_BY_ID, params)


def touchpoints_of_call_range(*, account, low: int, high: int | None) -> list[TouchRow]:
    """The touches of the account's calls with low ≤ id < high (no upper bound: None)."""
    params = {"account": account.pk, "low": low, "high": high, "lookback": account.lookback_days}
    return _touch_rows(_CALLS_BY_RANGE, params)


def _touch_rows(calls_sql: str, params: dict) -> list[TouchRow]:
    sql = f"""
        SELECT call_id, session_id::text, campaign_id, keyword_id, touched_at::text,
               ((extract(epoch FROM call_at) - extract(epoch FROM touched_at)) * 1000000)::bigint
        FROM ({_TOUCHES.format(calls=calls_sql)}) t
        ORDER BY call_id, {_POSITION}"""
    # A batch of calls: index lookups of their sessions beat hashing every session of the
    # account, which the planner picks from 10⁴ calls on (and JIT compiles for a second).
    with connection.cursor() as cursor, _planner(cursor, **_INDEX_LOOKUPS):
        cursor.execute(sql, params)
        return cursor.fetchall()


def call_chunks(*, account, size: int) -> list[tuple[int, int | None, int]]:
    """The account's calls as consecutive id ranges of about `size` calls, `(low, high,
    count)` with low ≤ id < high (None: no bound). The first range starts at 0 and the last
    is open, so together they cover every row the account could have."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT id FROM (
                   SELECT id, row_number() OVER (ORDER BY id) AS n
                   FROM calls_call WHERE account_id = %s) c
               WHERE (n - 1) %% %s = 0 ORDER BY id""",
            [account.pk, size],
        )
        starts = [0] + [row[0] for row in cursor.fetchall()][1:]
        cursor.execute("SELECT count(*) FROM calls_call WHERE account_id = %s", [account.pk])
        total = cursor.fetchone()[0]
    ends = [*starts[1:], None]
    counts = [max(0, min(size, total - i * size)) for i in range(len(starts))]
    return list(zip(starts, ends, counts, strict=True))


def removal_effects(*, account) -> dict[int | None, Fraction]:
    """The account's stored removal effects by campaign id (None: Unattributed)."""
    rows = RemovalEffect.objects.filter(account=account).values_list("campaign_id", "effect")
    return {campaign_id: Fraction(effect) for campaign_id, effect in rows}


# Markov states in SQL: a campaign id, 0 for Unattributed, and the markers below.
_START, _CONVERSION, _NULL = -1, -2, -3
_MARKERS = {_START: markov.START, _CONVERSION: markov.CONVERSION, _NULL: markov.NULL}

# Converting journeys: the touch path of every non-spam call of the window.
_CONVERTING = f"""
    WITH steps AS (
        SELECT coalesce(campaign_id, 0) AS state,
               lag(coalesce(campaign_id, 0), 1, {_START}) OVER w AS previous,
               lead(call_id) OVER w IS NULL AS last
        FROM ({_TOUCHES.format(calls=_CALLS_OF_JOURNEYS)}) t
        WINDOW w AS (PARTITION BY call_id ORDER BY {_POSITION})
    )
    SELECT previous, state, count(*) FROM steps GROUP BY 1, 2
    UNION ALL
    SELECT state, {_CONVERSION}, count(*) FROM steps WHERE last GROUP BY 1
"""

# Non-converting journeys: per visitor, the sessions of the window (bots left out) that started
# after the visitor's last session with a non-spam call — all of them for one who never called.
# (A called session before the window is older than every session of it: nothing to cut.)
# A session without a visitor id (no consent) is a visitor of its own: '#' never starts an id.
_NON_CONVERTING = f"""
    WITH visits AS (
        SELECT s.id, coalesce(s.visitor_id, '#' || s.id) COLLATE "C" AS visitor, s.started_at,
               s.is_bot, coalesce(s.campaign_id, 0) AS state,
               max(s.started_at) FILTER (WHERE called.session_id IS NOT NULL) OVER (
                   PARTITION BY coalesce(s.visitor_id, '#' || s.id) COLLATE "C"
                   ORDER BY s.started_at, s.id
                   ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
               ) AS last_called
        FROM attribution_visitorsession s
        LEFT JOIN (
            SELECT DISTINCT session_id FROM calls_call
            WHERE account_id = %(account)s AND NOT spam AND session_id IS NOT NULL
        ) called ON called.session_id = s.id
        WHERE s.account_id = %(account)s AND s.started_at >= %(since)s
    ), steps AS (
        SELECT state, lag(state, 1, {_START}) OVER w AS previous, lead(id) OVER w IS NULL AS last
        FROM visits
        WHERE NOT is_bot AND (last_called IS NULL OR started_at > last_called)
        WINDOW w AS (PARTITION BY visitor ORDER BY started_at, id)
    )
    SELECT previous, state, count(*) FROM steps GROUP BY 1, 2
    UNION ALL
    SELECT state, {_NULL}, count(*) FROM steps WHERE last GROUP BY 1
"""


def transition_counts(*, account, now: dt.datetime) -> markov.Transitions:
    """Markov transition counts over the account's journeys of the JOURNEY_DAYS before `now`,
    converting and not (see the queries above); states are campaign ids, None for
    Unattributed, and markov's START, CONVERSION and NULL."""
    params = {
        "account": account.pk,
        "since": now - dt.timedelta(days=JOURNEY_DAYS),
        "lookback": account.lookback_days,
    }
    counts: markov.Transitions = Counter()
    queries = (_CONVERTING, _NON_CONVERTING)
    for rows in threads.each(lambda sql: _transitions(sql, params), queries, workers=2):
        for previous, state, count in rows:
            counts[_state(previous), _state(state)] += count
    return counts


def _transitions(sql: str, params: dict) -> list[tuple[int, int, int]]:
    # Whole-account scans: sorts and hashes of millions of rows stay in memory.
    with connection.cursor() as cursor, _planner(cursor, jit="off", work_mem="256MB"):
        cursor.execute(sql, params)
        return cursor.fetchall()


def _state(code: int):
    return _MARKERS.get(code) or (code or None)


@contextmanager
def _planner(cursor, **settings: str):
    """Planner settings for the statements of the block, in a savepoint (a transaction of its
    own outside one), then put back as they were, so the caller's transaction keeps its own.
    (On an error the savepoint's rollback undoes them.)"""
    with transaction.atomic():
        names = list(settings)
        cursor.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names)
        before = cursor.fetchone()
        _set_local(cursor, settings)
        yield
        _set_local(cursor, dict(zip(names, before, strict=True)))


def _set_local(cursor, settings: dict[str, str]) -> None:
    for name, value in settings.items():
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
