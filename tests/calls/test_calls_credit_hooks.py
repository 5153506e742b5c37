"""Every way a call comes in leaves it with its attribution credits once the transaction
commits: the visitor's earlier session and the call's own one, each model summing to 1."""

import datetime as dt
from decimal import Decimal

import pytest

from attribution.models import AttributionModel, Touchpoint
from tests.factories import (
    AssignmentFactory,
    CampaignFactory,
    PoolFactory,
    PoolNumberFactory,
    SessionFactory,
)

T = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def journey(account):
    """A visitor who came from Social a day before, then from Search, and called the number
    Search's session was holding."""
    social, search = (CampaignFactory(account=account, name=n) for n in ("Social", "Search"))
    SessionFactory(account=account, visitor_id="v1", campaign=social,
                   started_at=T - dt.timedelta(days=1))  # fmt: skip
    number = PoolNumberFactory(pool=PoolFactory(campaign=search))
    own = SessionFactory(account=account, visitor_id="v1", campaign=search,
                         started_at=T - dt.timedelta(minutes=5))  # fmt: skip
    AssignmentFactory(number=number, session=own, starts_at=own.started_at)
    return number, social, search


def call(number, external_id="c1", **extra):
    return {"provider": "acme", "external_id": external_id, "tracking_number": number.e164,
            "caller_number": "+14155552671", "started_at": T.isoformat(),
            "duration_seconds": 90, "status": "answered", **extra}  # fmt: skip


def credits(external_id="c1") -> list[tuple]:
    rows = Touchpoint.objects.filter(call__external_id=external_id).order_by("position")
    return [(t.campaign.name, t.last_touch, t.first_touch, t.linear) for t in rows]


def test_a_posted_call_gets_its_credits_after_commit(
    api, journey, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/calls/", call(journey[0])).status_code == 201
    half = Decimal("0.5")
    assert credits() == [("Social", 0, 1, half), ("Search", 1, 0, half)]
    for model in AttributionModel.values:
        assert sum(Touchpoint.objects.values_list(model, flat=True)) == 1


def test_calls_posted_as_a_list_get_their_credits(api, journey, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        body = [call(journey[0]), call(journey[0], "c2", started_at="2026-11-03T15:00:00Z")]
        assert api.post("/api/v1/calls/", body).status_code == 201
    assert [name for name, *_ in credits("c1")] == ["Social", "Search"]
    assert [name for name, *_ in credits("c2")] == ["Search"]  # no lease then: the pool's own


def test_a_replayed_call_queues_no_recompute(api, journey, django_capture_on_commit_callbacks):
    api.post("/api/v1/calls/", call(journey[0]))
    with django_capture_on_commit_callbacks() as queued:
        assert api.post("/api/v1/calls/", call(journey[0])).status_code == 200
    assert queued == []
