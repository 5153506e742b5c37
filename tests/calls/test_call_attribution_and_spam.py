"""Last-touch attribution of calls from the lease history, and the spam rules."""

from datetime import UTC, datetime, timedelta

import pytest

from calls import rules, services
from calls.models import Call
from tests.factories import (
    AssignmentFactory,
    BlockedNumberFactory,
    CampaignFactory,
    KeywordFactory,
    PoolFactory,
    PoolNumberFactory,
    SessionFactory,
    StaticNumberFactory,
)

T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def ingest(
    account,
    number_e164,
    *,
    at=T0,
    external_id="CA1",
    caller="+14155552671",
    status="answered",
    duration=60,
):
    item = services.CallInput(
        provider="test",
        external_id=external_id,
        tracking_e164=number_e164,
        caller_e164=caller,
        caller_raw=caller,
        started_at=at,
        status=status,
        duration_seconds=duration,
    )
    return services.record_calls(account=account, items=[item])[0][0]


@pytest.fixture
def pool(account):
    campaign = CampaignFactory(account=account, name="Search")
    return PoolFactory(campaign=campaign)


def lease(number, *, start, minutes=30, overflow=False, seen=None, keyword=None):
    session = SessionFactory(
        account=number.account,
        started_at=start,
        last_seen_at=seen or start,
        campaign=number.campaign,
        keyword=keyword,
    )
    AssignmentFactory(
        number=number,
        session=session,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        overflow=overflow,
    )
    return session


def test_a_call_during_a_lease_belongs_to_that_session(account, pool):
    number = PoolNumberFactory(pool=pool)
    keyword = KeywordFactory(campaign=pool.campaign)
    session = lease(number, start=T0 - timedelta(minutes=10), keyword=keyword)
    call = ingest(account, number.e164)
    assert (call.session_id, call.campaign_id, call.keyword_id, call.confidence) == (
        session.pk,
        pool.campaign_id,
        keyword.pk,
        "exact",
    )


def test_a_shared_number_goes_to_the_most_recently_active_session(account, pool):
    number = PoolNumberFactory(pool=pool)
    lease(number, start=T0 - timedelta(minutes=20), seen=T0 - timedelta(minutes=15))
    latest = lease(
        number, start=T0 - timedelta(minutes=5), overflow=True, seen=T0 - timedelta(minutes=2)
    )
    call = ingest(account, number.e164)
    assert (call.session_id, call.confidence) == (latest.pk, "ambiguous")


def test_a_call_after_every_lease_ended_goes_to_the_pools_campaign(account, pool):
    number = PoolNumberFactory(pool=pool)
    lease(number, start=T0 - timedelta(hours=2))
    call = ingest(account, number.e164)
    assert (call.session_id, call.campaign_id, call.confidence) == (
        None,
        pool.campaign_id,
        "source",
    )


def test_a_call_ingested_days_late_is_joined_by_the_lease_history(account, pool):
    number = PoolNumberFactory(pool=pool)
    old = T0 - timedelta(days=9)
    session = lease(number, start=old)
    lease(number, start=T0 - timedelta(minutes=5))  # the number has moved on since
    call = ingest(account, number.e164, at=old + timedelta(minutes=12))
    assert (call.session_id, call.confidence) == (session.pk, "exact")


def test_static_and_unknown_numbers(account):
    static = StaticNumberFactory(campaign=CampaignFactory(account=account))
    assert ingest(account, static.e164).confidence == "static"
    # Outside the factories' +1212555xxxx numbers, which a long run reaches.
    unknown = ingest(account, "+13125550199", external_id="CA2")
    assert (unknown.campaign_id, unknown.confidence) == (None, "none")


def test_three_short_calls_within_an_hour_are_all_spam(account):
    number = StaticNumberFactory(campaign=CampaignFactory(account=account))
    for i, minutes in enumerate((0, 20, 50)):
        ingest(
            account,
            number.e164,
            at=T0 + timedelta(minutes=minutes),
            external_id=f"S{i}",
            caller="+12025550123",
            duration=4,
            status="missed",
        )
    assert list(Call.objects.values_list("spam", "spam_reason").distinct()) == [(True, "auto")]


def test_short_calls_spread_over_more_than_an_hour_are_not_spam(account):
    number = StaticNumberFactory(campaign=CampaignFactory(account=account))
    for i, minutes in enumerate((0, 40, 110)):
        ingest(
            account,
            number.e164,
            at=T0 + timedelta(minutes=minutes),
            external_id=f"S{i}",
            caller="+12025550123",
            duration=4,
            status="missed",
        )
    assert not Call.objects.filter(spam=True).exists()


def test_a_users_unmarking_is_never_overridden_by_the_automatic_rule(account):
    number = StaticNumberFactory(campaign=CampaignFactory(account=account))
    first = ingest(
        account, number.e164, external_id="S0", caller="+12025550123", duration=3, status="missed"
    )
    services.update_call(account=account, call=first, spam=False)
    for i in (1, 2):
        ingest(
            account,
            number.e164,
            at=T0 + timedelta(minutes=i),
            external_id=f"S{i}",
            caller="+12025550123",
            duration=3,
            status="missed",
        )
    first.refresh_from_db()
    assert (first.spam, first.spam_reason) == (False, "cleared")
    assert Call.objects.filter(spam=True).count() == 2


def test_a_blocklisted_caller_is_spam(account):
    BlockedNumberFactory(account=account, e164="+12025550123")
    number = StaticNumberFactory(campaign=CampaignFactory(account=account))
    call = ingest(account, number.e164, caller="+12025550123")
    call.refresh_from_db()
    assert (call.spam, call.spam_reason) == (True, "blocklist")


@pytest.mark.parametrize(
    ("current", "incoming", "expected"),
    [
        ("answered", "ringing", "answered"),
        ("ringing", "in_progress", "in_progress"),
        ("missed", "abandoned", "missed"),
        ("missed", "voicemail", "voicemail"),
        ("voicemail", "answered", "answered"),
        ("abandoned", "busy", "busy"),
    ],
)
def test_statuses_only_move_forwards(current, incoming, expected):
    assert rules.advance(current, incoming) == expected


def test_an_automatic_mark_is_lifted_when_the_real_duration_arrives(account):
    number = StaticNumberFactory(campaign=CampaignFactory(account=account))
    for i in range(3):  # finished, duration not known yet: they look like a burst
        ingest(
            account,
            number.e164,
            at=T0 + timedelta(minutes=i),
            external_id=f"S{i}",
            caller="+12025550123",
            duration=0,
            status="missed",
        )
    assert Call.objects.filter(spam=True).count() == 3
    ingest(
        account,
        number.e164,
        at=T0,
        external_id="S0",
        caller="+12025550123",
        duration=45,
        status="missed",
    )
    assert not Call.objects.filter(spam=True).exists()  # two short calls are not a burst
