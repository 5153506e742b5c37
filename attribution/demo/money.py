"""Money in and out: daily spend per campaign (per keyword for search), and what the CRM says
came of the answered calls. Pure: builds unsaved DailyCost and Outcome rows."""

import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from attribution.demo import timeline
from attribution.demo.catalog import CAMPAIGNS, CampaignSpec, Catalog, Spend
from attribution.models import Outcome, OutcomeStage
from calls.models import Call, CallStatus
from campaigns.models import DailyCost

CENT = Decimal("0.01")
OUTCOME_SHARE = 0.35  # of answered, non-spam calls: the rest never reach the CRM
STAGES = (OutcomeStage.LEAD, OutcomeStage.QUALIFIED, OutcomeStage.WON, OutcomeStage.LOST)
STAGE_WEIGHTS = (30, 22, 33, 15)
# How long after the call the deal reached its stage, in minutes (low, high).
STAGE_DELAY_MINUTES = {
    OutcomeStage.LEAD: (5, 120),
    OutcomeStage.QUALIFIED: (60, 3 * 24 * 60),
    OutcomeStage.WON: (24 * 60, 14 * 24 * 60),
    OutcomeStage.LOST: (24 * 60, 21 * 24 * 60),
}
# Median job value: an emergency call-out or a brand searcher books a bigger job.
MEDIAN_JOB = {"emergency": 650, "brand": 480}
DEFAULT_MEDIAN_JOB = 380


def plan_costs(
    *, rng: random.Random, catalog: Catalog, clock: timeline.Timeline, density: float
) -> list[DailyCost]:
    """One row per day per campaign with spend (per keyword for search campaigns, whose rows
    roll up into the campaign in reports). Spend follows the traffic density, so cost per call
    stays plausible at any --scale."""
    rows = []
    for spec in CAMPAIGNS:
        if spec.spend is None:
            continue
        for day in clock.dates:
            if spec.spend.weekdays_only and day.weekday() >= 5:
                continue
            amount = _daily_amount(rng, spec.spend, clock.weekday_factor(day), density)
            rows += _cost_rows(rng, catalog, spec, day, amount, density)
    return rows


def plan_outcomes(
    *, rng: random.Random, catalog: Catalog, clock: timeline.Timeline, calls: list[Call]
) -> list[Outcome]:
    """A deal for about a third of the answered, non-spam calls, naming its call."""
    rows = []
    for call in calls:
        if call.status != CallStatus.ANSWERED or call.spam or rng.random() >= OUTCOME_SHARE:
            continue
        stage = rng.choices(STAGES, weights=STAGE_WEIGHTS)[0]
        rows.append(
            Outcome(
                account=catalog.account,
                crm="hubspot",
                external_id=f"deal-{100_001 + len(rows)}",
                call=call,
                call_external_id=call.external_id,
                caller_e164=call.caller_e164,
                caller_raw=call.caller_raw,
                stage=stage,
                value=_job_value(rng, catalog, call) if stage == OutcomeStage.WON else None,
                currency=catalog.account.currency,
                occurred_at=_occurred_at(rng, clock, call, stage),
                match_method=Outcome.MatchMethod.CALL,
            )
        )
    return rows


def _daily_amount(rng, spend: Spend, weekday: float, density: float) -> Decimal:
    factor = 1.0 if spend.flat else weekday * rng.uniform(0.85, 1.15)
    return spend.daily * Decimal(str(round(factor * density, 4)))


def _cost_rows(rng, catalog, spec: CampaignSpec, day: date, amount: Decimal, density: float):
    campaign = catalog.campaigns[spec.key]
    keywords = catalog.keywords[spec.key]
    if not keywords:
        return [_cost(rng, catalog, campaign, None, day, amount, spec.spend, density)]
    # Each keyword's share wobbles day to day around its weight.
    shares = [kw_spec.weight * rng.uniform(0.7, 1.3) for _, kw_spec in keywords]
    total = sum(shares)
    return [
        _cost(
            rng,
            catalog,
            campaign,
            keyword,
            day,
            amount * Decimal(share / total),
            spec.spend,
            density,
        )
        for (keyword, _), share in zip(keywords, shares, strict=True)
    ]


def _cost(rng, catalog, campaign, keyword, day, amount: Decimal, spend: Spend, density: float):
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if spend.cpc is None:  # offline media: no clicks, an estimated audience
        clicks, impressions = 0, round(spend.reach * density * rng.uniform(0.9, 1.1))
    else:
        clicks = round(float(amount / spend.cpc) * rng.uniform(0.9, 1.1))
        impressions = round(clicks / spend.ctr * rng.uniform(0.85, 1.15))
    return DailyCost(
        account=catalog.account,
        campaign=campaign,
        keyword=keyword,
        date=day,
        amount=amount,
        currency=catalog.account.currency,
        clicks=clicks,
        impressions=impressions,
    )


def _job_value(rng, catalog: Catalog, call: Call) -> Decimal:
    median = MEDIAN_JOB.get(catalog.key_of(call.campaign), DEFAULT_MEDIAN_JOB)
    value = timeline.lognormal(rng, median=median, sigma=0.7, low=89, high=12_000)
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _occurred_at(rng, clock: timeline.Timeline, call: Call, stage: str):
    ended = call.started_at + timedelta(seconds=call.duration_seconds)
    low, high = STAGE_DELAY_MINUTES[stage]
    occurred = ended + timedelta(minutes=rng.randint(low, high))
    # A deal that would close after today closed "just now" instead: nothing in the future.
    return min(occurred, max(clock.now, ended + timedelta(minutes=1)))
