"""Report parameters and groups, pure: which groupings and models exist, what a valid range is,
which period a day falls in. No ORM, no I/O."""

import datetime as dt

# PRODUCT.md, `GET /api/v1/reports/roi/`. The order of MODELS is also the bit order of the
# rollups' per-model masks and the `model` code of attribution_reportreach (do not reorder).
MODELS = ("last_touch", "first_touch", "linear", "time_decay", "position_based", "data_driven")
DEFAULT_MODEL = "last_touch"
PERIODS = ("day", "week", "month")
GROUP_BYS = ("campaign", "keyword", "channel", *PERIODS)
COST_PER_CALL_GROUP_BYS = ("campaign", "day", "month")
KPI_GROUP_BYS = ("campaign", "channel", *PERIODS)

# Calls that belong to no campaign form one row of this name (PRODUCT.md).
UNATTRIBUTED = "Unattributed"
# "Ranges over 2 years" are refused: at most 731 days, start and end included.
MAX_RANGE_DAYS = 731


class BadRange(ValueError):
    """A range a report refuses; the message says why, for a person to act on."""


def check_range(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise BadRange(f"end ({end}) is before start ({start}).")
    days = (end - start).days + 1
    if days > MAX_RANGE_DAYS:
        raise BadRange(f"The range covers {days} days; a report covers at most 2 years.")


def period_start(day: dt.date, period: str) -> dt.date:
    """The first day of `day`'s period: itself, its ISO week's Monday, its month's first day."""
    if period == "day":
        return day
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown period {period!r}")


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
