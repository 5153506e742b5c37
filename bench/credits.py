"""Attribution credits throughput: `recompute_account_credits` (all six models) for one account
of BENCH_CALLS calls (default 1,000,000) with realistic journeys, against a baseline measured in
the same run on the same database: a raw `INSERT INTO attribution_touchpoint SELECT` of the same
rows from a plain table (the floor: writing that many rows into the indexed table).

The account gets 14 campaigns with 3 keywords each and 90 days of sessions, made with set-based
SQL: calling visitors with 1–4 sessions (~1.75 on average; 2% bots), one call on the last
session and one in five also on the first, 10% of calls without a session (static numbers, some
Unattributed), 1% spam; as many visitors again who never call. Prints seconds, calls/s, rows
written and the process's peak memory (ru_maxrss). Run with `make bench` (BENCH_CREDITS=0 skips
it there), or alone:

    SECRET_KEY=x python scripts/with_postgres.py --dbname callpath_bench_credits -- \\
        python bench/credits.py
"""

import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from attribution.credits import services as credits  # noqa: E402
from campaigns import services  # noqa: E402
from campaigns.models import Keyword  # noqa: E402

CALLS = int(os.environ.get("BENCH_CALLS", "1000000"))
CAMPAIGNS = 14
# 1–4 sessions per calling visitor: 50%, 30%, 15%, 5%.
SESSIONS = "ARRAY[1,1,1,1,1,1,1,1,1,1,2,2,2,2,2,2,3,3,3,4]"
CALLS_PER_VISITOR = 1 + 0.2 * 0.5  # a second call on the first session, for one in five
SESSIONLESS = 0.1


def make_account():
    account = services.create_account(name=f"bench credits {time.time_ns()}")
    channels = ["paid_search", "paid_social", "display", "email", "organic", "referral", "offline"]
    campaigns, keywords = [], []
    for i in range(CAMPAIGNS):
        campaign = services.create_campaign(
            account=account, name=f"Campaign {i}", channel=channels[i % len(channels)]
        )
        campaigns.append(campaign.pk)
        for k in range(3):
            keyword = Keyword.objects.create(account=account, campaign=campaign, text=f"kw {k}")
            keywords.append(keyword.pk)
    return account, campaigns, keywords


def generate(account, campaigns: list[int], keywords: list[int]) -> dict[str, int]:
    """Sessions and calls with set-based SQL; returns the row counts."""
    calling = round(CALLS * (1 - SESSIONLESS) / CALLS_PER_VISITOR)
    params = {"account": account.pk, "campaigns": campaigns, "keywords": keywords}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.2026)")
        # A campaign index skewed towards the first campaigns (random()²), 10% Unattributed.
        cursor.execute(
            f"""CREATE TEMP TABLE bench_visitor ON COMMIT DROP AS
            SELECT v, v <= %(calling)s AS calls,
                   CASE WHEN v <= %(calling)s THEN ({SESSIONS})[1 + floor(random() * 20)::int]
                        ELSE 1 + floor(random() * 3)::int END AS sessions,
                   now() - interval '90 days' + random() * interval '85 days' AS first_at
            FROM generate_series(1, %(visitors)s) v""",
            {"calling": calling, "visitors": 2 * calling},
        )
        cursor.execute(
            """INSERT INTO attribution_visitorsession (id, account_id, visitor_id, campaign_id,
                keyword_id, channel, landing_url, referrer, gclid, gbraid, wbraid, msclkid,
                fbclid, utm_source, utm_medium, utm_campaign, utm_term, utm_content, user_agent,
                is_bot, email, started_at, last_seen_at, expires_at, idle_timeout_seconds)
            SELECT gen_random_uuid(), %(account)s,
                   CASE WHEN calls THEN 'c' ELSE 'n' END || v, campaign, keyword, '',
                   'https://www.example.com/', '', '', '', '', '', '', '', '', '', '', '', '',
                   k < sessions AND random() < 0.02, '', at, at, at + interval '30 minutes', 1800
            FROM (
                SELECT v, calls, sessions, k, c AS ci,
                       CASE WHEN c < 14 THEN (%(campaigns)s::bigint[])[c + 1] END AS campaign,
                       CASE WHEN c < 14 AND random() < 0.8
                            THEN (%(keywords)s::bigint[])[c * 3 + 1 + floor(random() * 3)::int]
                       END AS keyword,
                       least(first_at + (k - 1) * (0.5 + random()) * interval '2 days',
                             now() - interval '1 minute') AS at
                FROM bench_visitor, generate_series(1, sessions) k,
                     LATERAL (SELECT CASE WHEN random() < 0.1 THEN 14
                                     ELSE floor(14 * random() ^ 2)::int END + 0 * k AS c) pick
            ) s""",
            params,
        )
        sessions = cursor.rowcount
        cursor.execute(
            """INSERT INTO calls_call (account_id, provider, external_id, tracking_e164,
                caller_e164, caller_raw, started_at, duration_seconds, status, recording_url,
                agent, transferred, spam, spam_reason, session_id, campaign_id, keyword_id,
                confidence, created_at, updated_at)
            SELECT %(account)s, 'bench', 's' || row_number() OVER (), '+12125550100',
                   '', '', started_at + random() * interval '20 minutes', 60, 'answered', '',
                   '', false, random() < 0.01, '', id, campaign_id, keyword_id, 'exact',
                   now(), now()
            FROM (
                SELECT id, started_at, campaign_id, keyword_id,
                       row_number() OVER (PARTITION BY visitor_id ORDER BY started_at DESC) AS r,
                       count(*) OVER (PARTITION BY visitor_id) AS n
                FROM attribution_visitorsession
                WHERE account_id = %(account)s AND visitor_id LIKE 'c%%'
            ) s
            WHERE r = 1 OR (r = n AND random() < 0.2)
            LIMIT %(limit)s""",
            {**params, "limit": CALLS},
        )
        with_session = cursor.rowcount
        cursor.execute(
            """INSERT INTO calls_call (account_id, provider, external_id, tracking_e164,
                caller_e164, caller_raw, started_at, duration_seconds, status, recording_url,
                agent, transferred, spam, spam_reason, campaign_id, confidence,
                created_at, updated_at)
            SELECT %(account)s, 'bench', 'n' || i, '+12125550100', '', '',
                   now() - random() * interval '90 days', 60, 'answered', '', '', false,
                   random() < 0.01, '',
                   CASE WHEN random() < 0.7 THEN (%(campaigns)s::bigint[])[1 + i %% 14] END,
                   'static', now(), now()
            FROM generate_series(1, %(count)s) i""",
            {**params, "count": CALLS - with_session},
        )
        cursor.execute("ANALYZE attribution_visitorsession")
        cursor.execute("ANALYZE calls_call")
    return {"sessions": sessions, "calls": CALLS}


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def baseline(account) -> float:
    """The same rows written by PostgreSQL alone: copied aside, deleted, and inserted back
    with one INSERT … SELECT (its commit included)."""
    columns = """account_id, call_id, position, session_id, campaign_id, keyword_id, touched_at,
        last_touch, first_touch, linear, time_decay, position_based, data_driven"""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""CREATE TEMP TABLE bench_rows AS SELECT {columns}
                FROM attribution_touchpoint WHERE account_id = %s""",
            [account.pk],
        )
        cursor.execute("DELETE FROM attribution_touchpoint WHERE account_id = %s", [account.pk])
        cursor.execute("VACUUM attribution_touchpoint")

    def insert():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO attribution_touchpoint ({columns}) SELECT {columns} FROM bench_rows"
            )

    seconds, _ = timed(insert)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_rows")
    return seconds


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    account, campaigns, keywords = make_account()
    made, counts = timed(lambda: generate(account, campaigns, keywords))
    print(f"\nattribution credits, {counts['calls']:,} calls, {counts['sessions']:,} sessions")
    print(f"  generated in {made:.1f} s (set-based SQL); peak memory so far {peak_mb():.0f} MB")
    first, rows = timed(lambda: credits.recompute_account_credits(account=account))
    print(
        f"  recompute_account_credits, first run  {first:6.1f} s  "
        f"{CALLS / first:9,.0f} calls/s  {rows:,} rows written"
    )
    again, rows_again = timed(lambda: credits.recompute_account_credits(account=account))
    assert rows_again == rows, "a rerun writes the same rows"
    print(
        f"  recompute_account_credits, rerun      {again:6.1f} s  "
        f"{CALLS / again:9,.0f} calls/s  (replacing {rows:,} rows)"
    )
    markov, _ = timed(lambda: credits.refresh_removal_effects(account=account))
    print(f"    of which the Markov removal effects  {markov:6.1f} s (alone, once more)")
    floor = baseline(account)
    print(f"  baseline: raw INSERT … SELECT of the same {rows:,} rows  {floor:6.1f} s")
    print(
        f"  recompute / raw insert = {first / floor:.2f}x; "
        f"peak memory of this process {peak_mb():.0f} MB (ru_maxrss)"
    )


if __name__ == "__main__":
    call_command("migrate", verbosity=0)
    main()
