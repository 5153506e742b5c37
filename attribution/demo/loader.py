"""`load_demo`: one realistic advertiser with two months of costs, traffic, calls and deals."""

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import timezone

from attribution.credits import services as credit_services
from attribution.demo import calling, leases, money, timeline, traffic
from attribution.demo.catalog import Catalog, create_catalog
from attribution.dni import leases as dni_leases
from attribution.dni import sizing
from attribution.models import NumberAssignment, Outcome, Touchpoint, VisitorSession
from calls.models import Call
from campaigns import services
from campaigns.models import (
    Account,
    Campaign,
    DailyCost,
    Keyword,
    NumberPool,
    Role,
    TrackingNumber,
)

ADMIN_USERNAME = "admin"
BATCH_SIZE = 2000
# At the default scale and 60 days, the demo holds ≈ 6,000 sessions and ≈ 1,500 calls.
SESSIONS_PER_SCALE = 6000
CALLS_PER_SCALE = 1500
DEFAULT_DAYS = 60

ProgressTarget = Callable[[str, int], Any] | Any  # callable(step, advance) or a tqdm-like bar


@dataclass(frozen=True)
class DemoResult:
    account: Account
    username: str
    password: str  # the admin user's new password: shown once, stored only hashed
    api_key: str  # the raw admin API key: shown once, stored only hashed
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class _Plan:
    costs: list[DailyCost]
    sessions: list[VisitorSession]
    assignments: list[NumberAssignment]
    calls: list[Call]
    outcomes: list[Outcome]

    def tables(self) -> list[tuple[str, type[models.Model], list]]:
        """In write order: every row's foreign keys point at rows written before it."""
        return [
            ("costs", DailyCost, self.costs),
            ("sessions", VisitorSession, self.sessions),
            ("assignments", NumberAssignment, self.assignments),
            ("calls", Call, self.calls),
            ("outcomes", Outcome, self.outcomes),
        ]


class _Progress:
    """Reports to nothing, to a callable(step, advance), or to a tqdm-like bar."""

    def __init__(self, target: ProgressTarget | None):
        self.target = target

    def start(self, total: int) -> None:
        if hasattr(self.target, "reset"):
            self.target.reset(total=total)

    def advance(self, step: str, count: int = 0) -> None:
        if self.target is None:
            return
        if hasattr(self.target, "update"):
            if hasattr(self.target, "set_description"):
                self.target.set_description(step, refresh=False)
            self.target.update(count)
        else:
            self.target(step, count)


@transaction.atomic
def load_demo(
    *,
    scale: float = 1.0,
    days: int = DEFAULT_DAYS,
    seed: int = 7,
    progress: ProgressTarget | None = None,
) -> DemoResult:
    """Replace the demo account with a fresh one: ≈ 6,000 × scale sessions and ≈ 1,500 × scale
    calls over `days` days ending yesterday in the account's time zone, costs for each day.

    Repeatable: the same seed on the same day gives the same data (secrets aside). Safe to
    run again: any account named like the demo is deleted first, in the same transaction, so a
    failed load leaves the previous demo untouched. Side effects outside the account: the
    `admin` superuser is created, or its password reset, and made a member of the account."""
    if scale <= 0 or days < 1:
        raise ValueError("scale must be positive and days at least 1")
    tracker = _Progress(progress)
    tracker.advance("removing the previous demo")
    remove_demo()
    tracker.advance("creating campaigns and numbers")
    # Traffic per day relative to the default demo: pools and spend follow it.
    density = scale * DEFAULT_DAYS / days
    catalog = create_catalog(density=density)
    plan = _plan(random.Random(seed), catalog, scale=scale, days=days, density=density)
    tracker.start(total=sum(len(rows) for _, _, rows in plan.tables()))
    for step, model, rows in plan.tables():
        for start in range(0, len(rows), BATCH_SIZE):
            batch = rows[start : start + BATCH_SIZE]
            model.objects.bulk_create(batch)
            tracker.advance(step, len(batch))
    # The live allocator orders free numbers by their last lease's end: carry it over.
    dni_leases.sync_lease_ends(account=catalog.account)
    dni_leases.count_exhaustion(account=catalog.account)
    for pool in catalog.account.pools.all():
        sizing.size_pool(pool=pool)
    # Bulk-created calls bypass the ingestion hooks: their credits are computed here, once.
    tracker.advance("attribution credits")
    credit_services.recompute_account_credits(account=catalog.account)
    password = _reset_admin_login(account=catalog.account)
    _, api_key = services.issue_api_key(account=catalog.account, role=Role.ADMIN, name="demo")
    return DemoResult(
        account=catalog.account,
        username=ADMIN_USERNAME,
        password=password,
        api_key=api_key,
        counts=_counts(catalog, plan),
    )


def remove_demo() -> None:
    """Delete every demo account (only `is_demo` ones, never a real account of the same name).
    Children go first: calls, sessions, costs and leases PROTECT the campaigns, pools and
    numbers they point at, so the account's own cascade would refuse."""
    dependency_order = (
        *(Touchpoint, Outcome, Call, NumberAssignment, VisitorSession, DailyCost),
        *(TrackingNumber, NumberPool, Keyword, Campaign),
    )
    for account in Account.objects.filter(is_demo=True):
        for model in dependency_order:
            model.objects.filter(account=account).delete()
        account.delete()


def _plan(rng: random.Random, catalog: Catalog, *, scale: float, days: int, density: float):
    clock = timeline.Timeline.ending_yesterday(
        time_zone=catalog.account.time_zone, days=days, now=timezone.now()
    )
    costs = money.plan_costs(rng=rng, catalog=catalog, clock=clock, density=density)
    sessions = traffic.plan_sessions(
        rng=rng, catalog=catalog, clock=clock, count=max(1, round(SESSIONS_PER_SCALE * scale))
    )
    assignments = traffic.lease_numbers(catalog=catalog, sessions=sessions)
    planner = calling.CallPlanner(
        rng=rng, catalog=catalog, clock=clock, book=leases.LeaseBook(assignments)
    )
    calls = planner.plan(sessions=sessions, count=max(1, round(CALLS_PER_SCALE * scale)))
    outcomes = money.plan_outcomes(rng=rng, catalog=catalog, clock=clock, calls=calls)
    return _Plan(costs, sessions, assignments, calls, outcomes)


def _reset_admin_login(*, account: Account) -> str:
    """Give the `admin` superuser a new random password and access to the account."""
    password = secrets.token_urlsafe(12)
    user, _ = get_user_model().objects.get_or_create(
        username=ADMIN_USERNAME, defaults={"email": "admin@example.com"}
    )
    user.is_staff = user.is_superuser = user.is_active = True
    user.set_password(password)
    user.save()
    services.add_member(account=account, user=user)
    return password


def _counts(catalog: Catalog, plan: _Plan) -> dict[str, int]:
    return {
        "campaigns": len(catalog.campaigns),
        "keywords": sum(len(pairs) for pairs in catalog.keywords.values()),
        "pools": len(catalog.pools),
        "numbers": sum(map(len, catalog.numbers.values())) + len(catalog.statics),
        "costs": len(plan.costs),
        "visitors": len({session.visitor_id for session in plan.sessions}),
        "sessions": len(plan.sessions),
        "assignments": len(plan.assignments),
        "overflow_assignments": sum(a.overflow for a in plan.assignments),
        "calls": len(plan.calls),
        "spam_calls": sum(call.spam for call in plan.calls),
        "outcomes": len(plan.outcomes),
    }
