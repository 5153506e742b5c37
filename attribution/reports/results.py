"""What the report selectors return: plain frozen dataclasses, exact values inside, and a
`shown()` that rounds once for display (figures.PLACES) and gives JSON-ready dicts."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from attribution.reports import figures


@dataclass(frozen=True)
class Meta:
    """What a report covers: stamped on every answer and export."""

    account_id: int
    account_name: str
    currency: str
    time_zone: str
    start: dt.date
    end: dt.date
    model: str
    group_by: str
    # Every change committed before this instant is in the figures (figures.py docstring).
    data_freshness: dt.datetime

    def shown(self) -> dict[str, Any]:
        return {
            "account": self.account_id,
            "account_name": self.account_name,
            "currency": self.currency,
            "time_zone": self.time_zone,
            "start": self.start,
            "end": self.end,
            "model": self.model,
            "group_by": self.group_by,
            "data_freshness": self.data_freshness,
        }


@dataclass(frozen=True)
class RoiRow:
    """One group. `group` holds its key fields as PRODUCT.md names them: `campaign`,
    `campaign_name`; `keyword`, `keyword_text`, `campaign`, `campaign_name`; `channel`,
    `channel_name`; or `period` (a date)."""

    group: dict[str, Any]
    figures: figures.Figures

    def shown(self) -> dict[str, Any]:
        return {**self.group, **self.figures.shown()}


@dataclass(frozen=True)
class RoiReport:
    meta: Meta
    rows: list[RoiRow]
    totals: figures.Figures

    @property
    def currency(self) -> str:
        return self.meta.currency

    @property
    def model(self) -> str:
        return self.meta.model

    def shown(self) -> dict[str, Any]:
        return {
            **self.meta.shown(),
            "rows": [row.shown() for row in self.rows],
            "totals": self.totals.shown(),
        }


# The finance export's columns, in the order of PRODUCT.md's CSV header.
COST_PER_CALL_COLUMNS = (
    "period",
    "campaign",
    "channel",
    "cost",
    "calls",
    "answered_calls",
    "cost_per_call",
    "cost_per_answered_call",
    "conversions",
    "revenue",
    "cpa",
    "roi",
)


@dataclass(frozen=True)
class CostPerCallRow:
    """`period` is `start/end` (by campaign) or the ISO date of the day or month's first day;
    `campaign` None with `campaign_name` "Unattributed" for calls of no campaign."""

    period: str
    campaign: int | None
    campaign_name: str
    channel: str | None
    figures: figures.Figures

    def shown(self) -> dict[str, Any]:
        shown = self.figures.shown()
        return {
            "period": self.period,
            "campaign": self.campaign,
            "campaign_name": self.campaign_name,
            "channel": self.channel,
            **{name: shown[name] for name in COST_PER_CALL_COLUMNS[3:]},
        }


@dataclass(frozen=True)
class CostPerCallReport:
    meta: Meta
    rows: list[CostPerCallRow]
    totals: figures.Figures

    def shown(self) -> dict[str, Any]:
        totals = self.totals.shown()
        return {
            **self.meta.shown(),
            "rows": [row.shown() for row in self.rows],
            "totals": {name: totals[name] for name in COST_PER_CALL_COLUMNS[3:]},
        }


def _rate(numerator: int, divisor: int, places: int = figures.RATE_PLACES) -> Decimal | None:
    return figures.show(figures.ratio(Decimal(numerator), Decimal(divisor)), places)


@dataclass(frozen=True)
class CallCounts:
    """Counts of one group's calls, by the call itself (no attribution model): spam calls are
    counted only in `spam_calls` and `all_calls`; every other count is of non-spam calls."""

    all_calls: int = 0
    spam_calls: int = 0
    calls: int = 0
    answered: int = 0
    abandoned: int = 0
    transferred: int = 0
    talk_seconds: int = 0  # Σ talk time of the answered calls whose talk time is known
    timed_answered: int = 0  # how many those are
    with_number: int = 0  # calls with a caller number
    repeat_calls: int = 0  # … from a number that called the account before (non-spam)
    first_time_callers: int = 0  # … that are their number's first call to the account
    conversions: int = 0  # won outcomes of the calls

    @property
    def average_handle_seconds(self) -> Fraction | None:
        return figures.ratio(Decimal(self.talk_seconds), Decimal(self.timed_answered))

    def shown(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "answered": self.answered,
            "answer_rate": _rate(self.answered, self.calls),
            "abandoned": self.abandoned,
            "abandonment_rate": _rate(self.abandoned, self.calls),
            "average_handle_seconds": figures.show(self.average_handle_seconds, 1),
            "transferred": self.transferred,
            "transfer_rate": _rate(self.transferred, self.answered),
            "repeat_calls": self.repeat_calls,
            "repeat_caller_rate": _rate(self.repeat_calls, self.with_number),
            "first_time_callers": self.first_time_callers,
            "spam_calls": self.spam_calls,
            "spam_share": _rate(self.spam_calls, self.all_calls),
            "conversions": self.conversions,
            "conversion_rate": _rate(self.conversions, self.calls),
        }


@dataclass(frozen=True)
class KpiRow:
    group: dict[str, Any]  # as RoiRow.group, for campaign, channel, day, week or month
    counts: CallCounts

    def shown(self) -> dict[str, Any]:
        return {**self.group, **self.counts.shown()}


@dataclass(frozen=True)
class AgentRow:
    agent: str | None  # None: calls no agent was named for
    calls: int
    conversions: int

    def shown(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "calls": self.calls,
            "conversions": self.conversions,
            "conversion_rate": _rate(self.conversions, self.calls),
        }


@dataclass(frozen=True)
class HeatCell:
    weekday: int  # 0 Monday … 6 Sunday, in the account's time zone
    hour: int  # 0 … 23, in the account's time zone
    calls: int
    conversions: int

    def shown(self) -> dict[str, Any]:
        return {
            "weekday": self.weekday,
            "hour": self.hour,
            "calls": self.calls,
            "conversions": self.conversions,
            "conversion_rate": _rate(self.conversions, self.calls),
        }


@dataclass(frozen=True)
class CallKpis:
    meta: Meta  # model is "" (KPIs count calls, not credit)
    rows: list[KpiRow]
    totals: CallCounts
    agents: list[AgentRow] = field(default_factory=list)
    heat_map: list[HeatCell] = field(default_factory=list)  # all 168 cells, Monday 0:00 first

    def shown(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in self.meta.shown().items() if k != "model"},
            "rows": [row.shown() for row in self.rows],
            "totals": self.totals.shown(),
            "agents": [agent.shown() for agent in self.agents],
            "heat_map": [cell.shown() for cell in self.heat_map],
        }


@dataclass(frozen=True)
class LiveToday:
    """So far today (the account's time zone): non-spam calls, answered ones, won outcomes of
    them and their value. Model-free: every call's credits add up to 1."""

    day: dt.date
    calls: int
    answered: int
    conversions: int
    revenue: Decimal
    as_of: dt.datetime

    def shown(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "calls": self.calls,
            "answered": self.answered,
            "conversions": self.conversions,
            "revenue": figures.show(self.revenue, figures.MONEY_PLACES),
            "as_of": self.as_of,
        }
