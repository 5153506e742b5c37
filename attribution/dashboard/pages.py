"""What the dashboard's pages show, built from the report selectors' answers.

Every figure is a selector's (`attribution.reports.selectors`), shown as its `shown()` rounds
it; this module lays them out as table rows and charts and adds the links behind them.
"""

import datetime as dt
from dataclasses import dataclass

from django.urls import reverse

from attribution.dashboard import charts, selectors, tables
from attribution.reports import figures, groups, results, rollups
from attribution.reports import selectors as reports

# The calls listed under a campaign on its page (the changelist link has them all).
CALLS_LISTED = 50


@dataclass(frozen=True)
class Cell:
    text: str
    kind: str
    href: str = ""


@dataclass(frozen=True)
class Row:
    key: str  # the group's id ("unattributed" for none), for scripts and tests
    name: str
    href: str  # the drill-down ("" for none)
    cells: list[Cell]


@dataclass(frozen=True)
class Filters:
    account: object
    start: dt.date
    end: dt.date
    model: str
    sort: str

    @classmethod
    def of(cls, form) -> "Filters":
        data = form.cleaned_data
        return cls(data["account"], data["start"], data["end"], data["model"], data["o"])

    def report(self, group_by: str) -> results.RoiReport:
        return reports.roi(
            account=self.account,
            start=self.start,
            end=self.end,
            group_by=group_by,
            model=self.model,
        )

    def calls(self, **filters) -> str:
        return tables.calls_url(account=self.account, start=self.start, end=self.end, **filters)


def figure_cells(shown: dict, links: dict[str, str]) -> list[Cell]:
    return [
        Cell(tables.text(shown[name]), kind, links.get(name, ""))
        for name, _, kind in tables.COLUMNS
    ]


def call_links(filters: Filters, changelist: dict, drill: str) -> dict[str, str]:
    """Links of a row's numbers: calls and answered calls to the calls changelist, the rest of
    what the row's calls became (qualified, conversions, revenue) to the drill-down's calls."""
    links = {
        "calls": filters.calls(**changelist),
        "answered_calls": filters.calls(**changelist, status__exact="answered"),
    }
    if drill:
        links.update(dict.fromkeys(("qualified_calls", "conversions", "revenue"), f"{drill}#calls"))
    return links


def drill_url(campaign: int | None, query: str) -> str:
    if campaign is None:
        return f"{reverse('admin:attribution_roi_unattributed')}?{query}"
    return f"{reverse('admin:attribution_roi_campaign', args=[campaign])}?{query}"


def roi_page(form) -> dict:
    """The context of the ROI by campaign page."""
    filters = Filters.of(form)
    fresh = rollups.catch_up(account=filters.account, start=filters.start, end=filters.end)
    report = filters.report("campaign")
    rows = tables.sort_rows(report.rows, filters.sort, name=lambda row: row.group["campaign_name"])
    table = []
    for row in rows:
        campaign = row.group["campaign"]
        drill = drill_url(campaign, form.query(o=None))
        links = call_links(filters, tables.campaign_filter(campaign), drill)
        key = "unattributed" if campaign is None else str(campaign)
        table.append(Row(key, row.group["campaign_name"], drill, figure_cells(row.shown(), links)))
    return {
        "filters": filters,
        "report": report,
        "fresh": fresh,
        "headings": tables.headings(
            filters.sort, form.query, currency=report.currency, first="Campaign"
        ),
        "rows": table,
        "totals": figure_cells(report.totals.shown(), {"calls": filters.calls()}),
        "charts": charts_of(filters, report),
        "live": reports.live_today(account=filters.account).shown(),
    }


def period_of(start: dt.date, end: dt.date) -> str:
    """The spend-vs-revenue chart's step: days up to two months, weeks up to a year, months."""
    days = (end - start).days + 1
    return "day" if days <= 62 else "week" if days <= 366 else "month"


def charts_of(filters: Filters, report: results.RoiReport) -> dict:
    period = period_of(filters.start, filters.end)
    over_time = filters.report(period)
    by_channel = filters.report("channel")
    kpis = reports.call_kpis(account=filters.account, start=filters.start, end=filters.end)
    return {
        "period": period,
        "money": money_chart(filters, period, over_time),
        "roi": charts.bars(
            [
                (
                    row.group["campaign_name"],
                    row.figures.roi,
                    tables.text(row.shown()["roi"]),
                    drill_url(row.group["campaign"], ""),
                )
                for row in tables.sort_rows(
                    report.rows, "-roi", name=lambda row: row.group["campaign_name"]
                )
            ]
        ),
        "channels": charts.bars(
            [
                (
                    row.group["channel_name"],
                    row.figures.calls,
                    tables.text(row.shown()["calls"]),
                    "",
                )
                for row in by_channel.rows
            ]
        ),
        "heat": charts.heat_map([cell.shown() for cell in kpis.heat_map]),
    }


def money_chart(filters: Filters, period: str, report: results.RoiReport) -> charts.LineChart:
    """Cost and revenue per period of the range; a period without calls or spend is 0."""
    by_period = {row.group["period"]: row for row in report.rows}
    periods = sorted(
        {groups.period_start(day, period) for day in groups.days(filters.start, filters.end)}
    )
    zero = figures.Figures().shown()

    def points(name: str) -> list:
        out = []
        for first in periods:
            row = by_period.get(first)
            value = getattr(row.figures, name) if row else 0
            out.append((value, tables.text((row.shown() if row else zero)[name])))
        return out

    return charts.lines(
        [first.isoformat() for first in periods],
        [("Cost", "cost", points("cost")), ("Revenue", "revenue", points("revenue"))],
    )


def campaign_page(form, campaign) -> dict:
    """The context of one campaign's page (None: the Unattributed calls): its keywords, its
    total as the campaign report has it, and the newest calls it has credit from."""
    filters = Filters.of(form)
    fresh = rollups.catch_up(account=filters.account, start=filters.start, end=filters.end)
    campaign_id = campaign.pk if campaign else None
    total = next(
        (row for row in filters.report("campaign").rows if row.group["campaign"] == campaign_id),
        None,
    )
    by_keyword = filters.report("keyword") if campaign else None
    rows = []
    for row in by_keyword.rows if by_keyword else []:
        if row.group["campaign"] != campaign_id:
            continue
        keyword = row.group["keyword"]
        links = call_links(filters, tables.keyword_filter(campaign_id, keyword), "")
        name = row.group["keyword_text"] or "(no keyword)"
        key = "none" if keyword is None else str(keyword)
        rows.append(Row(key, name, "", figure_cells(row.shown(), links)))
    rows.sort(key=lambda row: row.name.casefold())
    return {
        "filters": filters,
        "campaign": campaign,
        "fresh": fresh,
        "currency": filters.account.currency,
        "headings": tables.headings("", None, currency=filters.account.currency, first="Keyword"),
        "rows": rows,
        "total": total
        and figure_cells(
            total.shown(), call_links(filters, tables.campaign_filter(campaign_id), "")
        ),
        "calls_url": filters.calls(**tables.campaign_filter(campaign_id)),
        "calls": selectors.credited_calls(
            account=filters.account,
            campaign_id=campaign_id,
            start=filters.start,
            end=filters.end,
            model=filters.model,
            limit=CALLS_LISTED,
        ),
        "back": f"{reverse('admin:attribution_roi')}?{form.query()}",
    }
