"""Report figures read from the rollups: the same `figures.Grouped` as `naive`, from a few
thousand rollup rows instead of every call. Read-only; `selectors` is the public face."""

import datetime as dt
from decimal import Decimal

from django.db import connection

from attribution.reports import figures, groups

# Per grouping: the rollup it sums, its key columns over that rollup `r` (campaign `cc`), and
# the RollupReach level of its distinct callers with the key columns there (None: the
# grouping shows no callers, as the finance export's campaign × period).
_PERIOD = {
    "day": "r.day",
    "week": "date_trunc('week', r.day)::date",
    "month": "date_trunc('month', r.day)::date",
}
_GROUPINGS = {
    "campaign": ("attribution_rollupcampaignday", ["r.campaign_id"], 1, ["r.campaign_id"]),
    "keyword": (
        "attribution_rollupkeywordday",
        ["r.campaign_id", "r.keyword_id"],
        0,
        ["r.campaign_id", "r.keyword_id"],
    ),
    "channel": ("attribution_rollupcampaignday", ["cc.channel"], 2, ["r.channel"]),
    **{
        period: ("attribution_rollupcampaignday", [key], 3, [key])
        for period, key in _PERIOD.items()
    },
    # The finance export by day or month: one row per period and campaign.
    "campaign_day": ("attribution_rollupcampaignday", [_PERIOD["day"], "r.campaign_id"], None, []),
    "campaign_month": (
        "attribution_rollupcampaignday",
        [_PERIOD["month"], "r.campaign_id"],
        None,
        [],
    ),
}
GROUPINGS = tuple(_GROUPINGS)

_SUMS = """
SELECT {keys}, sum(r.calls_{model}), sum(r.answered_{model}), sum(r.qualified_{model}),
       sum(r.conversions_{model}), sum(r.revenue_{model}), coalesce(sum(r.cost), 0)
FROM {table} r LEFT JOIN campaigns_campaign cc ON cc.id = r.campaign_id
WHERE r.account_id = %(account)s AND r.day BETWEEN %(start)s AND %(end)s
GROUP BY {keys}
HAVING sum(r.calls_{model}) > 0 OR count(r.cost) > 0"""

# A caller-day of day d counts for a range starting at s when its gap is ≥ d − s + 1.
_REACH = """
sum(CASE WHEN r.day - {start} + 1 <= cardinality(r.reach) THEN r.reach[r.day - {start} + 1]
         ELSE r.firsts END)::int"""

_CALLERS = """
SELECT false, {keys}, {reach}
FROM attribution_rollupreach r
WHERE r.account_id = %(account)s AND r.level = %(level)s AND r.model = %(model)s
  AND r.day BETWEEN %(start)s AND %(end)s
GROUP BY {keys}
UNION ALL
SELECT true, {nulls}, {total}
FROM attribution_rollupreach r
WHERE r.account_id = %(account)s AND r.level = 3 AND r.model = %(model)s
  AND r.day BETWEEN %(start)s AND %(end)s"""


def grouped(
    *, account_id: int, start: dt.date, end: dt.date, group_by: str, model: str
) -> figures.Grouped:
    """The report's figures by group (keys as figures.Grouped says), from the rollups."""
    if model not in groups.MODELS or group_by not in _GROUPINGS:
        raise ValueError(f"unknown model {model!r} or grouping {group_by!r}")
    table, keys, level, caller_keys = _GROUPINGS[group_by]
    params = {"account": account_id, "start": start, "end": end}
    with connection.cursor() as cursor:
        cursor.execute(_SUMS.format(keys=", ".join(keys), table=table, model=model), params)
        sums = cursor.fetchall()
        callers, total = {}, 0
        if level is not None:
            cursor.execute(
                _callers_sql(group_by, caller_keys),
                {
                    **params,
                    "level": level,
                    "model": groups.MODELS.index(model),
                },
            )
            for is_total, *row in cursor.fetchall():
                if is_total:
                    total = row[-1] or 0
                else:
                    callers[tuple(row[:-1])] = row[-1]
    width = len(keys)
    rows = {}
    for row in sums:
        key = tuple(row[:width])
        calls, answered, qualified, conversions, revenue, cost = (Decimal(v) for v in row[width:])
        rows[key] = figures.Figures(
            calls=calls,
            answered_calls=answered,
            unique_callers=callers.get(key, 0),
            qualified_calls=qualified,
            conversions=conversions,
            revenue=revenue,
            cost=cost,
        )
    return figures.Grouped(rows=rows, unique_callers=total)


def _callers_sql(group_by: str, keys: list[str]) -> str:
    start = "%(start)s::date"
    if group_by in groups.PERIODS:
        # Each period counts its own callers: its range starts at the period's first day.
        first_day = f"greatest({_PERIOD[group_by]}, {start})"
        reach = _REACH.format(start=first_day)
    else:
        reach = _REACH.format(start=start)
    return _CALLERS.format(
        keys=", ".join(keys),
        reach=reach,
        nulls=", ".join("NULL" for _ in keys),
        total=_REACH.format(start=start),
    )
