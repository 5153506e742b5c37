"""Call KPIs and today's live figures, counted from the calls themselves (read-only).

KPIs are about calls, not credit: a call belongs to its own campaign (last touch), spam calls
count only towards the spam share. They read the raw rows through the (account, started_at)
and (account, caller, started_at) indexes; "repeat" looks back over the account's whole history
(a caller is new when no earlier non-spam call came from the number).
"""

import datetime as dt
from decimal import Decimal

from django.db import connection

from attribution.reports import results

# The calls of the range in the account's time zone (3 hours to spare on the index range).
_CALLS = """
    SELECT c.id, c.caller_e164, c.status, c.spam, c.transferred, c.talk_seconds, c.agent,
           c.campaign_id, (c.started_at AT TIME ZONE %(tz)s) AS local,
           c.caller_e164 <> '' AND NOT c.spam AND EXISTS (
               SELECT 1 FROM calls_call e
               WHERE e.account_id = c.account_id AND e.caller_e164 = c.caller_e164
                 AND NOT e.spam
                 AND (e.started_at < c.started_at OR (e.started_at = c.started_at AND e.id < c.id))
           ) AS repeat
    FROM calls_call c
    WHERE c.account_id = %(account)s
      AND c.started_at >= (%(start)s::timestamp AT TIME ZONE %(tz)s) - interval '3 hours'
      AND c.started_at < ((%(end)s::date + 1)::timestamp AT TIME ZONE %(tz)s) + interval '3 hours'
      AND (c.started_at AT TIME ZONE %(tz)s)::date BETWEEN %(start)s AND %(end)s"""

_KEYS = {
    "campaign": "c.campaign_id",
    "channel": "cc.channel",
    "day": "c.local::date",
    "week": "date_trunc('week', c.local)::date",
    "month": "date_trunc('month', c.local)::date",
}

# One scan, four groupings: by the key, the whole range, by agent, by weekday × hour.
_KPIS = """
WITH c AS ({calls}),
won AS (
    SELECT o.call_id, count(*) AS n FROM attribution_outcome o JOIN c ON c.id = o.call_id
    WHERE o.stage = 'won' GROUP BY o.call_id
),
k AS (
    SELECT c.*, {key} AS grp, coalesce(won.n, 0) AS won,
           extract(isodow FROM c.local)::int - 1 AS weekday, extract(hour FROM c.local)::int AS hour
    FROM c LEFT JOIN won ON won.call_id = c.id
    LEFT JOIN campaigns_campaign cc ON cc.id = c.campaign_id
)
SELECT GROUPING(grp, agent, weekday, hour), grp, agent, weekday, hour,
       count(*), count(*) FILTER (WHERE spam), count(*) FILTER (WHERE NOT spam),
       count(*) FILTER (WHERE NOT spam AND status = 'answered'),
       count(*) FILTER (WHERE NOT spam AND status = 'abandoned'),
       count(*) FILTER (WHERE NOT spam AND status = 'answered' AND transferred),
       coalesce(sum(talk_seconds) FILTER (WHERE NOT spam AND status = 'answered'), 0)::bigint,
       count(talk_seconds) FILTER (WHERE NOT spam AND status = 'answered'),
       count(*) FILTER (WHERE NOT spam AND caller_e164 <> ''),
       count(*) FILTER (WHERE repeat),
       count(*) FILTER (WHERE NOT spam AND caller_e164 <> '' AND NOT repeat),
       coalesce(sum(won) FILTER (WHERE NOT spam), 0)::bigint
FROM k
GROUP BY GROUPING SETS ((grp), (), (agent), (weekday, hour))"""

# GROUPING(grp, agent, weekday, hour): a bit per column not grouped by, the first highest.
_BY_KEY, _TOTAL, _BY_AGENT, _BY_HOUR = 0b0111, 0b1111, 0b1011, 0b1100


def call_counts(
    *, account_id: int, time_zone: str, start: dt.date, end: dt.date, group_by: str
) -> tuple[dict, results.CallCounts, list[results.AgentRow], list[results.HeatCell]]:
    """Counts by group key (None: no campaign or channel), the totals, conversion by agent
    (busiest first) and the 168 cells of the weekday × hour heat map."""
    sql = _KPIS.format(calls=_CALLS, key=_KEYS[group_by])
    params = {"account": account_id, "tz": time_zone, "start": start, "end": end}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        result = cursor.fetchall()
    by_key, totals, agents, cells = {}, results.CallCounts(), [], {}
    for grouping, key, agent, weekday, hour, *values in result:
        counts = results.CallCounts(*values)
        if grouping == _BY_KEY:
            by_key[key] = counts
        elif grouping == _TOTAL:
            totals = counts
        elif grouping == _BY_AGENT and counts.calls:
            agents.append(results.AgentRow(agent or None, counts.calls, counts.conversions))
        elif grouping == _BY_HOUR:
            cells[weekday, hour] = counts
    heat_map = [
        results.HeatCell(
            weekday,
            hour,
            cells.get((weekday, hour), results.CallCounts()).calls,
            cells.get((weekday, hour), results.CallCounts()).conversions,
        )
        for weekday in range(7)
        for hour in range(24)
    ]
    agents.sort(key=lambda row: (-row.calls, row.agent is None, row.agent or ""))
    return by_key, totals, agents, heat_map


_TODAY = """
WITH c AS (
    SELECT c.id, c.status FROM calls_call c
    WHERE c.account_id = %(account)s AND NOT c.spam
      AND c.started_at >= (%(day)s::timestamp AT TIME ZONE %(tz)s) - interval '3 hours'
      AND (c.started_at AT TIME ZONE %(tz)s)::date = %(day)s
)
SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM c WHERE status = 'answered'),
       count(o.id), coalesce(sum(o.value), 0)
FROM attribution_outcome o JOIN c ON c.id = o.call_id
WHERE o.stage = 'won'"""


def today(*, account_id: int, time_zone: str, day: dt.date) -> tuple[int, int, int, Decimal]:
    """Non-spam calls of the local day, answered ones, won outcomes of them, their value."""
    with connection.cursor() as cursor:
        cursor.execute(_TODAY, {"account": account_id, "tz": time_zone, "day": day})
        calls, answered, conversions, revenue = cursor.fetchone()
    return calls, answered, conversions, Decimal(revenue)
