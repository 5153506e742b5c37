"""The set-based statements of the CSV backfill (calls/backfill.py), one per rule of
`services.record_calls`. Each works on the calls named by the staging table and takes the
account as `%(account)s`. The constants come from `calls.rules`, so SQL and Python rank
statuses and spot bursts alike."""

from attribution.models import MatchMethod
from attribution.models.sessions import COVERED_UNTIL_SQL
from calls import rules
from calls.models import Confidence, SpamReason
from campaigns.models import TrackingNumber


def _rank(expr: str) -> str:
    whens = " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in rules.STATUS_RANK.items())
    return f"(CASE {expr} {whens} END)"


STAGING = """
DROP TABLE IF EXISTS calls_import_staging;
CREATE TEMP TABLE calls_import_staging (
    line integer NOT NULL,
    provider varchar(40) NOT NULL,
    external_id varchar(120) NOT NULL,
    tracking_e164 varchar(20) NOT NULL,
    caller_e164 varchar(20) NOT NULL,
    caller_raw varchar(200) NOT NULL,
    started_at timestamptz NOT NULL,
    duration_seconds integer NOT NULL,
    status varchar(20) NOT NULL,
    talk_seconds integer,
    recording_url varchar(500) NOT NULL,
    agent varchar(120) NOT NULL,
    transferred boolean NOT NULL
) ON COMMIT DROP
"""

# How an incoming row changes a stored call, as `services._record_one` does: the status only
# advances, the first start wins, durations only grow, a known recording or agent is kept
# unless replaced, the numbers are the latest word.
_MERGE = {
    "status": (
        f"CASE WHEN {_rank('EXCLUDED.status')} > {_rank('c.status')} "
        "THEN EXCLUDED.status ELSE c.status END"
    ),
    "tracking_number_id": "EXCLUDED.tracking_number_id",
    "tracking_e164": "EXCLUDED.tracking_e164",
    "caller_e164": "EXCLUDED.caller_e164",
    "caller_raw": "EXCLUDED.caller_raw",
    "started_at": "LEAST(c.started_at, EXCLUDED.started_at)",
    "duration_seconds": "GREATEST(c.duration_seconds, EXCLUDED.duration_seconds)",
    "talk_seconds": (
        "CASE WHEN EXCLUDED.talk_seconds IS NULL THEN c.talk_seconds "
        "ELSE GREATEST(COALESCE(c.talk_seconds, 0), EXCLUDED.talk_seconds) END"
    ),
    "recording_url": "COALESCE(NULLIF(EXCLUDED.recording_url, ''), c.recording_url)",
    "agent": "COALESCE(NULLIF(EXCLUDED.agent, ''), c.agent)",
    "transferred": "c.transferred OR EXCLUDED.transferred",
}


# `services.attribute`, set-based: a static number gives its campaign; a pool number the
# session whose lease covers the start — live leases first, else leases in their grace
# (`selectors.leases_covering`); several when the pool overflowed: the most recently active,
# ties to the higher id, as Python's max() does — counted within that tier; no covering lease,
# the pool's campaign; a number that is not ours (`n` NULL), nothing. The lateral probe is one
# GiST index probe per pool call (`assignment_number_cover_idx`), a plan that does not depend
# on statistics of rows inserted a moment ago in this transaction.
def _lease(at: str) -> str:
    covered_until = COVERED_UNTIL_SQL.format(a="a")
    return f"""LEFT JOIN LATERAL (
        SELECT v.id AS session_id, v.campaign_id, v.keyword_id,
            count(*) OVER (PARTITION BY a.ends_at > {at}) AS leases
        FROM attribution_numberassignment a
        JOIN attribution_visitorsession v ON v.id = a.session_id
        WHERE n.kind = '{TrackingNumber.Kind.POOL}' AND a.number_id = n.id
            AND tstzrange(a.starts_at, {covered_until}, '[)') @> {at}
        ORDER BY a.ends_at > {at} DESC, v.last_seen_at DESC, v.id DESC
        LIMIT 1
    ) l ON true"""


_LINK = f"""l.session_id, COALESCE(l.campaign_id, n.campaign_id) AS campaign_id, l.keyword_id,
    CASE WHEN n.id IS NULL THEN '{Confidence.NONE}'
        WHEN n.kind = '{TrackingNumber.Kind.STATIC}' THEN '{Confidence.STATIC}'
        WHEN l.session_id IS NULL THEN '{Confidence.SOURCE}'
        WHEN l.leases > 1 THEN '{Confidence.AMBIGUOUS}'
        ELSE '{Confidence.EXACT}' END AS confidence"""

# Counts inserted and updated rows: a freshly inserted row has no xmax. A row that would not
# change is skipped by the WHERE, so a re-import rewrites (and bloats) nothing. A new call is
# inserted attributed, as its start and number are final: ATTRIBUTE writing every new row a
# second time (all its index entries again) was over a third of an import's time.
UPSERT = f"""
WITH upserted AS (
    INSERT INTO calls_call AS c (
        account_id, provider, external_id, tracking_number_id, tracking_e164, caller_e164,
        caller_raw, started_at, duration_seconds, talk_seconds, status, recording_url, agent,
        transferred, spam, spam_reason, session_id, campaign_id, keyword_id, confidence,
        created_at, updated_at)
    SELECT %(account)s, s.provider, s.external_id, n.id, s.tracking_e164, s.caller_e164,
        s.caller_raw, s.started_at, s.duration_seconds, s.talk_seconds, s.status,
        s.recording_url, s.agent, s.transferred, false, '', {_LINK}, now(), now()
    FROM calls_import_staging s
    LEFT JOIN campaigns_trackingnumber n
        ON n.e164 = s.tracking_e164 AND n.account_id = %(account)s
    {_lease("s.started_at")}
    ON CONFLICT (account_id, provider, external_id) DO UPDATE SET
        {", ".join(f"{column} = {expr}" for column, expr in _MERGE.items())},
        updated_at = now()
    WHERE ({", ".join(f"c.{column}" for column in _MERGE)})
        IS DISTINCT FROM ({", ".join(_MERGE.values())})
    RETURNING (c.xmax = 0) AS created
)
SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM upserted
"""

_CALLS = """
    calls_import_staging s
    JOIN calls_call c ON c.account_id = %(account)s
        AND c.provider = s.provider AND c.external_id = s.external_id
"""

# The calls that existed before UPSERT, at their final start and number. UPSERT left those
# with an xmax, as ON CONFLICT DO UPDATE locks every row it meets, changed or not
# (https://www.postgresql.org/docs/current/sql-insert.html, "condition"), while a row it
# inserted has none: nothing else can lock a row this transaction has not committed.
ATTRIBUTE = f"""
WITH result AS (
    SELECT c.id, {_LINK}
    FROM {_CALLS}
    LEFT JOIN campaigns_trackingnumber n ON n.id = c.tracking_number_id
    {_lease("c.started_at")}
    WHERE c.xmax <> 0
)
UPDATE calls_call c
SET session_id = r.session_id, campaign_id = r.campaign_id, keyword_id = r.keyword_id,
    confidence = r.confidence
FROM result r
WHERE c.id = r.id AND (c.session_id, c.campaign_id, c.keyword_id, c.confidence)
    IS DISTINCT FROM (r.session_id, r.campaign_id, r.keyword_id, r.confidence)
"""

# Every call of a blocklisted caller in the file is spam, unless a user decided otherwise.
BLOCKLIST = f"""
UPDATE calls_call c SET spam = true, spam_reason = '{SpamReason.BLOCKLIST}'
FROM calls_blockednumber b
WHERE b.account_id = %(account)s AND c.account_id = %(account)s AND c.caller_e164 = b.e164
    AND b.e164 IN (SELECT caller_e164 FROM calls_import_staging WHERE caller_e164 <> '')
    AND c.spam_reason IN ('', '{SpamReason.AUTO}')
"""

_WINDOW = f"interval '{int(rules.BURST_WINDOW.total_seconds())} seconds'"
_FINISHED = ", ".join(f"'{status}'" for status in sorted(rules.FINISHED))

# `services._mark_bursts`, set-based. `rules.burst_members` with window functions: a short
# call belongs to a burst when, within the hour after it (itself included), some short call
# closes an hour holding BURST_CALLS or more. Short calls are read up to two windows around
# the file's calls of each caller; a burst found among them is a burst, so marks are set
# wherever they are found. Automatic marks that no longer hold (a call's real duration
# arrived) are lifted only within one window, where the counts are complete.
BURSTS = f"""
WITH callers AS (
    SELECT c.caller_e164, min(c.started_at) AS first_at, max(c.started_at) AS last_at
    FROM {_CALLS}
    WHERE c.caller_e164 <> ''
    GROUP BY c.caller_e164
), short AS (
    SELECT c.id, c.caller_e164, c.started_at, c.spam_reason
    FROM callers k
    JOIN calls_call c ON c.account_id = %(account)s AND c.caller_e164 = k.caller_e164
        AND c.started_at BETWEEN k.first_at - 2 * {_WINDOW} AND k.last_at + 2 * {_WINDOW}
    WHERE c.status IN ({_FINISHED}) AND c.duration_seconds < {rules.SHORT_CALL_SECONDS}
), counted AS (
    SELECT *, count(*) OVER (PARTITION BY caller_e164 ORDER BY started_at
        RANGE BETWEEN {_WINDOW} PRECEDING AND CURRENT ROW) AS calls_in_hour
    FROM short
), burst AS (
    SELECT id, spam_reason FROM (
        SELECT *, max(calls_in_hour) OVER (PARTITION BY caller_e164 ORDER BY started_at
            RANGE BETWEEN CURRENT ROW AND {_WINDOW} FOLLOWING) AS peak
        FROM counted
    ) peaks
    WHERE peak >= {rules.BURST_CALLS}
), lifted AS (
    SELECT c.id
    FROM callers k
    JOIN calls_call c ON c.account_id = %(account)s AND c.caller_e164 = k.caller_e164
        AND c.started_at BETWEEN k.first_at - {_WINDOW} AND k.last_at + {_WINDOW}
    WHERE c.spam_reason = '{SpamReason.AUTO}' AND c.id NOT IN (SELECT id FROM burst)
), changes AS (
    SELECT id, true AS spam FROM burst WHERE spam_reason = ''
    UNION ALL
    SELECT id, false FROM lifted
)
UPDATE calls_call c
SET spam = ch.spam, spam_reason = CASE WHEN ch.spam THEN '{SpamReason.AUTO}' ELSE '' END
FROM changes ch
WHERE c.id = ch.id
"""

# The ids of the calls the staging table names.
STORED_IDS = f"SELECT c.id FROM {_CALLS}"

# The staged calls an outcome not tied to its call could take: one naming its external id, or
# of its caller, or carrying its session's email. `match_waiting_outcomes` decides (windows,
# spam, the most recent call); this only spares it the calls no outcome wants, which in a
# history import are nearly all of them. Three semi-joins, each hashing the outcomes once.
_OPEN = f"""
    SELECT 1 FROM attribution_outcome o
    WHERE o.account_id = %(account)s AND o.match_method <> '{MatchMethod.CALL}'
"""
OUTCOME_CANDIDATES = f"""
SELECT c.id FROM {_CALLS}
WHERE c.caller_e164 <> '' AND EXISTS ({_OPEN} AND o.caller_e164 = c.caller_e164)
UNION
SELECT c.id FROM {_CALLS}
WHERE EXISTS ({_OPEN} AND o.call_external_id = c.external_id)
UNION
SELECT c.id FROM {_CALLS}
JOIN attribution_visitorsession v ON v.id = c.session_id
WHERE v.email <> '' AND EXISTS ({_OPEN} AND lower(o.email) = lower(v.email))
"""
