"""`GET /api/v1/calls/{id}/context/`: the caller's journey for a CRM screen pop."""

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from calls.models import CallStatus, Confidence
from campaigns.models import Channel, Role
from tests.factories import (
    CallFactory,
    CampaignFactory,
    KeywordFactory,
    OutcomeFactory,
    PoolNumberFactory,
    SessionFactory,
)

CALLER = "+14155552671"
T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)


def url(call) -> str:
    return f"/api/v1/calls/{call.pk}/context/"


@pytest.fixture
def journey(account, other_account):
    """Alice's caller: two earlier visits, the visit that showed the number, one earlier call
    with a won deal; plus noise that must not show (later, other visitor, other account)."""
    search = CampaignFactory(account=account, name="Search", channel=Channel.PAID_SEARCH)
    email = CampaignFactory(account=account, name="Newsletter", channel=Channel.EMAIL)
    keyword = KeywordFactory(campaign=search, text="emergency plumber")
    number = PoolNumberFactory(pool__campaign=search, e164="+12125550188")
    first = SessionFactory(
        account=account,
        visitor_id="v-1",
        started_at=T0 - dt.timedelta(days=3),
        landing_url="https://plumb.example/",
        channel="direct",
    )
    second = SessionFactory(
        account=account,
        visitor_id="v-1",
        started_at=T0 - dt.timedelta(days=1),
        landing_url="https://plumb.example/?utm_campaign=news",
        campaign=email,
        channel="email",
    )
    session = SessionFactory(
        account=account,
        visitor_id="v-1",
        started_at=T0 - dt.timedelta(minutes=5),
        landing_url="https://plumb.example/emergency?gclid=G-1&utm_source=google",
        referrer="https://www.google.com/",
        channel="paid_search",
        campaign=search,
        keyword=keyword,
        gclid="G-1",
        utm_source="google",
        utm_medium="cpc",
        utm_campaign="search",
        utm_term="emergency plumber",
    )
    SessionFactory(account=account, visitor_id="v-1", started_at=T0 + dt.timedelta(hours=1))
    SessionFactory(account=account, visitor_id="v-2", started_at=T0 - dt.timedelta(days=2))
    SessionFactory(account=other_account, visitor_id="v-1", started_at=T0 - dt.timedelta(days=2))
    earlier = CallFactory(
        account=account,
        caller_e164=CALLER,
        started_at=T0 - dt.timedelta(days=2),
        status=CallStatus.MISSED,
        duration_seconds=45,
        campaign=email,
        confidence=Confidence.SOURCE,
    )
    call = CallFactory(
        account=account,
        provider="twilio",
        external_id="CA-now",
        tracking_number=number,
        tracking_e164=number.e164,
        caller_e164=CALLER,
        caller_raw="(415) 555-2671",
        started_at=T0,
        status=CallStatus.RINGING,
        duration_seconds=0,
        session=session,
        campaign=search,
        keyword=keyword,
        confidence=Confidence.EXACT,
    )
    CallFactory(account=account, caller_e164=CALLER, started_at=T0 + dt.timedelta(hours=1))
    unrelated = CallFactory(account=account, caller_e164="+14155550123", started_at=T0)
    CallFactory(account=other_account, caller_e164=CALLER, started_at=T0 - dt.timedelta(days=1))
    won = OutcomeFactory(
        account=account,
        call=earlier,
        external_id="deal-won",
        stage="won",
        value=Decimal("1234.5050"),
        currency="USD",
        occurred_at=T0 - dt.timedelta(days=1, hours=20),
    )
    OutcomeFactory(account=account, call=unrelated)
    return {
        "call": call,
        "session": session,
        "first": first,
        "second": second,
        "earlier": earlier,
        "won": won,
        "search": search,
        "email": email,
        "keyword": keyword,
    }


def test_context_shows_the_callers_whole_journey(api_for, account, journey):
    j = journey
    # A CRM's screen pop: an integration key (a reporting key gets the numbers masked).
    response = api_for(account, Role.INTEGRATION).get(url(j["call"]))
    assert response.status_code == 200
    assert response.json() == {
        "call": {
            "id": j["call"].pk,
            "provider": "twilio",
            "external_id": "CA-now",
            "started_at": "2026-03-02T15:00:00Z",
            "status": "ringing",
            "tracking_number": "+12125550188",
            "caller_number": CALLER,
            "caller_raw": "(415) 555-2671",
            "duration_seconds": 0,
            "talk_seconds": None,
            "spam": False,
        },
        "attribution": {
            "campaign": j["search"].pk,
            "campaign_name": "Search",
            "keyword": j["keyword"].pk,
            "keyword_text": "emergency plumber",
            "confidence": "exact",
            "session": str(j["session"].pk),
        },
        "session": {
            "id": str(j["session"].pk),
            "visitor_id": "v-1",
            "started_at": "2026-03-02T14:55:00Z",
            "landing_url": "https://plumb.example/emergency?gclid=G-1&utm_source=google",
            "referrer": "https://www.google.com/",
            "channel": "paid_search",
            "gclid": "G-1",
            "gbraid": "",
            "wbraid": "",
            "msclkid": "",
            "fbclid": "",
            "utm_source": "google",
            "utm_medium": "cpc",
            "utm_campaign": "search",
            "utm_term": "emergency plumber",
            "utm_content": "",
        },
        "earlier_sessions": [
            {
                "id": str(j["second"].pk),
                "started_at": "2026-03-01T15:00:00Z",
                "landing_url": "https://plumb.example/?utm_campaign=news",
                "campaign": j["email"].pk,
                "campaign_name": "Newsletter",
                "channel": "email",
            },
            {
                "id": str(j["first"].pk),
                "started_at": "2026-02-27T15:00:00Z",
                "landing_url": "https://plumb.example/",
                "campaign": None,
                "campaign_name": None,
                "channel": "direct",
            },
        ],
        "earlier_calls": [
            {
                "id": j["earlier"].pk,
                "started_at": "2026-02-28T15:00:00Z",
                "status": "missed",
                "campaign": j["email"].pk,
                "campaign_name": "Newsletter",
                "duration_seconds": 45,
                "spam": False,
            }
        ],
        "outcomes": [
            {
                "id": j["won"].pk,
                "call": j["earlier"].pk,
                "crm": "hubspot",
                "external_id": "deal-won",
                "stage": "won",
                "value": "1234.51",
                "currency": "USD",
                "occurred_at": "2026-02-28T19:00:00Z",
            }
        ],
    }


def test_a_call_without_session_or_caller_id_has_an_empty_journey(api, account):
    call = CallFactory(account=account, caller_e164="", caller_raw="anonymous", started_at=T0)
    CallFactory(
        account=account,
        caller_e164="",
        caller_raw="anonymous",
        started_at=T0 - dt.timedelta(hours=1),
    )
    body = api.get(url(call)).json()
    assert body["call"]["caller_number"] is None
    assert body["call"]["caller_raw"] == "anonymous"
    assert body["attribution"] == {
        "campaign": None,
        "campaign_name": None,
        "keyword": None,
        "keyword_text": None,
        "confidence": "none",
        "session": None,
    }
    assert body["session"] is None
    assert body["earlier_sessions"] == []
    assert body["earlier_calls"] == []
    assert body["outcomes"] == []


def test_another_accounts_call_is_404(api_for, other_account, journey):
    response = api_for(other_account).get(url(journey["call"]))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_unknown_call_is_404(api, db):
    assert api.get("/api/v1/calls/987654321/context/").status_code == 404


def test_context_needs_a_key(journey):
    assert APIClient().get(url(journey["call"])).status_code in (401, 403)


def test_context_answers_in_a_bounded_number_of_queries(
    api, account, journey, django_assert_max_num_queries
):
    for days in range(2, 30):  # a long history must not cost more queries
        earlier = CallFactory(
            account=account,
            caller_e164=CALLER,
            started_at=T0 - dt.timedelta(days=days, minutes=1),
            campaign=journey["search"],
        )
        OutcomeFactory(account=account, call=earlier)
        SessionFactory(
            account=account,
            visitor_id="v-1",
            campaign=journey["email"],
            started_at=T0 - dt.timedelta(days=days, minutes=2),
        )
    api.get(url(journey["call"]))  # the key's first use records its last use
    # the key with its account, the call with its joins, sessions, calls, outcomes; the audit
    with django_assert_max_num_queries(6):
        body = api.get(url(journey["call"])).json()
    assert len(body["earlier_sessions"]) == 10
    assert len(body["earlier_calls"]) == 10
    assert len(body["outcomes"]) == 10
