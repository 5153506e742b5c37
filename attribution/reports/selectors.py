"""Reads of the reports: the interface the API and the admin dashboard call. Read-only; every
function takes the account and returns the dataclasses of `results`.

Contract (PRODUCT.md, "Report figures", is the definition):
- Days are the account's time zone; `start` and `end` are included; spam calls never count.
- Sums are exact `Decimal`s and ratios exact `Fraction`s (None on a zero divisor) in
  `figures.Figures`; `.shown()` on any result rounds once (money 2 places half-up, credited
  counts and rates 4) into JSON-ready dicts.
- Rows: one per group with credit under the model or a cost record in the range, so a campaign
  with spend and no calls has one; calls of no campaign form one row with campaign None and
  campaign_name "Unattributed" (channel None by channel). Totals add the rows exactly, but
  `unique_callers` is distinct over the whole range and the ratios come from the totals.
- Reports read the rollups. They are as fresh as `meta.data_freshness`; call
  `rollups.catch_up(account=, start=, end=)` first to roll a few logged days up synchronously,
  as the API does.
- Bad parameters raise `groups.BadRange` (end before start, over 2 years) or ValueError
  (unknown grouping or model): check them first (the API's serializers do) to answer 400.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

from attribution.reports import figures, groups, kpis, reading, results
from campaigns.models import Campaign, Channel, Keyword

_CHANNEL_NAMES = dict(Channel.choices)


def roi(
    *,
    account,
    start: dt.date,
    end: dt.date,
    group_by: str = "campaign",
    model: str = groups.DEFAULT_MODEL,
) -> results.RoiReport:
    """ROI by campaign, keyword, channel, day, week or month under one attribution model.
    Rows are ordered by campaign name (then keyword text), channel, or period; Unattributed
    last."""
    _check(start, end, group_by, groups.GROUP_BYS, model)
    grouped = reading.grouped(
        account_id=account.pk, start=start, end=end, group_by=group_by, model=model
    )
    labels = _Labels(account, grouped.rows, keywords=group_by == "keyword")
    rows = sorted(
        (results.RoiRow(labels.group(group_by, key), figs) for key, figs in grouped.rows.items()),
        key=lambda row: labels.order(group_by, row.group),
    )
    totals = figures.add((row.figures for row in rows), unique_callers=grouped.unique_callers)
    meta = _meta(account, start, end, model, group_by)
    return results.RoiReport(meta=meta, rows=rows, totals=totals)


def cost_per_call(
    *,
    account,
    start: dt.date,
    end: dt.date,
    group_by: str = "campaign",
    model: str = groups.DEFAULT_MODEL,
) -> results.CostPerCallReport:
    """The finance export: one row per campaign (`period` = "start/end"), or per day or month
    and campaign, ordered by period then campaign name (Unattributed last); totals add them."""
    _check(start, end, group_by, groups.COST_PER_CALL_GROUP_BYS, model)
    grouping = {"campaign": "campaign", "day": "campaign_day", "month": "campaign_month"}
    grouped = reading.grouped(
        account_id=account.pk, start=start, end=end, group_by=grouping[group_by], model=model
    )
    labels = _Labels(account, grouped.rows)
    rows = []
    for key, figs in grouped.rows.items():
        period = f"{start}/{end}" if group_by == "campaign" else key[0].isoformat()
        campaign = labels.group("campaign", key[-1:])
        rows.append(
            results.CostPerCallRow(
                period=period,
                campaign=campaign["campaign"],
                campaign_name=campaign["campaign_name"],
                channel=labels.channel(key[-1]),
                figures=figs,
            )
        )
    rows.sort(key=lambda row: (row.period, *labels.order("campaign", {"campaign": row.campaign})))
    totals = figures.add((row.figures for row in rows), unique_callers=0)
    meta = _meta(account, start, end, model, group_by)
    return results.CostPerCallReport(meta=meta, rows=rows, totals=totals)


def call_kpis(
    *, account, start: dt.date, end: dt.date, group_by: str = "campaign"
) -> results.CallKpis:
    """Call KPIs by the call's own campaign, channel, day, week or month (see results.CallCounts
    for each count), with conversion by agent and the weekday × hour heat map of the range."""
    _check(start, end, group_by, groups.KPI_GROUP_BYS, groups.DEFAULT_MODEL)
    by_key, totals, agents, heat_map = kpis.call_counts(
        account_id=account.pk,
        time_zone=account.time_zone,
        start=start,
        end=end,
        group_by=group_by,
    )
    keyed = {(key,): counts for key, counts in by_key.items()}
    labels = _Labels(account, keyed)
    rows = sorted(
        (results.KpiRow(labels.group(group_by, key), counts) for key, counts in keyed.items()),
        key=lambda row: labels.order(group_by, row.group),
    )
    meta = _meta(account, start, end, "", group_by)
    return results.CallKpis(meta=meta, rows=rows, totals=totals, agents=agents, heat_map=heat_map)


def live_today(*, account) -> results.LiveToday:
    """Calls, answered calls, conversions and revenue so far today in the account's time
    zone, from the raw rows (always current)."""
    now = timezone.now()
    day = now.astimezone(ZoneInfo(account.time_zone)).date()
    calls, answered, conversions, revenue = kpis.today(
        account_id=account.pk, time_zone=account.time_zone, day=day
    )
    return results.LiveToday(
        day=day,
        calls=calls,
        answered=answered,
        conversions=conversions,
        revenue=revenue,
        as_of=now,
    )


def data_freshness(
    *, account, start: dt.date | None = None, end: dt.date | None = None
) -> dt.datetime:
    """The instant before which every committed change is in the rollups (of the days in
    [start, end] when given): the oldest change still waiting, else now."""
    sql = "SELECT min(logged_at) FROM attribution_rollupdirtyday WHERE account_id = %s"
    params: list = [account.pk]
    if start is not None and end is not None:
        sql += " AND (day IS NULL OR day BETWEEN %s AND %s)"
        params += [start, end]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (oldest,) = cursor.fetchone()
    return oldest or timezone.now()


def _check(start, end, group_by: str, allowed: tuple[str, ...], model: str) -> None:
    groups.check_range(start, end)
    if group_by not in allowed:
        raise ValueError(f"group_by must be one of {', '.join(allowed)}.")
    if model not in groups.MODELS:
        raise ValueError(f"model must be one of {', '.join(groups.MODELS)}.")


def _meta(account, start, end, model: str, group_by: str) -> results.Meta:
    return results.Meta(
        account_id=account.pk,
        account_name=account.name,
        currency=account.currency,
        time_zone=account.time_zone,
        start=start,
        end=end,
        model=model,
        group_by=group_by,
        data_freshness=data_freshness(account=account, start=start, end=end),
    )


class _Labels:
    """Names of the campaigns and keywords a report's keys mention: two queries at most."""

    def __init__(self, account, rows: dict, *, keywords: bool = False):
        ids = {key[-1] for key in rows} | {key[0] for key in rows}
        campaign_ids = [i for i in ids if isinstance(i, int)]
        self.campaigns = {
            pk: (name, channel)
            for pk, name, channel in Campaign.objects.filter(
                account=account, pk__in=campaign_ids
            ).values_list("pk", "name", "channel")
        }
        self.keywords = {}
        if keywords:
            keyword_ids = [key[1] for key in rows if key[1] is not None]
            self.keywords = dict(
                Keyword.objects.filter(account=account, pk__in=keyword_ids).values_list(
                    "pk", "text"
                )
            )

    def campaign_name(self, campaign_id: int | None) -> str:
        if campaign_id is None:
            return groups.UNATTRIBUTED
        return self.campaigns.get(campaign_id, (f"Campaign {campaign_id}", None))[0]

    def channel(self, campaign_id: int | None) -> str | None:
        return self.campaigns.get(campaign_id, (None, None))[1]

    def group(self, group_by: str, key: tuple) -> dict:
        if group_by == "campaign":
            return {"campaign": key[0], "campaign_name": self.campaign_name(key[0])}
        if group_by == "keyword":
            campaign, keyword = key
            return {
                "keyword": keyword,
                "keyword_text": self.keywords.get(keyword),
                "campaign": campaign,
                "campaign_name": self.campaign_name(campaign),
            }
        if group_by == "channel":
            name = _CHANNEL_NAMES.get(key[0], groups.UNATTRIBUTED)
            return {"channel": key[0], "channel_name": name}
        return {"period": key[0]}

    def order(self, group_by: str, group: dict) -> tuple:
        if group_by in groups.PERIODS:
            return (group["period"],)
        if group_by == "channel":
            return (group["channel"] is None, group["channel"] or "")
        campaign = group["campaign"]
        by_campaign = (campaign is None, self.campaign_name(campaign).casefold(), campaign or 0)
        if group_by == "keyword":
            return (*by_campaign, group["keyword"] is not None, group["keyword_text"] or "")
        return by_campaign
