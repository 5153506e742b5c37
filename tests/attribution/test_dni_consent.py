"""`POST /dni/v1/sessions` with `consent: false`: a session that belongs to no visitor.

Without consent the server stores no visitor id (NULL) and answers `visitor_id: null`; such a
session is a journey of its own for the attribution models and the call context."""

import datetime as dt
import uuid
from collections import Counter

import pytest
from django.core.cache import cache

from attribution.credits import selectors, services
from attribution.credits.markov import CONVERSION, NULL, START
from attribution.models import Touchpoint, VisitorSession
from calls.context import call_context
from tests.attribution.dni_helpers import ORIGIN, browser, post
from tests.factories import (
    AccountFactory,
    CallFactory,
    CampaignFactory,
    PoolFactory,
    PoolNumberFactory,
    SessionFactory,
)

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def account(db):
    account = AccountFactory(allowed_origins=[ORIGIN])
    pool = PoolFactory(campaign=CampaignFactory(account=account, channel="direct"), is_default=True)
    PoolNumberFactory(pool=pool, e164="+12125550142")
    return account


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def ask(account, **fields):
    return post(browser(), {"key": account.public_key, "url": f"{ORIGIN}/", **fields})


def test_without_consent_the_session_has_no_visitor_and_still_a_number(account):
    response = ask(account, consent=False)
    assert response.status_code == 201
    body = response.json()
    assert body["visitor_id"] is None
    assert body["number"] == {"e164": "+12125550142", "display": "(212) 555-0142"}
    session = VisitorSession.objects.get()
    assert str(session.pk) == body["session_id"]
    assert session.visitor_id is None


def test_consent_true_or_absent_keeps_the_visitor_id(account):
    assert ask(account, consent=True, visitor_id="visitor-0001").json()["visitor_id"] == (
        "visitor-0001"
    )
    minted = ask(account).json()["visitor_id"]
    assert len(minted) == 32
    assert sorted(VisitorSession.objects.values_list("visitor_id", flat=True)) == sorted(
        ["visitor-0001", minted]
    )


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"consent": "false"}, "consent", "Expected true or false."),
        ({"consent": 0}, "consent", "Expected true or false."),
        ({"consent": None}, "consent", "Expected true or false."),
        (
            {"consent": False, "visitor_id": "visitor-0001"},
            "visitor_id",
            "Send no visitor_id with consent: false.",
        ),
    ],
)
def test_a_bad_consent_flag_is_400_and_stores_nothing(account, fields, field, message):
    response = ask(account, **fields)
    assert response.status_code == 400
    assert response.json()["errors"] == {field: [message]}
    assert not VisitorSession.objects.exists()


def test_a_renewal_without_consent_keeps_the_session_without_a_visitor(account):
    session_id = ask(account, consent=False).json()["session_id"]
    renewal = ask(account, consent=False, session_id=session_id)
    assert renewal.status_code == 200
    assert renewal.json()["session_id"] == session_id
    assert renewal.json()["visitor_id"] is None
    assert VisitorSession.objects.get().visitor_id is None


def test_consent_given_later_gives_the_session_the_visitor_id_it_brings(account):
    session_id = ask(account, consent=False).json()["session_id"]
    renewal = ask(account, session_id=session_id, visitor_id="returning-visitor")
    assert renewal.status_code == 200
    assert renewal.json()["visitor_id"] == "returning-visitor"
    assert VisitorSession.objects.get().visitor_id == "returning-visitor"


def test_consent_given_later_without_a_stored_id_mints_one(account):
    session_id = ask(account, consent=False).json()["session_id"]
    minted = ask(account, session_id=session_id).json()["visitor_id"]
    assert len(minted) == 32
    assert VisitorSession.objects.get().visitor_id == minted
    # Later renewals keep it, whatever id they bring.
    again = ask(account, session_id=session_id, visitor_id="another-visitor")
    assert again.json()["visitor_id"] == minted


def test_consent_withdrawn_answers_no_visitor_id_and_keeps_the_session_as_it_was(account):
    first = ask(account, visitor_id="visitor-0001").json()
    renewal = ask(account, consent=False, session_id=first["session_id"])
    assert renewal.status_code == 200
    assert renewal.json()["visitor_id"] is None
    assert renewal.json()["number"] == first["number"]
    assert VisitorSession.objects.get().visitor_id == "visitor-0001"


def test_sessions_without_a_visitor_are_journeys_of_their_own(account):
    a = CampaignFactory(account=account, name="A")
    b = CampaignFactory(account=account, name="B")
    at = NOW - dt.timedelta(days=1)
    SessionFactory(account=account, visitor_id=None, campaign=a, started_at=at - dt.timedelta(1))
    own = SessionFactory(account=account, visitor_id=None, campaign=b, started_at=at)
    SessionFactory(account=account, visitor_id=None, campaign=a, started_at=at)
    call = CallFactory(account=account, session=own, campaign=b, started_at=at)

    services.recompute_credits(account=account, call_ids=[call.pk])
    touches = Touchpoint.objects.filter(call=call)
    assert list(touches.values_list("session_id", "campaign_id", "last_touch", "linear")) == [
        (own.pk, b.pk, 1, 1)
    ]
    # Not one visitor's journey A → B → A: one converting B and two lone A visits.
    assert selectors.transition_counts(account=account, now=NOW) == Counter(
        {(START, b.pk): 1, (b.pk, CONVERSION): 1, (START, a.pk): 2, (a.pk, NULL): 2}
    )
    assert call_context(account=account, call_id=call.pk)["earlier_sessions"] == []


def test_an_unknown_session_id_without_consent_starts_a_session_without_a_visitor(account):
    response = ask(account, consent=False, session_id=str(uuid.uuid4()))
    assert response.status_code == 201
    assert VisitorSession.objects.get().visitor_id is None
