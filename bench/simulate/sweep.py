"""The sweep: every pool size × idle timeout on its own fresh account, a few at a time.

Configurations run in worker processes (each with its own database connection): the replay
waits on PostgreSQL far more than it computes, so two cores keep three replays busy.
"""

import logging
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

from bench.simulate import scoring, traffic
from bench.simulate.market import Market

SIZE_FACTORS = (2.0, 1.5, 1.0, 0.5, 0.25)  # × the Erlang B recommendation
IDLE_MINUTES = (10, 20, 30, 60)
GRACE_MINUTES = (30,)  # the pools' default grace (NumberPool.grace_seconds)


@dataclass(frozen=True)
class Row:
    """One configuration's figures; shares are of the calls."""

    idle_minutes: int
    size_factor: float
    grace_minutes: int
    numbers: int
    recommended: int
    calls: int
    right_session: float
    right_campaign: float
    exact: float
    ambiguous: float
    source: float
    exhaustion: float
    causes: dict[str, int]
    measured_recommended: int
    seconds: float


def pool_sizes(recommended: dict[str, int], factor: float) -> dict[str, int]:
    """`factor` × each pool's recommendation, rounded, at least one number."""
    return {name: max(1, round(size * factor)) for name, size in recommended.items()}


def run_one(market: Market, seed: int, idle_minutes: int, factor: float, grace_minutes: int) -> Row:
    """One configuration, in this process. The plan is rebuilt from the seed (cheaper than
    shipping it between processes, and identical by construction)."""
    from bench.simulate import engine  # needs Django set up (the worker's initializer)

    plan = traffic.plan(market, seed)
    recommended = traffic.recommended_sizes(market, plan, idle_minutes * 60)
    sizes = pool_sizes(recommended, factor)
    outcome, seconds = engine.simulate(
        market,
        plan,
        idle_seconds=idle_minutes * 60,
        sizes=sizes,
        grace_seconds=grace_minutes * 60,
    )
    score = scoring.score(outcome.facts)
    return Row(
        idle_minutes=idle_minutes,
        size_factor=factor,
        grace_minutes=grace_minutes,
        numbers=sum(sizes.values()),
        recommended=sum(recommended.values()),
        calls=score.calls,
        right_session=score.share(score.right_session),
        right_campaign=score.share(score.right_campaign),
        exact=score.share(score.confidence[scoring.EXACT]),
        ambiguous=score.share(score.confidence[scoring.AMBIGUOUS]),
        source=score.share(score.confidence[scoring.SOURCE]),
        exhaustion=outcome.overflow / outcome.assignments if outcome.assignments else 0.0,
        causes={cause: score.causes[cause] for cause in scoring.CAUSES},
        measured_recommended=sum(size or 0 for size in outcome.measured_sizes.values()),
        seconds=seconds,
    )


def setup_django() -> None:
    """Django for the simulator, in this process: settings, apps, and a quiet log (the
    in-process credits task logs every call at INFO)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    logging.getLogger("celery").setLevel(logging.WARNING)


def sweep(
    market: Market, seed: int, idles, factors, *, workers: int, graces=GRACE_MINUTES, on_row=None
) -> list[Row]:
    """Every (grace, idle timeout, size factor) configuration; rows in sweep order."""
    configs = [(idle, factor, grace) for grace in graces for idle in idles for factor in factors]
    if workers <= 1:
        rows = []
        for idle, factor, grace in configs:
            rows.append(run_one(market, seed, idle, factor, grace))
            if on_row:
                on_row(rows[-1])
        return rows
    # spawn, not fork: a forked child would share the parent's database connections.
    context = get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=setup_django) as pool:
        futures = [pool.submit(run_one, market, seed, *config) for config in configs]
        rows = []
        for future in futures:
            rows.append(future.result())
            if on_row:
                on_row(rows[-1])
        return rows
