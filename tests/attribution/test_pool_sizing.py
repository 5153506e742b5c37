"""Pool sizing: Erlang B against the published tables, and the figures measured from real leases."""

import math
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from attribution.dni import erlang, sizing, tasks
from attribution.models import PoolExhaustion
from campaigns import services
from campaigns.models import NumberPool
from tests.factories import AssignmentFactory, CampaignFactory, PoolFactory, PoolNumberFactory

NOW = datetime(2026, 3, 10, 15, 20, tzinfo=UTC)
PEAK_HOUR = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
HALF_HOUR = timedelta(minutes=30)

# The 1% column of the standard Erlang B table: lines → the most erlangs they carry.
ONE_PERCENT_TABLE = {1: 0.0101, 2: 0.1526, 3: 0.4555, 4: 0.8694, 5: 1.361, 10: 4.461, 20: 12.03}
ONE_PERCENT_TABLE[50] = 37.90


def erlang_b_by_factorials(n: int, load: float) -> float:
    """The textbook formula, to check the recursion against (fine for small n)."""
    terms = [load**k / math.factorial(k) for k in range(n + 1)]
    return terms[-1] / sum(terms)


def test_erlang_b_of_one_line_at_one_erlang_is_one_half():
    assert erlang.erlang_b(1, 1.0) == 0.5
    assert erlang.erlang_b(2, 1.0) == pytest.approx(0.2)


@pytest.mark.parametrize(("lines", "load"), ONE_PERCENT_TABLE.items())
def test_erlang_b_matches_the_one_percent_column_of_the_published_table(lines, load):
    assert erlang.erlang_b(lines, load) == pytest.approx(0.01, rel=5e-3)


@pytest.mark.parametrize(("lines", "load"), [(3, 0.5), (6, 6.0), (13, 6.0), (30, 21.5)])
def test_erlang_b_recursion_equals_the_factorial_formula(lines, load):
    assert erlang.erlang_b(lines, load) == pytest.approx(erlang_b_by_factorials(lines, load))


@pytest.mark.parametrize(("lines", "load"), ONE_PERCENT_TABLE.items())
def test_smallest_size_just_under_a_table_load_is_the_tables_line_count(lines, load):
    assert erlang.smallest_size(load * 0.995) == lines


def test_six_erlangs_need_thirteen_numbers_for_one_percent_blocking():
    assert erlang.erlang_b(12, 6.0) > 0.01 > erlang.erlang_b(13, 6.0)
    assert erlang.smallest_size(6.0) == 13


def test_no_load_needs_one_number_and_no_number_always_blocks():
    assert erlang.smallest_size(0.0) == 1
    assert erlang.erlang_b(1, 0.0) == 0.0
    assert erlang.erlang_b(0, 0.0) == 1.0
    assert erlang.erlang_b(0, 5.0) == 1.0


@pytest.mark.parametrize("load", [-0.1, math.inf, math.nan])
def test_a_negative_or_non_finite_load_is_refused(load):
    with pytest.raises(ValueError, match="Offered load"):
        erlang.erlang_b(3, load)
    with pytest.raises(ValueError, match="Offered load"):
        erlang.smallest_size(load)


@pytest.mark.parametrize("servers", [-1, 2.0, True])
def test_a_server_count_that_is_not_a_natural_number_is_refused(servers):
    with pytest.raises(ValueError, match="Servers"):
        erlang.erlang_b(servers, 1.0)


@pytest.mark.parametrize("target", [0.0, -0.01, 1.5])
def test_a_target_outside_zero_to_one_is_refused(target):
    with pytest.raises(ValueError, match="Target blocking"):
        erlang.smallest_size(1.0, target)


def test_a_load_beyond_any_rentable_pool_is_refused():
    with pytest.raises(erlang.LoadTooLarge):
        erlang.smallest_size(2.0 * erlang.MAX_SERVERS)


def busy_pool(account=None):
    """A pool of 6 active numbers (and 1 inactive) with a known week of leases before NOW:

    - 12 leases starting in PEAK_HOUR, 5 minutes apart, 30 minutes each, the last 2 overflow;
    - 3 leases of 30 minutes in another hour, and 1 live lease of 70 minutes (not ended);
    - 20 overflow leases 8 days ago, outside the window, which would otherwise be the peak;
    - 4 leases of another pool in PEAK_HOUR."""
    campaign = CampaignFactory(**({"account": account} if account else {}))
    pool = PoolFactory(campaign=campaign)
    numbers = [PoolNumberFactory(pool=pool) for _ in range(6)]
    PoolNumberFactory(pool=pool, active=False)
    for i in range(12):  # a number's next lease starts as its last ends: no overlap
        start = PEAK_HOUR + timedelta(minutes=5 * i)
        AssignmentFactory(
            number=numbers[i % 6], starts_at=start, ends_at=start + HALF_HOUR, overflow=i >= 10
        )
    for i in range(3):
        start = datetime(2026, 3, 8, 9, 15 * i, tzinfo=UTC)
        AssignmentFactory(number=numbers[i], starts_at=start, ends_at=start + HALF_HOUR)
    live_start = NOW - timedelta(minutes=30)
    AssignmentFactory(
        number=numbers[3], starts_at=live_start, ends_at=live_start + timedelta(minutes=70)
    )
    old = NOW - timedelta(days=8)
    for _ in range(20):
        AssignmentFactory(number=numbers[0], starts_at=old, ends_at=old + HALF_HOUR, overflow=True)
    other_number = PoolNumberFactory(
        pool=PoolFactory(campaign=CampaignFactory(account=campaign.account))
    )
    for i in range(4):
        start = PEAK_HOUR + timedelta(minutes=i)
        AssignmentFactory(
            number=other_number, starts_at=start, ends_at=start + HALF_HOUR, overflow=True
        )
    return pool


def test_size_pool_measures_the_peak_hour_and_holding_time_and_sizes_by_erlang_b(db):
    pool = busy_pool()

    sized = sizing.size_pool(pool=pool, now=NOW)

    stored = NumberPool.objects.get(pk=pool.pk)
    assert stored.peak_hour_sessions == 12.0
    assert stored.mean_holding_seconds == 1800.0
    assert stored.exhaustion_rate == 2 / 16
    # A = 12 × 1800 / 3600 = 6 erlangs; B(6, 6) = (6⁶/6!) / Σ 6ᵏ/k! = 64.8 / 244.6.
    assert stored.blocking_probability == pytest.approx(64.8 / 244.6)
    assert stored.recommended_size == erlang.smallest_size(6.0) == 13
    assert stored.sized_at == NOW
    assert (sized.recommended_size, sized.sized_at) == (13, NOW)


def test_size_pool_is_idempotent(db):
    pool = busy_pool()
    sizing.size_pool(pool=pool, now=NOW)
    first = NumberPool.objects.values().get(pk=pool.pk)

    sizing.size_pool(pool=pool, now=NOW)

    assert NumberPool.objects.values().get(pk=pool.pk) == first


def test_a_pool_without_traffic_has_no_recommended_size_but_is_marked_sized(db):
    pool = PoolFactory()
    PoolNumberFactory(pool=pool)

    sizing.size_pool(pool=pool, now=NOW)

    stored = NumberPool.objects.get(pk=pool.pk)
    assert stored.recommended_size is None
    assert stored.blocking_probability is None
    assert stored.exhaustion_rate is None
    assert stored.mean_holding_seconds is None
    assert stored.peak_hour_sessions == 0.0
    assert stored.sized_at == NOW


def test_leases_that_started_before_the_window_are_ignored(db):
    pool = busy_pool()

    sizing.size_pool(pool=pool, now=NOW + timedelta(days=30))

    stored = NumberPool.objects.get(pk=pool.pk)
    assert (stored.recommended_size, stored.peak_hour_sessions) == (None, 0.0)


def test_with_no_lease_ended_yet_the_holding_time_is_the_idle_timeout(db):
    pool = PoolFactory(idle_timeout_seconds=600)
    numbers = [PoolNumberFactory(pool=pool) for _ in range(2)]
    for number in numbers:
        AssignmentFactory(
            number=number, starts_at=NOW - timedelta(minutes=5), ends_at=NOW + HALF_HOUR
        )

    sizing.size_pool(pool=pool, now=NOW)

    stored = NumberPool.objects.get(pk=pool.pk)
    assert (stored.peak_hour_sessions, stored.mean_holding_seconds) == (2.0, 600.0)
    assert stored.exhaustion_rate == 0.0
    # A = 2 × 600 / 3600 = 1/3 erlang.
    assert stored.blocking_probability == pytest.approx(erlang_b_by_factorials(2, 1 / 3))
    assert stored.recommended_size == erlang.smallest_size(1 / 3) == 3


def test_size_pools_sizes_every_active_pool_and_only_those(db):
    active = busy_pool()
    inactive = PoolFactory(active=False)

    assert sizing.size_pools(now=NOW) == 2  # busy_pool and its neighbour, not the inactive one

    active.refresh_from_db()
    inactive.refresh_from_db()
    assert (active.recommended_size, active.sized_at) == (13, NOW)
    assert inactive.sized_at is None


def test_size_pools_task_sizes_the_pools(db):
    pool = PoolFactory()

    assert tasks.size_pools_task.apply().get() == 1

    pool.refresh_from_db()
    assert pool.sized_at is not None


def test_exhaustion_by_hour_lists_the_pools_hours_from_since_oldest_first(db):
    pool = PoolFactory()
    other = PoolFactory()
    for hour, count in [
        (PEAK_HOUR + timedelta(hours=2), 4),
        (PEAK_HOUR, 7),
        (PEAK_HOUR - timedelta(hours=1), 9),
    ]:
        PoolExhaustion.objects.create(account=pool.account, pool=pool, hour=hour, count=count)
    PoolExhaustion.objects.create(account=other.account, pool=other, hour=PEAK_HOUR, count=5)

    rows = sizing.exhaustion_by_hour(pool=pool, since=PEAK_HOUR)

    assert [(row.hour, row.count) for row in rows] == [
        (PEAK_HOUR, 7),
        (PEAK_HOUR + timedelta(hours=2), 4),
    ]


def test_the_pool_api_shows_the_recommended_size(api, account):
    pool = busy_pool(account)
    sizing.size_pool(pool=pool, now=NOW)

    response = api.get(f"/api/v1/pools/{pool.pk}/")

    assert response.status_code == 200
    assert response.json()["recommended_size"] == 13


def recent_pool(account):
    """A pool of 2 numbers with 3 ended 30-minute leases in one hour of the last day."""
    pool = PoolFactory(campaign=CampaignFactory(account=account))
    numbers = [PoolNumberFactory(pool=pool) for _ in range(2)]
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    for i in range(3):
        start = hour + timedelta(minutes=10 * i)
        overflow = i == 2
        AssignmentFactory(
            number=numbers[i % 2], starts_at=start, ends_at=start + HALF_HOUR, overflow=overflow
        )
    return pool


def pool_admin_url(view: str) -> str:
    return reverse(f"admin:campaigns_numberpool_{view}")


def test_the_recompute_action_sizes_the_selected_pools_and_the_list_shows_the_figures(
    admin_client, account
):
    pool = recent_pool(account)
    untouched = PoolFactory(campaign=CampaignFactory(account=account))

    response = admin_client.post(
        pool_admin_url("changelist"),
        {"action": "recompute_size", "_selected_action": [pool.pk]},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [
        "Recomputed the recommended size of 1 pool(s)."
    ]
    pool.refresh_from_db()
    untouched.refresh_from_db()
    # A = 3 × 1800 / 3600 = 1.5 erlangs: 6 numbers for under 1%; B(2, 1.5) = 1.125 / 3.625.
    assert (pool.recommended_size, pool.peak_hour_sessions) == (6, 3.0)
    assert untouched.sized_at is None
    page = response.content.decode()
    assert f"{1.125 / 3.625:.2%}" in page  # 31.03%
    assert "33.33%" in page  # exhaustion: 1 of 3
    assert "0:30:00" in page


def test_staff_cannot_recompute_another_accounts_pool(
    client, django_user_model, other_account, account
):
    user = django_user_model.objects.create_user("dave", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="campaigns"))
    services.add_member(account=other_account, user=user)
    client.force_login(user)
    theirs = recent_pool(account)

    response = client.post(
        pool_admin_url("changelist"),
        {"action": "recompute_size", "_selected_action": [theirs.pk]},
        follow=True,
    )

    assert response.status_code == 200
    theirs.refresh_from_db()
    assert theirs.sized_at is None


def test_the_pool_change_page_shows_the_sizing_read_only(admin_client, account):
    pool = recent_pool(account)
    sizing.size_pool(pool=pool)

    response = admin_client.get(reverse("admin:campaigns_numberpool_change", args=[pool.pk]))

    form = response.context["adminform"].form
    assert "recommended_size" not in form.fields
    assert "peak_hour_sessions" not in form.fields
    assert "sized_at" not in form.fields
    assert "Recommended size" in response.content.decode()
    add_form = admin_client.get(pool_admin_url("add")).context["adminform"].form
    assert "blocking_probability" not in add_form.fields
