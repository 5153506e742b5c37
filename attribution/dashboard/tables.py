"""The ROI table: its columns, its order, and the links behind its numbers.

Figures come from the report selectors as they are shown (`Figures.shown()`: money 2 places,
credited counts and ratios 4, rounded once); this module only picks, orders and links them.
Rows are sorted on the exact values (a tie after rounding still orders as the numbers do),
nulls last in either direction.
"""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.urls import reverse

from attribution.reports import results

# (figure, heading, kind): kind picks the cell's class (money is right-aligned like counts,
# but headed with the currency).
COLUMNS = (
    ("calls", "Calls", "count"),
    ("answered_calls", "Answered", "count"),
    ("unique_callers", "Unique callers", "count"),
    ("qualified_calls", "Qualified", "count"),
    ("conversions", "Conversions", "count"),
    ("revenue", "Revenue", "money"),
    ("cost", "Cost", "money"),
    ("conversion_rate", "Conversion rate", "ratio"),
    ("cost_per_call", "Cost per call", "money"),
    ("cost_per_answered_call", "Cost per answered call", "money"),
    ("cpa", "CPA", "money"),
    ("roi", "ROI", "ratio"),
    ("roas", "ROAS", "ratio"),
)
FIGURES = tuple(name for name, _, _ in COLUMNS)
SORT_KEYS = ("name", "-name", *FIGURES, *(f"-{name}" for name in FIGURES))
DEFAULT_SORT = "-revenue"
NULL = "—"


def text(value) -> str:
    """A shown figure as a cell's text: plain decimals (as the API and the CSV), "—" for null."""
    return NULL if value is None else str(value)


def sort_rows(rows: list[results.RoiRow], sort: str, *, name) -> list[results.RoiRow]:
    """`rows` ordered by `sort` (a SORT_KEYS entry) on exact values, nulls last either way,
    then by `name(row)`."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key == "name":
        return sorted(rows, key=lambda row: name(row).casefold(), reverse=descending)
    present = [row for row in rows if getattr(row.figures, key) is not None]
    missing = [row for row in rows if getattr(row.figures, key) is None]
    present.sort(key=lambda row: name(row).casefold())
    present.sort(key=lambda row: getattr(row.figures, key), reverse=descending)
    missing.sort(key=lambda row: name(row).casefold())
    return present + missing


@dataclass(frozen=True)
class Heading:
    key: str
    title: str
    kind: str
    href: str  # the table sorted by this column (the other way when it is the current one)
    current: str  # "", "asc" or "desc"


def headings(sort: str, query, *, currency: str, first: str) -> list[Heading]:
    """The table's headings: the group column `first`, then every figure. `query(o=…)` builds
    the link keeping the other filters; None: the table is not sortable."""
    out = []
    for key, title, kind in (("name", first, "name"), *COLUMNS):
        current = "asc" if sort == key else "desc" if sort == f"-{key}" else ""
        # A first click sorts figures biggest first and names A to Z.
        flip = key if current == "desc" or (not current and kind == "name") else f"-{key}"
        shown_title = f"{title} ({currency})" if kind == "money" else title
        href = f"?{query(o=flip)}" if query else ""
        out.append(Heading(key, shown_title, kind, href, current))
    return out


def local_bounds(start: dt.date, end: dt.date, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
    """The instants a range of local days covers: [start 00:00, the day after end 00:00)."""
    tz = ZoneInfo(time_zone)
    first = dt.datetime.combine(start, dt.time(), tzinfo=tz)
    after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return first, after


def calls_url(*, account, start: dt.date, end: dt.date, **filters) -> str:
    """The calls changelist filtered to the account's non-spam calls started in the range (its
    local days), narrowed by `filters` (changelist parameters, see `campaign_filter`)."""
    first, after = local_bounds(start, end, account.time_zone)
    params = {
        "account__id__exact": account.pk,
        "spam__exact": "0",
        "started_at__gte": first.isoformat(),
        "started_at__lt": after.isoformat(),
        **filters,
    }
    return f"{reverse('admin:calls_call_changelist')}?{urlencode(params)}"


def campaign_filter(campaign: int | None) -> dict:
    """Changelist parameters for the calls whose own (last-touch) campaign is `campaign`
    (None: no campaign, the Unattributed row)."""
    if campaign is None:
        return {"campaign__isnull": "True"}
    return {"campaign__id__exact": campaign}


def keyword_filter(campaign: int | None, keyword: int | None) -> dict:
    """… and whose keyword is `keyword` (None: the campaign's calls without one)."""
    if keyword is None:
        return {**campaign_filter(campaign), "keyword__isnull": "True"}
    return {**campaign_filter(campaign), "keyword__id__exact": keyword}
