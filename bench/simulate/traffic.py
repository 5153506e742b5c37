"""The simulated traffic, planned in advance from a seed: visits, their requests, and calls with
the visit each caller really came from. Pure: no ORM, no clock but the plan's own.

Planning everything first (instead of deciding as the replay goes) makes the ground truth
independent of the allocation policy under test: every pool size and idle timeout sees the very
same visitors and callers, so two configurations differ only by what the allocator did.
"""

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from attribution.dni import erlang
from bench.simulate.market import Market

ON_PAGE, AFTER_LEAVING, EARLIER_NUMBER = "on page", "after leaving", "earlier visit's number"


@dataclass(frozen=True)
class PlannedVisit:
    id: int
    visitor: int
    source: int  # index into market.sources
    bot: bool
    requests: tuple[datetime, ...]  # the page load, then one heartbeat a minute while visible
    leaves: datetime
    earlier: int | None = None  # a returning visitor's previous visit

    @property
    def start(self) -> datetime:
        return self.requests[0]


@dataclass(frozen=True)
class PlannedCall:
    id: int
    visit: int  # the ground truth: the visit that showed the dialled number
    at: datetime
    kind: str
    caller: int  # the visitor who calls


@dataclass(frozen=True)
class Plan:
    visits: list[PlannedVisit]
    calls: list[PlannedCall]
    end: datetime


def rate_per_minute(market: Market, at: datetime) -> float:
    """Arrivals (bots included) per minute at `at`: the hourly profile, interpolated linearly
    between the middles of the local hours so the rate has no steps."""
    local = at + timedelta(hours=market.local_offset_hours)
    hour = local.hour + local.minute / 60 - 0.5
    low = math.floor(hour)
    profile = market.hourly_profile
    weight = profile[low % 24] + (hour - low) * (profile[(low + 1) % 24] - profile[low % 24])
    arrivals_per_day = market.visitors_per_day / (1 - market.bot_share)
    return arrivals_per_day / 1440 * weight / (sum(profile) / 24)


def arrivals(market: Market, rng: random.Random) -> list[datetime]:
    """A non-homogeneous Poisson process over the run, by thinning (Lewis and Shedler, 1979):
    candidates at the peak rate, each kept with probability rate(t) / peak."""
    peak = max(rate_per_minute(market, market.start + timedelta(minutes=m)) for m in range(1440))
    end = market.start + timedelta(days=market.days)
    at, times = market.start, []
    while True:
        at += timedelta(minutes=rng.expovariate(peak))
        if at >= end:
            return times
        if rng.random() * peak < rate_per_minute(market, at):
            times.append(at)


def dwell_minutes(market: Market, rng: random.Random) -> float:
    """Time on the site with the tab visible: log-normal, capped (a tab left open all day
    stops heartbeats when hidden, so it counts as a visit that ended)."""
    return min(
        rng.lognormvariate(math.log(market.dwell_median), market.dwell_sigma), market.dwell_max
    )


def requests_of(market: Market, start: datetime, minutes: float) -> tuple[datetime, ...]:
    """The page load, then a heartbeat every `heartbeat_seconds` while the visitor stays."""
    beats = int(minutes * 60 // market.heartbeat_seconds)
    return tuple(start + timedelta(seconds=k * market.heartbeat_seconds) for k in range(beats + 1))


def _visit(market, rng, vid, visitor, start, earlier=None) -> PlannedVisit:
    source = rng.choices(range(len(market.sources)), [s.weight for s in market.sources])[0]
    minutes = dwell_minutes(market, rng)
    leaves = start + timedelta(minutes=minutes)
    return PlannedVisit(
        vid, visitor, source, False, requests_of(market, start, minutes), leaves, earlier
    )


def plan_visits(market: Market, seed: int) -> list[PlannedVisit]:
    """Every visit of the run, in order of arrival: new visitors, their returns, and bots."""
    rng = random.Random(f"{seed}/visits")
    end = market.start + timedelta(days=market.days)
    visits: list[PlannedVisit] = []
    returns: list[PlannedVisit] = []
    for visitor, at in enumerate(arrivals(market, random.Random(f"{seed}/arrivals"))):
        if rng.random() < market.bot_share:
            source = rng.randrange(len(market.sources))
            visits.append(PlannedVisit(len(visits), visitor, source, True, (at,), at))
            continue
        first = _visit(market, rng, len(visits), visitor, at)
        visits.append(first)
        if rng.random() < market.return_share:
            back = first.leaves + timedelta(hours=rng.expovariate(1 / market.return_mean_hours))
            if back < end:
                returns.append(_visit(market, rng, -1, visitor, back, earlier=first.id))
    merged = sorted(visits + returns, key=lambda v: (v.start, v.id < 0))
    # Renumber in arrival order, keeping each return's link to its first visit.
    new_id = {id(v): n for n, v in enumerate(merged)}
    old_to_new = {v.id: new_id[id(v)] for v in visits}
    return [
        PlannedVisit(
            new_id[id(v)],
            v.visitor,
            v.source,
            v.bot,
            v.requests,
            v.leaves,
            None if v.earlier is None else old_to_new[v.earlier],
        )
        for v in merged
    ]


def plan_calls(market: Market, visits: list[PlannedVisit], seed: int) -> list[PlannedCall]:
    """Who calls, when, and which visit's number they dial (the ground truth)."""
    rng = random.Random(f"{seed}/calls")
    end = market.start + timedelta(days=market.days)
    calls = []
    for visit in visits:
        if visit.bot or rng.random() >= market.call_share:
            continue
        on_page = visit.start + (visit.leaves - visit.start) * rng.random()
        if visit.earlier is not None and rng.random() < market.earlier_number_share:
            truth, at, kind = visit.earlier, on_page, EARLIER_NUMBER
        elif rng.random() < market.on_page_share:
            truth, at, kind = visit.id, on_page, ON_PAGE
        else:
            delay = rng.lognormvariate(math.log(market.after_median), market.after_sigma)
            truth, at, kind = visit.id, visit.leaves + timedelta(minutes=delay), AFTER_LEAVING
        if at < end:
            calls.append((at, truth, kind, visit.visitor))
    calls.sort()
    return [PlannedCall(n, truth, at, kind, who) for n, (at, truth, kind, who) in enumerate(calls)]


def plan(market: Market, seed: int) -> Plan:
    visits = plan_visits(market, seed)
    calls = plan_calls(market, visits, seed)
    return Plan(visits, calls, market.start + timedelta(days=market.days))


START, RENEW, CALL = 0, 1, 2


def events(plan: Plan) -> list[tuple[datetime, int, int]]:
    """(at, kind, id) in time order: a visit's requests, then calls. At one instant a request
    comes before a call, as a number must be shown before it can be dialled."""
    out = []
    for visit in plan.visits:
        out.append((visit.start, START, visit.id))
        out.extend((at, RENEW, visit.id) for at in visit.requests[1:])
    out.extend((call.at, CALL, call.id) for call in plan.calls)
    out.sort()
    return out


def recommended_sizes(market: Market, plan: Plan, idle_seconds: int) -> dict[str, int]:
    """Each pool's Erlang B size for this traffic, by its campaign's name, with the load
    measured as attribution.dni.sizing measures it: the busiest UTC clock hour's new leases
    times the mean lease (time on site, to the last heartbeat, plus the idle timeout)."""
    per_hour: dict[tuple[str, datetime], int] = {}
    holding: dict[str, list[float]] = {}
    for visit in plan.visits:
        if visit.bot:
            continue
        pool = market.sources[visit.source].campaign
        hour = visit.start.replace(minute=0, second=0, microsecond=0)
        per_hour[pool, hour] = per_hour.get((pool, hour), 0) + 1
        lease = (visit.requests[-1] - visit.start).total_seconds() + idle_seconds
        holding.setdefault(pool, []).append(lease)
    sizes = {}
    for pool, leases in holding.items():
        peak = max(n for (name, _), n in per_hour.items() if name == pool)
        load = peak * (sum(leases) / len(leases)) / 3600
        sizes[pool] = erlang.smallest_size(load, 0.01)
    return sizes
