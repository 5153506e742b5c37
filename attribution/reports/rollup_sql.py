"""The SQL that rolls days up (used by `rollups` only). Every statement is set-based over a list
of local days `%(days)s` of one account `%(account)s` in its time zone `%(tz)s`.

Column names come from groups.MODELS, never from input.
"""

from attribution.reports import groups

# A caller number (PRODUCT.md: stored in E.164; anything else is no number). Rolled up as the
# bigint of its digits — one-to-one, as E.164 has no leading zero — which sorts far faster than
# text sharing its first 8 bytes ("+1415555…") in every row.
CALLER_NUMBER = r"^\+[1-9][0-9]{1,14}$"

# 1 << i for MODELS[i]: a caller-day's models under which one of its calls got credit.
ALL_MODELS_MASK = (1 << len(groups.MODELS)) - 1
# Gaps beyond this many days count as "no earlier day": no report range is longer.
HORIZON_DAYS = groups.MAX_RANGE_DAYS + 1

FIGURES = [
    f"{figure}_{model}"
    for model in groups.MODELS
    for figure in ("calls", "answered", "qualified", "conversions", "revenue")
]

# The account's non-spam calls started on the days (3 hours to spare on the index range: no
# DST shift is larger; then the exact local date).
CALLS_OF_DAYS = """
    SELECT c.id, c.caller_e164, c.status = 'answered' AS answered, c.campaign_id,
           c.keyword_id, d.day
    FROM unnest(%(days)s::date[]) AS d(day)
    JOIN calls_call c ON c.account_id = %(account)s
     AND c.started_at >= (d.day::timestamp AT TIME ZONE %(tz)s) - interval '3 hours'
     AND c.started_at < ((d.day + 1)::timestamp AT TIME ZONE %(tz)s) + interval '3 hours'
    WHERE NOT c.spam AND (c.started_at AT TIME ZONE %(tz)s)::date = d.day"""

OUTCOMES_OF_CALLS = """
    SELECT o.call_id, bool_or(o.stage IN ('qualified', 'won')) AS qualified,
           count(*) FILTER (WHERE o.stage = 'won') AS won,
           coalesce(sum(o.value) FILTER (WHERE o.stage = 'won'), 0) AS won_value
    FROM attribution_outcome o JOIN c ON c.id = o.call_id
    GROUP BY o.call_id"""

# A call without touchpoints yet counts as one touch on its own campaign, credit 1 (naive.py).
TOUCH_CAMPAIGN = "CASE WHEN tp.call_id IS NULL THEN c.campaign_id ELSE tp.campaign_id END"
TOUCH_KEYWORD = "CASE WHEN tp.call_id IS NULL THEN c.keyword_id ELSE tp.keyword_id END"


def _credited_sums() -> str:
    sums = []
    for model in groups.MODELS:
        credit = f"coalesce(tp.{model}, 1)"
        sums += [
            f"sum({credit}) AS calls_{model}",
            f"coalesce(sum({credit}) FILTER (WHERE c.answered), 0) AS answered_{model}",
            f"coalesce(sum({credit}) FILTER (WHERE o.qualified), 0) AS qualified_{model}",
            f"coalesce(sum({credit} * o.won), 0) AS conversions_{model}",
            f"coalesce(sum({credit} * o.won_value), 0) AS revenue_{model}",
        ]
    return ",\n           ".join(sums)


# Replaces the days' rows of RollupKeywordDay; then RollupCampaignDay sums them.
INSERT_KEYWORD_DAYS = f"""
INSERT INTO attribution_rollupkeywordday (account_id, day, campaign_id, keyword_id, cost,
    {", ".join(FIGURES)})
WITH c AS ({CALLS_OF_DAYS}), o AS ({OUTCOMES_OF_CALLS}),
credited AS (
    SELECT c.day, {TOUCH_CAMPAIGN} AS campaign_id, {TOUCH_KEYWORD} AS keyword_id,
           NULL::numeric AS cost,
           {_credited_sums()}
    FROM c LEFT JOIN attribution_touchpoint tp ON tp.call_id = c.id
    LEFT JOIN o ON o.call_id = c.id
    GROUP BY 1, 2, 3
),
spend AS (
    SELECT date, campaign_id, keyword_id, amount, {", ".join("0" for _ in FIGURES)}
    FROM campaigns_dailycost
    WHERE account_id = %(account)s AND date = ANY(%(days)s::date[])
)
SELECT %(account)s, day, campaign_id, keyword_id, sum(cost),
       {", ".join(f"sum({name})" for name in FIGURES)}
FROM (SELECT * FROM credited UNION ALL SELECT * FROM spend) g
GROUP BY day, campaign_id, keyword_id"""

INSERT_CAMPAIGN_DAYS = f"""
INSERT INTO attribution_rollupcampaignday (account_id, day, campaign_id, cost,
    {", ".join(FIGURES)})
SELECT account_id, day, campaign_id, sum(cost), {", ".join(f"sum({name})" for name in FIGURES)}
FROM attribution_rollupkeywordday
WHERE account_id = %(account)s AND day = ANY(%(days)s::date[])
GROUP BY account_id, day, campaign_id"""

DELETE_DAYS = """
DELETE FROM {table} WHERE account_id = %(account)s AND day = ANY(%(days)s::date[])"""


def _mask() -> str:
    bits = " | ".join(
        f"(CASE WHEN tp.{model} > 0 THEN {1 << i} ELSE 0 END)"
        for i, model in enumerate(groups.MODELS)
    )
    return f"CASE WHEN tp.call_id IS NULL THEN {ALL_MODELS_MASK} ELSE {bits} END"


# The days' caller rows as they should be now, into a temporary table.
NEW_CALLER_DAYS = f"""
CREATE TEMPORARY TABLE rollup_new_callers AS
WITH c AS ({CALLS_OF_DAYS})
SELECT c.day, substr(c.caller_e164, 2)::bigint AS caller, {TOUCH_CAMPAIGN} AS campaign_id,
       {TOUCH_KEYWORD} AS keyword_id, cc.channel, bit_or({_mask()})::smallint AS models_mask
FROM c LEFT JOIN attribution_touchpoint tp ON tp.call_id = c.id
LEFT JOIN campaigns_campaign cc ON cc.id = {TOUCH_CAMPAIGN}
WHERE c.caller_e164 ~ '{CALLER_NUMBER}'
GROUP BY 1, 2, 3, 4, 5
HAVING bit_or({_mask()}) <> 0"""

# The callers whose reach the change can move: those of the days, before and after.
AFFECTED_CALLERS = """
CREATE TEMPORARY TABLE rollup_callers AS
SELECT caller FROM attribution_rollupcallerday
WHERE account_id = %(account)s AND day = ANY(%(days)s::date[])
UNION SELECT caller FROM rollup_new_callers"""

# Every caller-day of those callers as stored (the state the stored reach was counted from),
# looked up through the (account, caller, day) index (as a join, the planner would hash the
# account's every row).
OLD_CALLER_ROWS = """
CREATE TEMPORARY TABLE rollup_old_rows AS
SELECT cd.caller, cd.day, cd.campaign_id, cd.keyword_id, cd.channel, cd.models_mask
FROM attribution_rollupcallerday cd
WHERE cd.account_id = %(account)s
  AND cd.caller = ANY((SELECT array_agg(caller) FROM rollup_callers)::bigint[])"""

# Sources of caller-days for `links`: the account's stored rows (a rebuild); the affected
# callers' rows before the refresh; the same with the refreshed days' rows replaced.
ALL_ROWS = "(SELECT * FROM attribution_rollupcallerday WHERE account_id = %(account)s)"
OLD_ROWS = "rollup_old_rows"
NEW_ROWS = """(SELECT * FROM rollup_old_rows WHERE day <> ALL(%(days)s::date[])
     UNION ALL
     SELECT caller, day, campaign_id, keyword_id, channel, models_mask FROM rollup_new_callers)"""

SWAP_CALLER_DAYS = """
INSERT INTO attribution_rollupcallerday (account_id, day, caller, campaign_id, keyword_id,
    channel, models_mask)
SELECT %(account)s, day, caller, campaign_id, keyword_id, channel, models_mask
FROM rollup_new_callers"""

LINKS_TABLE = """
CREATE TEMPORARY TABLE rollup_links (level smallint, model smallint, campaign_id bigint,
    keyword_id bigint, channel varchar(20) COLLATE "C", day date, gap integer, n integer)"""

_GAP_COLUMNS = ", ".join(f"g{i}" for i in range(len(groups.MODELS)))

# Per level: its group columns (campaign_id, keyword_id, channel) over RollupCallerDay `cd`.
# Level 0 is RollupCallerDay itself; the others merge its rows of a caller-day and group.
LEVELS = {
    0: ("cd.campaign_id", "cd.keyword_id", "NULL::varchar(20)"),
    1: ("cd.campaign_id", "NULL::bigint", "NULL::varchar(20)"),
    2: ("NULL::bigint", "NULL::bigint", "cd.channel"),
    3: ("NULL::bigint", "NULL::bigint", "NULL::varchar(20)"),
}


def _gaps() -> str:
    return ",\n           ".join(
        f"day - max(day) FILTER (WHERE models_mask & {1 << i} <> 0) OVER w AS g{i}"
        for i in range(len(groups.MODELS))
    )


def links(*, level: int, source: str, sign: int, changed_only: bool = False) -> str:
    """Append to rollup_links, with `sign`, each (level, model, group, day, gap) count of the
    caller-days of `source` (ALL_ROWS, OLD_ROWS or NEW_ROWS) at one level: the gap is the days
    back to the caller's previous day in the same group credited under the same model, NULL
    for none within HORIZON_DAYS. One statement per level keeps each sort to one level's rows.
    The source must hold every caller-day of the callers it has.

    `changed_only` (a refresh of the sorted days `%(days)s`) counts a caller-day's link under a
    model only when it can differ before and after: when one of the days lies after the
    previous credited day *outside* the days (q) and up to this day. That test reads only rows
    outside the days, the same on both sides, so both sides keep the same unchanged links and
    they cancel out; every link that changes is kept on both sides (its previous day, before or
    after, is one of the days, or it is on one)."""
    campaign, keyword, channel = LEVELS[level]
    models = range(len(groups.MODELS))
    if changed_only:
        outside = ",\n           ".join(
            f"max(day) FILTER (WHERE models_mask & {1 << i} <> 0 "
            f"AND day <> ALL(%(days)s::date[])) OVER w AS q{i}"
            for i in models
        )
        flags = ", ".join(
            f"width_bucket(day, %(days)s::date[]) > "
            f"width_bucket(coalesce(q{i}, '-infinity'::date), %(days)s::date[]) AS c{i}"
            for i in models
        )
    else:
        outside = "NULL AS unused"
        flags = ", ".join(f"true AS c{i}" for i in models)
    keep = ", ".join(f"c{i}" for i in models)
    unpivot = ", ".join(f"({i}, g{i}, c{i})" for i in models)
    return f"""
INSERT INTO rollup_links
WITH leveled AS (
    SELECT {campaign} AS campaign_id, {keyword} AS keyword_id, {channel} AS channel,
           cd.caller, cd.day, bit_or(cd.models_mask) AS models_mask
    FROM {source} cd
    GROUP BY 1, 2, 3, 4, 5
),
linked AS (
    SELECT campaign_id, keyword_id, channel, day, models_mask,
           {_gaps()},
           {outside}
    FROM leveled
    WINDOW w AS (PARTITION BY caller, campaign_id, keyword_id, channel ORDER BY day
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),
flagged AS (
    SELECT campaign_id, keyword_id, channel, day, models_mask, {_GAP_COLUMNS}, {flags}
    FROM linked
),
counted AS (
    SELECT campaign_id, keyword_id, channel, day, models_mask, {_GAP_COLUMNS}, {keep},
           count(*) AS n
    FROM flagged WHERE {" OR ".join(f"c{i}" for i in models)}
    GROUP BY campaign_id, keyword_id, channel, day, models_mask, {_GAP_COLUMNS}, {keep}
)
SELECT {level}, m.model, campaign_id, keyword_id, channel, day,
       CASE WHEN m.gap <= {HORIZON_DAYS} THEN m.gap END, {sign} * sum(n)
FROM counted CROSS JOIN LATERAL (VALUES {unpivot}) AS m(model, gap, keep)
WHERE models_mask & (1 << m.model) <> 0 AND m.keep
GROUP BY m.model, campaign_id, keyword_id, channel, day, 7"""


# rollup_links summed into one reach delta per group (a dense array: entry k counts the
# caller-days whose gap is ≥ k, NULL gaps included), added to RollupReach. One sort, no join:
# ordered by gap descending with NULL (no earlier day) first, the running sum at a gap is
# that gap's entry, and it holds for every k down to the next smaller gap. Returns the ids of
# the groups left with no caller, to delete.
APPLY_LINKS = """
WITH agg AS (
    SELECT level, model, campaign_id, keyword_id, channel, day, gap, sum(n) AS n
    FROM rollup_links GROUP BY level, model, campaign_id, keyword_id, channel, day, gap
    HAVING sum(n) <> 0
),
running AS (
    SELECT level, model, campaign_id, keyword_id, channel, day, gap,
           coalesce(sum(n) FILTER (WHERE gap IS NULL) OVER g, 0) AS firsts,
           sum(n) OVER (g ORDER BY gap DESC NULLS FIRST ROWS UNBOUNDED PRECEDING) AS reach,
           coalesce(lead(gap) OVER (g ORDER BY gap DESC NULLS FIRST), 0) AS below
    FROM agg
    -- day first: a date key sorts with PostgreSQL's fast integer comparator.
    WINDOW g AS (PARTITION BY day, campaign_id, keyword_id, level, model, channel)
),
delta AS (
    SELECT level, model, campaign_id, keyword_id, channel, day, max(firsts)::int AS firsts,
           coalesce(array_agg(reach::int ORDER BY k) FILTER (WHERE k IS NOT NULL), '{{}}')
           AS reach
    FROM running LEFT JOIN LATERAL generate_series(below + 1, gap) AS k ON true
    GROUP BY day, campaign_id, keyword_id, level, model, channel
),
up AS (
    INSERT INTO attribution_rollupreach AS r (account_id, level, model, day, campaign_id,
        keyword_id, channel, firsts, reach)
    SELECT %(account)s, level, model, day, campaign_id, keyword_id, channel, firsts, reach
    FROM delta
    {conflict}
    RETURNING r.id, r.firsts, r.reach
)
SELECT id FROM up WHERE coalesce(reach[1], firsts) = 0"""

_ADD_TO_STORED = """
    ON CONFLICT (account_id, level, model, day, campaign_id, keyword_id, channel) DO UPDATE
    SET firsts = r.firsts + EXCLUDED.firsts,
        reach = attribution_reach_add(r.reach, r.firsts, EXCLUDED.reach, EXCLUDED.firsts)"""


def apply_links(*, onto_stored: bool) -> str:
    """APPLY_LINKS, adding to the stored reach (a refresh) or into an empty one (a rebuild)."""
    return APPLY_LINKS.format(conflict=_ADD_TO_STORED if onto_stored else "")


DROP_TEMPORARY = (
    "DROP TABLE IF EXISTS rollup_new_callers, rollup_callers, rollup_old_rows, rollup_links"
)

# Local days holding calls or costs of the account (a rebuild's days).
ACCOUNT_DAYS = """
SELECT DISTINCT (started_at AT TIME ZONE %(tz)s)::date FROM calls_call
WHERE account_id = %(account)s
UNION SELECT date FROM campaigns_dailycost WHERE account_id = %(account)s
ORDER BY 1"""
