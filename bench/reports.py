"""ROI report speed: rollups against the naive aggregate over the raw rows, in the same run.

Generates one account with BENCH_CALLS calls (default 300,000) over 90 days with set-based
SQL: 30 campaigns over 7 channels with 10 keywords each, 10% of calls Unattributed, journeys of
1–4 touchpoints (50/30/15/5%) with every model's credits adding up to exactly 1 per call,
callers drawn from a pool a third the size of the calls (so they repeat) and 8% withheld, 1%
spam, outcomes on 20% of calls (a third of them won, with values), and daily spend per keyword
and per campaign. Then:

1. builds the rollups from scratch (`rollups.rebuild_account`, timed), and times the
   incremental refresh of one changed day;
2. for the last 30 and 90 days, every model and every grouping: the ROI report as the API
   reads it (`selectors.roi`, p50/p95 over BENCH_REPEATS runs) next to the same figures
   computed from the raw rows (`naive.grouped`, BENCH_NAIVE_REPEATS runs), and checks that
   the rollups' figures equal the naive ones exactly;
3. prints the goals: ≤ 50 ms p95 for the 90-day report by campaign under any model, ≥ 20×
   faster than the naive aggregate.

    SECRET_KEY=x python scripts/with_postgres.py --dbname callpath_bench_reports -- \\
        python bench/reports.py
"""

import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from attribution.reports import groups, naive, reading, rollups, selectors  # noqa: E402
from campaigns import services  # noqa: E402
from campaigns.models import Keyword  # noqa: E402

CALLS = int(os.environ.get("BENCH_CALLS", "300000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "20"))
NAIVE_REPEATS = int(os.environ.get("BENCH_NAIVE_REPEATS", "1"))
# The groupings also computed the naive way (comma-separated; default all). At 10M calls one
# naive run takes minutes: BENCH_NAIVE_GROUPINGS=campaign keeps the goal's comparison only.
NAIVE_GROUPINGS = os.environ.get("BENCH_NAIVE_GROUPINGS", ",".join(groups.GROUP_BYS)).split(",")
CAMPAIGNS, KEYWORDS, DAYS = 30, 10, 90
CHANNELS = ["paid_search", "paid_social", "display", "email", "organic", "referral", "offline"]
GOAL_P95_MS, GOAL_SPEEDUP = 50.0, 20.0


def make_account():
    account = services.create_account(
        name=f"bench reports {time.time_ns()}", time_zone="America/New_York"
    )
    campaigns, keywords = [], []
    for i in range(CAMPAIGNS):
        campaign = services.create_campaign(
            account=account, name=f"Campaign {i:02d}", channel=CHANNELS[i % len(CHANNELS)]
        )
        campaigns.append(campaign.pk)
        for k in range(KEYWORDS):
            keywords.append(
                Keyword.objects.create(account=account, campaign=campaign, text=f"kw {k}").pk
            )
    return account, campaigns, keywords


# Per call: a campaign skewed towards the first ones (random()², 10% Unattributed), a keyword
# of it 70% of the time, a start over the last 90 days (busier in the afternoon), a caller.
CALLS_SQL = """
INSERT INTO calls_call (account_id, provider, external_id, tracking_e164, caller_e164,
    caller_raw, started_at, duration_seconds, talk_seconds, status, recording_url, agent,
    transferred, spam, spam_reason, campaign_id, keyword_id, confidence, created_at, updated_at)
SELECT %(account)s, 'bench', 'r' || i, '+12125550100',
       CASE WHEN random() < 0.08 THEN '' ELSE
            '+1415' || lpad(floor(random() * %(callers)s)::int::text, 7, '0') END,
       '', %(end)s - random() * interval '90 days' + (random() - 0.5) * interval '4 hours',
       120, CASE WHEN s < 0.7 THEN 90 END,
       CASE WHEN s < 0.7 THEN 'answered' WHEN s < 0.85 THEN 'missed'
            WHEN s < 0.95 THEN 'abandoned' ELSE 'voicemail' END,
       '', 'agent ' || (i %% 12), s < 0.05, random() < 0.01, '', campaign,
       CASE WHEN campaign IS NOT NULL AND random() < 0.7
            THEN (%(keywords)s::bigint[])[(c * %(per)s) + 1 + floor(random() * %(per)s)::int]
       END,
       'exact', now(), now()
FROM (SELECT i, random() AS s,
             CASE WHEN random() < 0.1 THEN NULL ELSE floor(%(campaigns_n)s * random() ^ 2)::int END
             AS c
      FROM generate_series(1, %(calls)s) i) g,
     LATERAL (SELECT (%(campaigns)s::bigint[])[c + 1] AS campaign) pick"""

# Journeys of n touches, the call's own campaign last; shares with 15 places adding up to 1
# (the last touch takes the remainder), time decay and data-driven as weighted shares.
TOUCHPOINTS_SQL = """
INSERT INTO attribution_touchpoint (account_id, call_id, position, session_id, campaign_id,
    keyword_id, touched_at, last_touch, first_touch, linear, time_decay, position_based,
    data_driven)
WITH j AS (
    SELECT c.id, c.started_at, c.campaign_id, c.keyword_id,
           (ARRAY[1,1,1,1,1,1,1,1,1,1,2,2,2,2,2,2,3,3,3,4])[1 + floor(random() * 20)::int] AS n
    FROM calls_call c WHERE c.account_id = %(account)s
),
t AS (
    SELECT j.*, p, p = n - 1 AS last,
           CASE WHEN p = n - 1 THEN j.campaign_id
                ELSE (%(campaigns)s::bigint[])[1 + floor(random() * %(campaigns_n)s)::int] END
           AS touch_campaign,
           CASE WHEN p = n - 1 THEN j.keyword_id END AS touch_keyword,
           trunc(1.0 / n, 15) AS lin,
           CASE WHEN n = 1 THEN 1 WHEN n = 2 THEN 0.5
                WHEN p = 0 OR p = n - 1 THEN 0.4 ELSE trunc(0.2 / (n - 2), 15) END AS pos,
           trunc(power(2, p)::numeric / (power(2, n)::numeric - 1), 15) AS decay
    FROM j, generate_series(0, j.n - 1) p
)
SELECT %(account)s, id, p, NULL, touch_campaign, touch_keyword,
       started_at - (n - 1 - p) * interval '2 days',
       CASE WHEN last THEN 1 ELSE 0 END, CASE WHEN p = 0 THEN 1 ELSE 0 END,
       CASE WHEN last THEN 1 - lin * (n - 1) ELSE lin END,
       CASE WHEN last THEN 1 - sum(decay) OVER w + decay ELSE decay END,
       CASE WHEN last THEN 1 - sum(pos) OVER w + pos ELSE pos END,
       CASE WHEN last THEN 1 - lin * (n - 1) ELSE lin END
FROM t WINDOW w AS (PARTITION BY id)"""

OUTCOMES_SQL = """
INSERT INTO attribution_outcome (account_id, crm, external_id, call_id, call_external_id,
    caller_e164, caller_raw, email, stage, value, currency, occurred_at, match_method,
    created_at, updated_at)
SELECT %(account)s, 'bench', 'o' || id, id, '', '', '', '', stage,
       CASE WHEN stage = 'won' THEN round((50 + random() * 4950)::numeric, 2) END,
       'USD', started_at + interval '1 day', 'call', now(), now()
FROM (SELECT id, started_at,
             (ARRAY['lead', 'qualified', 'qualified', 'won', 'won', 'lost'])
             [1 + floor(random() * 6)::int] AS stage
      FROM calls_call WHERE account_id = %(account)s AND random() < 0.2) o"""

COSTS_SQL = """
INSERT INTO campaigns_dailycost (account_id, campaign_id, keyword_id, date, amount, currency,
    clicks, impressions, updated_at)
SELECT %(account)s, k.campaign_id, k.id, d::date, round((random() * 200)::numeric, 2), 'USD',
       10, 1000, now()
FROM campaigns_keyword k, generate_series(%(first)s::date, %(last)s::date, '1 day') d
WHERE k.account_id = %(account)s
UNION ALL
SELECT %(account)s, c.id, NULL, d::date, round((random() * 500)::numeric, 2), 'USD', 50, 5000,
       now()
FROM campaigns_campaign c, generate_series(%(first)s::date, %(last)s::date, '1 day') d
WHERE c.account_id = %(account)s"""


def generate(account, campaigns, keywords, end: dt.datetime) -> dict[str, int]:
    params = {
        "account": account.pk,
        "calls": CALLS,
        "callers": max(CALLS // 3, 1),
        "campaigns": campaigns,
        "campaigns_n": len(campaigns),
        "keywords": keywords,
        "per": KEYWORDS,
        "end": end,
        "first": (end - dt.timedelta(days=DAYS)).date(),
        "last": end.date(),
    }
    counts = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.2026)")
        for name, sql in [
            ("calls", CALLS_SQL),
            ("touchpoints", TOUCHPOINTS_SQL),
            ("outcomes", OUTCOMES_SQL),
            ("costs", COSTS_SQL),
        ]:
            with transaction.atomic():
                cursor.execute(sql, params)
                counts[name] = cursor.rowcount
        for table in ("calls_call", "attribution_touchpoint", "attribution_outcome"):
            cursor.execute(f"ANALYZE {table}")
    return counts


def timed(fn, repeats: int) -> tuple[list[float], object]:
    samples, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples, result


def p95(samples: list[float]) -> float:
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def refresh_one_day(account, end: dt.datetime) -> float:
    """Time the sweeper's refresh after 100 calls more on yesterday."""
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO calls_call (account_id, provider, external_id, tracking_e164,
                caller_e164, caller_raw, started_at, duration_seconds, status, recording_url,
                agent, transferred, spam, spam_reason, confidence, created_at, updated_at)
            SELECT %s, 'bench', 'x' || i, '+12125550100', '+14155550000', '',
                   %s - interval '1 day' + i * interval '1 minute', 60, 'answered', '', '',
                   false, false, '', 'none', now(), now()
            FROM generate_series(1, 100) i""",
            [account.pk, end],
        )
    start = time.perf_counter()
    rollups.refresh_account(account_id=account.pk)
    return time.perf_counter() - start


def main() -> None:
    end = dt.datetime.now(dt.UTC).replace(microsecond=0)
    account, campaigns, keywords = make_account()
    seconds, counts = timed(lambda: generate(account, campaigns, keywords, end), 1)
    print(f"\nROI reports, {CALLS:,} calls over {DAYS} days, {CAMPAIGNS} campaigns × {KEYWORDS}")
    print(
        "  generated in {:.0f} s: {}".format(
            seconds[0] / 1000, ", ".join(f"{n:,} {name}" for name, n in counts.items())
        )
    )
    built, days = timed(lambda: rollups.rebuild_account(account=account), 1)
    print(f"  rollups built from scratch in {built[0] / 1000:.1f} s ({days} days)")
    print(f"  one changed day rolled up again in {refresh_one_day(account, end):.2f} s")
    with connection.cursor() as cursor:
        for table in ("rollupcampaignday", "rollupkeywordday", "rollupcallerday", "rollupreach"):
            cursor.execute(
                f"SELECT count(*) FROM attribution_{table} WHERE account_id = %s", [account.pk]
            )
            print(f"    attribution_{table}: {cursor.fetchone()[0]:,} rows")

    last = end.astimezone(_tz(account)).date()
    failures, campaign_p95, campaign_speedup, compared = [], [], [], []
    print(
        f"\n  {'range':>5} {'group_by':9} {'model':15} {'rollup p50':>10} {'p95':>8}"
        f" {'naive p50':>10} {'speedup':>8}  equal"
    )
    for span in (30, 90):
        start = last - dt.timedelta(days=span - 1)
        for group_by in groups.GROUP_BYS:
            for model in groups.MODELS:
                args = {"start": start, "end": last, "group_by": group_by, "model": model}
                fast, _ = timed(lambda a=args: selectors.roi(account=account, **a), REPEATS)
                line = (
                    f"  {span:>4}d {group_by:9} {model:15} {statistics.median(fast):8.2f}ms"
                    f" {p95(fast):6.2f}ms"
                )
                if span == 90 and group_by == "campaign":
                    campaign_p95.append(p95(fast))
                if group_by not in NAIVE_GROUPINGS:
                    print(f"{line} {'(not run)':>10}")
                    continue
                slow, raw = timed(lambda a=args: naive_grouped(account, a), NAIVE_REPEATS)
                equal = reading.grouped(account_id=account.pk, **args) == raw
                if not equal:
                    failures.append((span, group_by, model))
                speedup = statistics.median(slow) / statistics.median(fast)
                compared.append(equal)
                if span == 90 and group_by == "campaign":
                    campaign_speedup.append(speedup)
                print(
                    f"{line} {statistics.median(slow):8.0f}ms {speedup:7.0f}x"
                    f"  {'yes' if equal else 'NO'}"
                )
    worst = max(campaign_p95)
    print(
        f"\n  goal: 90-day ROI by campaign ≤ {GOAL_P95_MS:.0f} ms p95 under every model: "
        f"worst p95 {worst:.2f} ms — {'met' if worst <= GOAL_P95_MS else 'MISSED'}"
    )
    if campaign_speedup:
        least = min(campaign_speedup)
        print(
            f"  goal: ≥ {GOAL_SPEEDUP:.0f}× the naive aggregate (90 days by campaign): least "
            f"speedup {least:.0f}× — {'met' if least >= GOAL_SPEEDUP else 'MISSED'}"
        )
    print(f"  rollups equal to the naive aggregate: {failures or f'all {len(compared)} compared'}")
    if failures:
        sys.exit(1)


def naive_grouped(account, args: dict):
    return naive.grouped(account_id=account.pk, time_zone=account.time_zone, **args)


def _tz(account):
    from zoneinfo import ZoneInfo

    return ZoneInfo(account.time_zone)


if __name__ == "__main__":
    call_command("migrate", verbosity=0)
    main()
