"""Leases: one live session per pool number, renewals, reuse, overflow, and the database's word."""

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection
from django.utils import timezone

from attribution.dni import config, leases
from attribution.dni.classify import Classification
from attribution.models import NumberAssignment, PoolExhaustion, VisitorSession
from campaigns.models import TrackingNumber
from tests.attribution.dni_helpers import BROWSER_UA, ORIGIN, browser, post
from tests.factories import (
    AccountFactory,
    AssignmentFactory,
    CampaignFactory,
    PoolFactory,
    PoolNumberFactory,
    SessionFactory,
)


def make_pool(size: int, *, idle: int = 1800, **account):
    account = AccountFactory(allowed_origins=[ORIGIN], **account)
    pool = PoolFactory(
        campaign=CampaignFactory(account=account, channel="direct"),
        is_default=True,
        idle_timeout_seconds=idle,
    )
    numbers = [PoolNumberFactory(pool=pool) for _ in range(size)]
    return account, pool, numbers


def new_session(account, **extra):
    return post(browser(), {"key": account.public_key, "url": f"{ORIGIN}/", **extra})


def test_a_new_session_gets_a_pool_number_and_keeps_it_on_renewal(db):
    account, pool, numbers = make_pool(3)
    first = new_session(account)
    assert first.status_code == 201
    body = first.json()
    assert body["number"]["e164"] in {n.e164 for n in numbers}
    renewal = new_session(account, session_id=body["session_id"])
    assert renewal.status_code == 200
    assert renewal.json()["number"] == body["number"]
    assert renewal.json()["session_id"] == body["session_id"]
    assert renewal.json()["expires_at"] >= body["expires_at"]
    assert NumberAssignment.objects.count() == 1


def test_renewal_extends_the_lease_by_the_idle_timeout(db):
    account, pool, _ = make_pool(1, idle=600)
    answer = leases.start_session(
        config=config.config_for_key(account.public_key),
        classification=Classification(None, None, "direct", {}),
        visit=leases.VisitFacts(f"{ORIGIN}/", "", BROWSER_UA, None, False),
        visitor_id=None,
    )
    later = timezone.now() + timedelta(minutes=5)
    renewed = leases.renew_session(
        config=config.config_for_key(account.public_key), session_id=answer.session_id, now=later
    )
    assert renewed.expires_at == later + timedelta(seconds=600)
    lease = NumberAssignment.objects.get()
    assert lease.ends_at == later + timedelta(seconds=600)
    assert TrackingNumber.objects.get(pool=pool).lease_ends_at == lease.ends_at


def test_fifty_concurrent_sessions_on_fifty_numbers_all_differ(transactional_db):
    account, pool, numbers = make_pool(50)
    results, errors = [], []
    barrier = threading.Barrier(50)

    def visit():
        try:
            barrier.wait()
            results.append(new_session(account).json()["number"]["e164"])
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=visit) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == sorted(n.e164 for n in numbers)
    assert not NumberAssignment.objects.filter(overflow=True).exists()
    assert not PoolExhaustion.objects.exists()


def test_the_number_free_longest_is_handed_out_first(db):
    account, pool, numbers = make_pool(3)
    now = timezone.now()
    TrackingNumber.objects.filter(pk=numbers[0].pk).update(lease_ends_at=now - timedelta(hours=1))
    TrackingNumber.objects.filter(pk=numbers[1].pk).update(lease_ends_at=now - timedelta(hours=3))
    TrackingNumber.objects.filter(pk=numbers[2].pk).update(lease_ends_at=now - timedelta(hours=2))
    order = [new_session(account).json()["number"]["e164"] for _ in range(3)]
    assert order == [numbers[1].e164, numbers[2].e164, numbers[0].e164]


def test_an_expired_lease_is_reused_and_its_session_starts_anew(db):
    account, pool, numbers = make_pool(1)
    first = new_session(account).json()
    # Time passes beyond the idle timeout: the lease and the session lapse.
    past = timezone.now() - timedelta(hours=2)
    NumberAssignment.objects.update(starts_at=past, ends_at=past + timedelta(minutes=30))
    VisitorSession.objects.update(started_at=past, last_seen_at=past, expires_at=past)
    TrackingNumber.objects.update(lease_ends_at=past + timedelta(minutes=30))

    second = new_session(account).json()
    assert second["number"]["e164"] == numbers[0].e164
    assert not NumberAssignment.objects.filter(overflow=True).exists()
    again = new_session(account, session_id=first["session_id"])
    assert again.status_code == 201  # the old session expired: a new one starts
    assert again.json()["session_id"] != first["session_id"]


def test_an_exhausted_pool_shares_the_least_recently_active_number_and_counts_it(db):
    account, pool, numbers = make_pool(2)
    a = new_session(account).json()
    b = new_session(account).json()
    # b renews later than a, so a's holder is the least recently active
    post(browser(), {"key": account.public_key, "url": f"{ORIGIN}/", "session_id": b["session_id"]})
    c = new_session(account)
    assert c.status_code == 201
    assert c.json()["number"] == a["number"]
    overflow = NumberAssignment.objects.get(session_id=c.json()["session_id"])
    assert overflow.overflow is True
    exhaustion = PoolExhaustion.objects.get(pool=pool)
    assert exhaustion.count == 1
    assert exhaustion.hour == timezone.now().replace(minute=0, second=0, microsecond=0)
    new_session(account)
    assert PoolExhaustion.objects.get(pool=pool).count == 2


def test_the_database_refuses_an_overlapping_exclusive_lease(db):
    number = PoolNumberFactory()
    now = timezone.now()
    AssignmentFactory(number=number, starts_at=now, ends_at=now + timedelta(minutes=30))
    with pytest.raises(IntegrityError, match="assignment_no_overlap"):
        AssignmentFactory(
            number=number,
            starts_at=now + timedelta(minutes=10),
            ends_at=now + timedelta(minutes=40),
        )


def test_the_database_allows_an_overflow_lease_and_back_to_back_leases(db):
    number = PoolNumberFactory()
    now = timezone.now()
    AssignmentFactory(number=number, starts_at=now, ends_at=now + timedelta(minutes=30))
    AssignmentFactory(
        number=number, starts_at=now, ends_at=now + timedelta(minutes=5), overflow=True
    )
    AssignmentFactory(  # [start, end) ranges: the next lease may begin when the last ends
        number=number, starts_at=now + timedelta(minutes=30), ends_at=now + timedelta(minutes=60)
    )
    assert NumberAssignment.objects.filter(number=number).count() == 3


def test_a_bot_never_takes_a_pool_number(db):
    account, pool, numbers = make_pool(1)
    client = browser()
    response = post(
        client,
        {"key": account.public_key, "url": f"{ORIGIN}/"},
        HTTP_USER_AGENT="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    )
    assert response.status_code == 201
    assert response.json()["number"] is None
    assert VisitorSession.objects.get().is_bot is True
    assert not NumberAssignment.objects.exists()


def test_a_bot_gets_its_campaigns_static_number(db):
    from tests.factories import StaticNumberFactory

    account = AccountFactory(allowed_origins=[ORIGIN])
    campaign = CampaignFactory(account=account, channel="email", utm_campaign="spring-news")
    static = StaticNumberFactory(campaign=campaign)
    response = post(
        browser(),
        {"key": account.public_key, "url": f"{ORIGIN}/?utm_campaign=spring-news"},
        HTTP_USER_AGENT="Mozilla/5.0 (compatible; bingbot/2.0)",
    )
    assert response.json()["number"]["e164"] == static.e164


def test_a_returning_visitor_keeps_one_journey(db):
    account, _, _ = make_pool(2)
    first = new_session(account, visitor_id="visitor-0001").json()
    second = new_session(account, visitor_id="visitor-0001").json()
    assert first["visitor_id"] == second["visitor_id"] == "visitor-0001"
    assert first["session_id"] != second["session_id"]
    assert VisitorSession.objects.filter(visitor_id="visitor-0001").count() == 2


def test_a_session_of_another_account_is_not_renewed(db):
    account, _, _ = make_pool(1)
    other, _, _ = make_pool(1)
    theirs = new_session(other).json()
    mine = new_session(account, session_id=theirs["session_id"])
    assert mine.status_code == 201
    assert mine.json()["session_id"] != theirs["session_id"]
    assert SessionFactory._meta.model.objects.get(pk=theirs["session_id"]).account == other
