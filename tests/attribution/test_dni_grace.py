"""The lease's grace: after a session goes idle its number keeps attributing calls to it, until
the number is handed to another session or the pool's grace runs out."""

from datetime import timedelta

import pytest
from django.utils import timezone

from attribution.dni import config, leases
from attribution.dni.classify import Classification
from attribution.models import NumberAssignment
from calls.models import Confidence
from calls.services import attribute
from campaigns.models import TrackingNumber
from tests.attribution.dni_helpers import BROWSER_UA, ORIGIN
from tests.factories import (
    AccountFactory,
    CampaignFactory,
    PoolFactory,
    PoolNumberFactory,
    SessionFactory,
)

IDLE, GRACE = 600, 1200


@pytest.fixture
def pool(db):
    account = AccountFactory(allowed_origins=[ORIGIN])
    pool = PoolFactory(
        campaign=CampaignFactory(account=account, channel="direct"),
        is_default=True,
        idle_timeout_seconds=IDLE,
        grace_seconds=GRACE,
    )
    PoolNumberFactory(pool=pool)
    return pool


def start(pool, now):
    return leases.start_session(
        config=config.config_for_key(pool.account.public_key),
        classification=Classification(None, None, "direct", {}),
        visit=leases.VisitFacts(f"{ORIGIN}/", "", BROWSER_UA, None, False),
        visitor_id=None,
        now=now,
    )


def joined(pool, at, number=None):
    number = number or TrackingNumber.objects.get(pool=pool)
    found = attribute(number=number, at=at)
    return found.session_id, found.confidence


def test_a_call_after_the_session_went_idle_is_joined_to_it_within_the_grace(pool):
    t0 = timezone.now() - timedelta(hours=3)
    visit = start(pool, t0)
    lease = NumberAssignment.objects.get()
    assert lease.ends_at == t0 + timedelta(seconds=IDLE)
    assert lease.grace_ends_at == t0 + timedelta(seconds=IDLE + GRACE)
    assert joined(pool, t0 + timedelta(seconds=IDLE + 60)) == (visit.session_id, Confidence.EXACT)
    after = t0 + timedelta(seconds=IDLE + GRACE)
    assert joined(pool, after) == (None, Confidence.SOURCE)


def test_a_renewal_moves_the_grace_with_the_lease(pool):
    t0 = timezone.now() - timedelta(hours=3)
    visit = start(pool, t0)
    later = t0 + timedelta(seconds=300)
    leases.renew_session(
        config=config.config_for_key(pool.account.public_key),
        session_id=visit.session_id,
        now=later,
    )
    lease = NumberAssignment.objects.get()
    assert lease.ends_at == later + timedelta(seconds=IDLE)
    assert lease.grace_ends_at == later + timedelta(seconds=IDLE + GRACE)


def test_handing_the_number_to_another_session_ends_the_grace(pool):
    t0 = timezone.now() - timedelta(hours=3)
    first = start(pool, t0)
    handed = t0 + timedelta(seconds=IDLE + 300)  # in the first session's grace
    second = start(pool, handed)
    assert second.e164 == first.e164  # the pool's only free number
    old = NumberAssignment.objects.get(session_id=first.session_id)
    assert old.grace_ends_at == handed
    assert joined(pool, handed - timedelta(seconds=1)) == (first.session_id, Confidence.EXACT)
    assert joined(pool, handed + timedelta(seconds=1)) == (second.session_id, Confidence.EXACT)


def test_a_live_lease_wins_over_one_in_its_grace(pool):
    PoolNumberFactory(pool=pool)
    t0 = timezone.now() - timedelta(hours=3)
    first = start(pool, t0)
    number = TrackingNumber.objects.get(e164=first.e164)
    # The grace of the first lease is still running when the same number is shared (overflow).
    NumberAssignment.objects.create(
        account=pool.account,
        number=number,
        pool=pool,
        session=SessionFactory(account=pool.account, started_at=t0 + timedelta(seconds=IDLE + 60)),
        starts_at=t0 + timedelta(seconds=IDLE + 60),
        ends_at=t0 + timedelta(seconds=2 * IDLE),
        overflow=True,
    )
    session_id, confidence = joined(pool, t0 + timedelta(seconds=IDLE + 120), number)
    assert session_id != first.session_id
    assert confidence == Confidence.EXACT


def test_no_grace_is_the_old_rule(pool):
    pool.grace_seconds = 0
    pool.save()
    config.clear()  # the snippet's config is cached for a few seconds
    t0 = timezone.now() - timedelta(hours=3)
    start(pool, t0)
    lease = NumberAssignment.objects.get()
    assert lease.grace_ends_at == lease.ends_at
    assert joined(pool, t0 + timedelta(seconds=IDLE)) == (None, Confidence.SOURCE)
