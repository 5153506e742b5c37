"""Replaying a plan through the real code on PostgreSQL, on a simulated clock.

Each request goes where `POST /dni/v1/sessions` sends it (attribution.dni.views._serve): the
classifier, the bot check, `leases.renew_session` or `leases.start_session`, with `now` set to
the simulated instant. Each call goes through `calls.services.record_calls` at its simulated
start, so the join reads the lease history exactly as a provider's webhook would find it.
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, Q

from attribution.dni import bots, classify, config, leases, sizing
from attribution.models import NumberAssignment
from bench.simulate import scoring, traffic
from bench.simulate.market import BOT_UA, BROWSER_UA, Market
from calls.services import CallInput, record_calls
from campaigns import services
from campaigns.models import Account, NumberPool, TrackingNumber

# Calls reach us in batches of this much simulated time, as through the calls API. A call's
# join reads the lease history at its start, which is fixed by then; only an ambiguous join
# ("the most recently active sharer") can see a few minutes' more heartbeats, as a provider's
# completion callback minutes after the ring also does.
BATCH = timedelta(minutes=10)


@dataclass
class Shown:
    """What a visit's tab shows now: the state a caller acts on."""

    session_id: object
    e164: str | None
    expires_at: datetime


@dataclass(frozen=True)
class Outcome:
    facts: list[scoring.CallFacts]
    assignments: int
    overflow: int
    measured_sizes: dict[str, int | None]  # attribution.dni.sizing's figures after the run


def make_account(
    market: Market, *, idle_seconds: int, sizes: dict[str, int], grace_seconds: int = 1800
) -> Account:
    """A fresh account with the market's campaigns and keywords, one pool per campaign of
    `sizes[campaign name]` numbers (the default pool serves unmatched traffic)."""
    account = services.create_account(
        name=f"simulation {time.time_ns()}", time_zone="America/New_York"
    )
    # Tracking numbers are unique across accounts: one block of numbers per account.
    prefix = f"+19{account.pk % 100_000:05d}"
    numbers = []
    for spec in market.campaigns:
        campaign = services.create_campaign(
            account=account,
            name=spec.name,
            channel=spec.channel,
            source=spec.source,
            utm_campaign=spec.utm_campaign,
        )
        for text in spec.keywords:
            services.create_keyword(account=account, campaign=campaign, text=text, utm_term=text)
        pool = services.create_pool(
            account=account,
            campaign=campaign,
            name=spec.name,
            is_default=spec.default_pool,
            idle_timeout_seconds=idle_seconds,
            grace_seconds=grace_seconds,
        )
        numbers += [
            TrackingNumber(account=account, campaign=campaign, pool=pool, kind="pool")
            for _ in range(sizes[spec.name])
        ]
    for n, number in enumerate(numbers):
        number.e164 = f"{prefix}{n:04d}"
    TrackingNumber.objects.bulk_create(numbers)
    return account


def _start(snapshot: config.AccountConfig, url: str, referrer: str, ua: str, visitor: str, at):
    """`views._serve` for a request without a live session, minus HTTP."""
    visit = classify.read_visit(url=url, referrer=referrer)
    return leases.start_session(
        config=snapshot,
        classification=classify.classify(
            visit, campaigns=snapshot.campaigns, keywords=snapshot.keywords
        ),
        visit=leases.VisitFacts(url, referrer, ua, None, bots.is_bot(ua)),
        visitor_id=visitor,
        now=at,
    )


class Replay:
    def __init__(self, market: Market, plan: traffic.Plan, account: Account):
        self.market, self.plan, self.account = market, plan, account
        config.clear()
        self.snapshot = config.config_for_key(account.public_key)
        self.campaign_ids = {c.name: c.pk for c in account.campaigns.all()}
        self.shown: dict[int, Shown] = {}
        self.facts: list[scoring.CallFacts] = []
        self.pending: list[tuple] = []

    def request(self, visit: traffic.PlannedVisit, at: datetime, *, first: bool) -> None:
        answer = None
        if not first:
            session_id = self.shown[visit.id].session_id
            answer = leases.renew_session(config=self.snapshot, session_id=session_id, now=at)
        if answer is None:  # a first request, or a session that expired: the view starts one
            source = self.market.sources[visit.source]
            ua = BOT_UA if visit.bot else BROWSER_UA
            visitor = f"sim-visitor-{visit.visitor:06d}"
            answer = _start(self.snapshot, source.url, source.referrer, ua, visitor, at)
        self.shown[visit.id] = Shown(answer.session_id, answer.e164, answer.expires_at)

    def call(self, call: traffic.PlannedCall) -> None:
        """Dial the number the true visit showed; the call is ingested with the next batch."""
        shown = self.shown[call.visit]
        caller = f"+1{3_120_000_000 + call.caller}"
        item = CallInput(
            provider="sim",
            external_id=f"call-{call.id}",
            tracking_e164=shown.e164 or "",
            caller_e164=caller,
            caller_raw=caller,
            started_at=call.at,
            status="answered",
            duration_seconds=240,
            talk_seconds=225,
        )
        # Whether the lease was over is a fact of the call's instant (later heartbeats of an
        # on-page caller push the session's end on).
        self.pending.append((call, shown.session_id, call.at >= shown.expires_at, item))

    def flush(self) -> None:
        """Ingest the waiting calls as one provider batch (the API takes up to 1,000)."""
        if not self.pending:
            return
        stored = record_calls(account=self.account, items=[p[3] for p in self.pending])
        for (call, true_session, after_lease, _), (row, _) in zip(
            self.pending, stored, strict=True
        ):
            visit = self.plan.visits[call.visit]
            self.facts.append(
                scoring.CallFacts(
                    kind=call.kind,
                    true_session=true_session,
                    true_campaign=self.campaign_ids[self.market.sources[visit.source].campaign],
                    after_lease=after_lease,
                    session=row.session_id,
                    campaign=row.campaign_id,
                    confidence=row.confidence,
                )
            )
        self.pending = []

    def run(self) -> Outcome:
        batch_end = self.plan.visits[0].start + BATCH
        for at, kind, ref in traffic.events(self.plan):
            if at >= batch_end:
                self.flush()
                batch_end = at + BATCH
            if kind == traffic.CALL:
                self.call(self.plan.calls[ref])
            else:
                self.request(self.plan.visits[ref], at, first=kind == traffic.START)
        self.flush()
        totals = NumberAssignment.objects.filter(account=self.account).aggregate(
            total=Count("id"), overflow=Count("id", filter=Q(overflow=True))
        )
        return Outcome(self.facts, totals["total"], totals["overflow"], self.measured_sizes())

    def measured_sizes(self) -> dict[str, int | None]:
        """The project's own sizing of each pool from the leases the run wrote."""
        days = self.market.days + 1
        return {
            pool.name: sizing.size_pool(
                pool=pool, now=self.plan.end, window_days=days
            ).recommended_size
            for pool in NumberPool.objects.filter(account=self.account).order_by("id")
        }


def simulate(
    market: Market,
    plan: traffic.Plan,
    *,
    idle_seconds: int,
    sizes: dict[str, int],
    grace_seconds: int = 1800,
):
    """One configuration on a fresh account: (Outcome, seconds taken)."""
    began = time.perf_counter()
    with connection.cursor() as cursor:
        # Every lease statement commits on its own, as in production; waiting for each commit
        # to reach the disk would make the run 5x slower and change no figure. This session only.
        cursor.execute("SET synchronous_commit TO off")
    account = make_account(
        market, idle_seconds=idle_seconds, sizes=sizes, grace_seconds=grace_seconds
    )
    outcome = Replay(market, plan, account).run()
    return outcome, time.perf_counter() - began
