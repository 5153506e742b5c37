"""The report figures straight from the raw rows (calls, touchpoints, outcomes, costs): the
definition of PRODUCT.md written as one query, with no rollup in between.

The reports read the rollups (`reading`); this is what they must equal. The property test
compares the two on random data for every model and grouping, and bench/reports.py times both.

Two rules both sides share, beyond PRODUCT.md:
- A call whose touchpoints are not computed yet (credits run after the call is stored) counts
  as one touch on its own campaign and keyword, credit 1 under every model: exactly what its
  touchpoints will say for last touch, and for any model when it has no session.
- A group has a row when a call gives it credit (> 0 under the model) or it has a cost record
  in the range (a campaign with spend but no calls still has a row).
"""

import datetime as dt
from decimal import Decimal

from django.db import connection

from attribution.reports import figures, groups, rollup_sql

# A call's local day, and the same test as the rollups make: started_at within the day's
# bounds with 3 hours to spare (no DST shift is larger), then the exact local date.
CALLS_IN_RANGE = """
    SELECT c.id, c.caller_e164, c.status = 'answered' AS answered, c.campaign_id,
           c.keyword_id, (c.started_at AT TIME ZONE %(tz)s)::date AS day
    FROM calls_call c
    WHERE c.account_id = %(account)s AND NOT c.spam
      AND c.started_at >= (%(start)s::timestamp AT TIME ZONE %(tz)s) - interval '3 hours'
      AND c.started_at < ((%(end)s::date + 1)::timestamp AT TIME ZONE %(tz)s) + interval '3 hours'
      AND (c.started_at AT TIME ZONE %(tz)s)::date BETWEEN %(start)s AND %(end)s"""

# Per call: whether an outcome reached qualified or won, its won outcomes and their value.
OUTCOMES_OF_CALLS = """
    SELECT o.call_id, bool_or(o.stage IN ('qualified', 'won')) AS qualified,
           count(*) FILTER (WHERE o.stage = 'won') AS won,
           coalesce(sum(o.value) FILTER (WHERE o.stage = 'won'), 0) AS won_value
    FROM attribution_outcome o JOIN c ON c.id = o.call_id
    GROUP BY o.call_id"""

# Each touch of each call with its outcome figures; `{model}` is a checked column name.
TOUCHES = """
    SELECT c.day, c.caller_e164 AS caller, c.answered,
           CASE WHEN tp.call_id IS NULL THEN c.campaign_id ELSE tp.campaign_id END AS campaign_id,
           CASE WHEN tp.call_id IS NULL THEN c.keyword_id ELSE tp.keyword_id END AS keyword_id,
           coalesce(tp.{model}, 1) AS credit, coalesce(o.qualified, false) AS qualified,
           coalesce(o.won, 0) AS won, coalesce(o.won_value, 0) AS won_value
    FROM c LEFT JOIN attribution_touchpoint tp ON tp.call_id = c.id
    LEFT JOIN o ON o.call_id = c.id"""

# Group key columns over a touch `t` or a cost `d` (with its date as `day`), campaign `cc`.
KEYS = {
    "campaign": ["{row}.campaign_id"],
    "keyword": ["{row}.campaign_id", "{row}.keyword_id"],
    "channel": ["cc.channel"],
    "day": ["{row}.day"],
    "week": ["date_trunc('week', {row}.day)::date"],
    "month": ["date_trunc('month', {row}.day)::date"],
    # The finance export by day or month: one row per period and campaign.
    "campaign_day": ["{row}.day", "{row}.campaign_id"],
    "campaign_month": ["date_trunc('month', {row}.day)::date", "{row}.campaign_id"],
}

NAIVE = """
WITH c AS ({calls}), o AS ({outcomes}), t AS ({touches}),
credited AS (
    SELECT {touch_keys}, sum(t.credit) AS calls,
           coalesce(sum(t.credit) FILTER (WHERE t.answered), 0) AS answered,
           count(DISTINCT t.caller) FILTER (WHERE t.credit > 0 AND t.caller ~ %(number)s)
           AS callers,
           coalesce(sum(t.credit) FILTER (WHERE t.qualified), 0) AS qualified,
           sum(t.credit * t.won) AS conversions, sum(t.credit * t.won_value) AS revenue,
           NULL::numeric AS cost
    FROM t LEFT JOIN campaigns_campaign cc ON cc.id = t.campaign_id
    GROUP BY {out_keys}
),
spend AS (
    SELECT {cost_keys}, 0, 0, 0, 0, 0, 0, sum(d.amount)
    FROM (SELECT *, date AS day FROM campaigns_dailycost
          WHERE account_id = %(account)s AND date BETWEEN %(start)s AND %(end)s) d
    JOIN campaigns_campaign cc ON cc.id = d.campaign_id
    GROUP BY {out_keys}
)
SELECT false, {out_keys}, sum(calls), sum(answered), sum(callers)::int, sum(qualified),
       sum(conversions), sum(revenue), coalesce(sum(cost), 0), count(cost) > 0
FROM (SELECT * FROM credited UNION ALL SELECT * FROM spend) g
GROUP BY {out_keys}
HAVING sum(calls) > 0 OR count(cost) > 0
UNION ALL
SELECT true, {null_keys}, NULL, NULL, count(DISTINCT t.caller)::int, NULL, NULL, NULL, NULL, NULL
FROM t WHERE t.credit > 0 AND t.caller ~ %(number)s
"""


def grouped(
    *, account_id: int, time_zone: str, start: dt.date, end: dt.date, group_by: str, model: str
) -> figures.Grouped:
    """The report's figures by group, computed from the raw rows. Read-only."""
    if model not in groups.MODELS or group_by not in KEYS:
        raise ValueError(f"unknown model {model!r} or grouping {group_by!r}")
    keys = KEYS[group_by]
    names = [f"k{n}" for n in range(len(keys))]
    sql = NAIVE.format(
        calls=CALLS_IN_RANGE,
        outcomes=OUTCOMES_OF_CALLS,
        touches=TOUCHES.format(model=model),
        touch_keys=", ".join(
            f"{k.format(row='t')} AS {n}" for k, n in zip(keys, names, strict=True)
        ),
        cost_keys=", ".join(
            f"{k.format(row='d')} AS {n}" for k, n in zip(keys, names, strict=True)
        ),
        out_keys=", ".join(names),
        null_keys=", ".join("NULL" for _ in names),
    )
    params = {
        "account": account_id,
        "tz": time_zone,
        "start": start,
        "end": end,
        "number": rollup_sql.CALLER_NUMBER,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        result = cursor.fetchall()
    return to_grouped(result, width=len(keys))


def to_grouped(result: list[tuple], *, width: int) -> figures.Grouped:
    """Rows of (is_total, keys…, calls, answered, callers, qualified, conversions, revenue,
    cost, …): the one row with is_total holds the range's distinct callers in `callers`."""
    rows, total_callers = {}, 0
    for is_total, *row in result:
        key, values = tuple(row[:width]), row[width:]
        calls, answered, callers, qualified, conversions, revenue, cost = values[:7]
        if is_total:
            total_callers = callers
            continue
        rows[key] = figures.Figures(
            calls=_dec(calls),
            answered_calls=_dec(answered),
            unique_callers=callers or 0,
            qualified_calls=_dec(qualified),
            conversions=_dec(conversions),
            revenue=_dec(revenue),
            cost=_dec(cost),
        )
    return figures.Grouped(rows=rows, unique_callers=total_callers or 0)


def _dec(value) -> Decimal:
    return figures.ZERO if value is None else Decimal(value)
