"""The demo's calendar and randomness: when things happen, and ids shaped like the real ones.

Pure: no ORM. Every draw comes from the `random.Random` the loader seeds, so one seed gives one
data set (for a given "today")."""

import math
import random
import string
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from itertools import accumulate
from zoneinfo import ZoneInfo

# Monday..Sunday. A home-services business is busiest early in the week and quiet on Sunday.
WEEKDAY_WEIGHTS = (1.15, 1.12, 1.08, 1.04, 0.96, 0.72, 0.55)
# Local hours 0..23: quiet nights, a morning peak, a smaller evening one.
HOUR_WEIGHTS = (
    *(0.4, 0.25, 0.2, 0.2, 0.25, 0.5, 1.2, 2.6),
    *(4.2, 5.0, 5.0, 4.6, 4.2, 4.3, 4.3, 4.1),
    *(4.0, 4.2, 4.6, 4.4, 3.6, 2.6, 1.6, 0.8),
)
URLSAFE = string.ascii_letters + string.digits + "-_"
# NANP sets 555-0100..0199 aside for fiction in every area code, so no demo number can ring a
# real person; `phonenumbers` still accepts them as valid.
FICTIONAL_LINES = range(100, 200)


@dataclass(frozen=True)
class Timeline:
    """`days` whole days in the account's time zone, the last one being yesterday."""

    tz: ZoneInfo
    first_day: date
    days: int
    now: datetime

    @classmethod
    def ending_yesterday(cls, *, time_zone: str, days: int, now: datetime) -> "Timeline":
        tz = ZoneInfo(time_zone)
        today = now.astimezone(tz).date()
        return cls(tz=tz, first_day=today - timedelta(days=days), days=days, now=now)

    @cached_property
    def dates(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(self.days)]

    @cached_property
    def end(self) -> datetime:
        """Midnight at the start of today, local time, as UTC: nothing is generated after it."""
        midnight = datetime.combine(self.first_day + timedelta(days=self.days), time(), self.tz)
        return midnight.astimezone(UTC)

    @cached_property
    def _day_cum_weights(self) -> list[float]:
        # Weekly seasonality on a gentle upward trend, as a growing advertiser's would be.
        return list(
            accumulate(
                WEEKDAY_WEIGHTS[d.weekday()] * (1 + 0.15 * i / self.days)
                for i, d in enumerate(self.dates)
            )
        )

    def weekday_factor(self, day: date) -> float:
        return WEEKDAY_WEIGHTS[day.weekday()]

    def pick_day(self, rng: random.Random) -> int:
        return rng.choices(range(self.days), cum_weights=self._day_cum_weights)[0]

    def moment(
        self, rng: random.Random, day_index: int, hours: tuple[float, ...] = HOUR_WEIGHTS
    ) -> datetime:
        """A UTC instant on that local day, its hour drawn from `hours`."""
        hour = rng.choices(range(24), weights=hours)[0]
        local = datetime.combine(self.dates[day_index], time(hour), self.tz)
        return (local + timedelta(seconds=rng.randrange(3600))).astimezone(UTC)

    def local_hour(self, moment: datetime) -> int:
        return moment.astimezone(self.tz).hour


def hex_token(rng: random.Random, length: int) -> str:
    return f"{rng.getrandbits(4 * length):0{length}x}"


def url_token(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(URLSAFE, k=length))


def lognormal(rng: random.Random, *, median: float, sigma: float, low: float, high: float) -> float:
    return min(high, max(low, rng.lognormvariate(math.log(median), sigma)))


def weighted_sample(rng: random.Random, items: list, weights: list[float], k: int) -> list:
    """k distinct items, each drawn with probability proportional to its weight
    (Efraimidis–Spirakis: keep the k largest u^(1/w))."""
    keyed = sorted(
        ((rng.random() ** (1.0 / w), i) for i, w in enumerate(weights) if w > 0), reverse=True
    )
    return [items[i] for _, i in keyed[:k]]


def fictional_numbers(area_codes: tuple[str, ...], *, taken: set[str]) -> list[str]:
    """Every fictional US number in these area codes not already in `taken`, in order."""
    numbers = (f"+1{code}555{line:04d}" for code in area_codes for line in FICTIONAL_LINES)
    return [number for number in numbers if number not in taken]
