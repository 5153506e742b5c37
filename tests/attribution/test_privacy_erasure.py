"""POST /api/v1/privacy/erasure/: one person erased everywhere in the account, every report
figure kept, nothing of them left in any column of the database."""

import hashlib
import json

import pytest
from django.conf import settings

from attribution.conversions import services as outbox
from attribution.models import Conversion, Outcome, OutcomeChange, VisitorSession
from attribution.privacy import pseudonyms, services
from calls.models import Call
from campaigns.audit.models import AuditEvent
from campaigns.models import IdempotencyKey, Role
from tests.attribution.conversion_helpers import make_destination, won_rule
from tests.attribution.privacy_helpers import found_anywhere, rollup_callers
from tests.attribution.report_helpers import build_world, utc
from tests.factories import IdempotencyKeyFactory, OutcomeFactory, SessionFactory

URL = "/api/v1/privacy/erasure/"
PERSON, EMAIL = "+14155550001", "Pat.Smith@Example.com"
GCLID, IP, AGENT = "gclid-pat-123456", "203.0.113.77", "Mozilla/5.0 (Pat's laptop)"
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE" + "ab" * 16


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# Everything that identifies Pat, in every form we store or sent: the number (E.164, digits,
# as typed), the email, the platforms' SHA-256 of both, click id, IP, browser, visitor id.
NEEDLES = [
    PERSON,
    PERSON[1:],
    "(415) 555-0001",
    EMAIL.lower(),
    sha(PERSON),
    sha(PERSON[1:]),
    sha(EMAIL.lower()),
    GCLID,
    IP,
    AGENT,
    "pat-visitor-0001",
]


@pytest.fixture
def world(account):
    """report_helpers' world (Pat is caller 0001: calls A, C and X) with Pat's sessions, an
    unmatched outcome, outbox rows (one already sent) and a stored API answer."""
    built = build_world(account)
    own = SessionFactory(
        account=account,
        visitor_id="pat-visitor-0001",
        email=EMAIL,
        ip=IP,
        user_agent=AGENT,
        gclid=GCLID,
        landing_url=f"https://www.example.com/boiler?gclid={GCLID}&email={EMAIL}",
        referrer="https://www.google.com/search?q=boiler",
        started_at=utc(2, 5),
    )
    SessionFactory(account=account, visitor_id="pat-visitor-0001", started_at=utc(1, 9))
    SessionFactory(account=account, visitor_id="someone-else-0002", email="lee@example.org")
    Call.objects.filter(pk=built.calls["A"].pk).update(
        session=own, recording_url=RECORDING, caller_raw="(415) 555-0001"
    )
    lead = OutcomeFactory(
        account=account, crm="hubspot", caller_e164=PERSON, email=EMAIL, stage="lead"
    )
    OutcomeChange.objects.create(
        outcome=lead, changed_at=utc(2, 6), actor="system", changes={"email": ["", EMAIL]}
    )
    make_destination(account, "meta", rules=[won_rule("Purchase")])
    make_destination(account, "webhook", rules=[won_rule("deal.won")])
    outbox.enqueue_for_outcomes(
        account=account, outcome_ids=Outcome.objects.values_list("pk", flat=True)
    )
    x_won = Outcome.objects.get(call__external_id="X")
    Conversion.objects.filter(outcome=x_won, destination__kind="meta").update(status="sent")
    IdempotencyKeyFactory(
        account=account, response_body=json.dumps({"caller_number": PERSON, "id": 1})
    )
    return built


def roi(api, group_by: str) -> dict:
    response = api.get(
        "/api/v1/reports/roi/",
        {"start": "2026-03-01", "end": "2026-03-05", "group_by": group_by, "model": "linear"},
    )
    assert response.status_code == 200
    body = response.json()
    return {"rows": body["rows"], "totals": body["totals"]}


def test_erasure_answers_exact_counts_of_what_it_touched(api, world):
    response = api.post(URL, {"phone_number": "(415) 555-0001", "email": EMAIL})
    assert response.status_code == 200
    body = response.json()
    assert len(body.pop("erasure_id")) == 32
    assert body.pop("note").startswith("Recording URLs were removed here")
    assert body == {
        "calls": 3,  # A, C, X
        "sessions": 2,  # A's, and the same visitor's earlier one
        "outcomes": 3,  # A's won, X's won, the unmatched lead
        "outcome_changes": 1,
        "conversions": 4,  # A's and X's won rows, to Meta and the webhook
        "conversions_skipped": 3,  # X's Meta row was sent already
        "recordings": 1,
        "recordings_at_provider": ["RE" + "ab" * 16],
        "stored_responses": 1,
        "blocklist_entries_kept": 0,
    }


def test_nothing_of_the_person_is_left_in_any_column(api, account, world):
    assert found_anywhere(NEEDLES)  # the search sees them before
    assert 14155550001 in rollup_callers(account) or not rollup_callers(account)
    assert api.post(URL, {"phone_number": PERSON, "email": EMAIL}).status_code == 200
    assert found_anywhere(NEEDLES) == []
    assert 14155550001 not in rollup_callers(account)


def test_report_figures_are_identical_before_and_after(api, world):
    before = {group: roi(api, group) for group in ("campaign", "day", "channel")}
    assert before["campaign"]["totals"]["unique_callers"] == 2
    assert api.post(URL, {"phone_number": PERSON, "email": EMAIL}).status_code == 200
    assert {group: roi(api, group) for group in ("campaign", "day", "channel")} == before


def test_calls_share_one_pseudonym_and_others_are_untouched(api, account, world):
    others = list(
        Call.objects.exclude(caller_e164=PERSON).values_list("external_id", "caller_e164")
    )
    untouched = VisitorSession.objects.get(visitor_id="someone-else-0002")
    assert api.post(URL, {"phone_number": PERSON}).status_code == 200
    erased = set(
        Call.objects.filter(external_id__in=["A", "C", "X"]).values_list("caller_e164", flat=True)
    )
    assert len(erased) == 1
    (pseudonym,) = erased
    assert pseudonym.startswith("+999")
    assert len(pseudonym) == 16
    assert set(
        Call.objects.exclude(external_id__in=["A", "C", "X"]).values_list(
            "external_id", "caller_e164"
        )
    ) == set(others)
    assert VisitorSession.objects.get(pk=untouched.pk).email == "lee@example.org"
    session = VisitorSession.objects.get(calls__external_id="A")
    assert (session.ip, session.user_agent, session.gclid) == (None, "", "")
    assert session.landing_url == "https://www.example.com/boiler"
    assert session.visitor_id.startswith("erased-")
    assert VisitorSession.objects.filter(visitor_id=session.visitor_id).count() == 2


def test_unsent_outbox_rows_are_skipped_and_sent_ones_scrubbed(api, world):
    assert api.post(URL, {"phone_number": PERSON, "email": EMAIL}).status_code == 200
    rows = Conversion.objects.filter(outcome__call__external_id__in=["A", "X"]).order_by(
        "outcome__call__external_id", "destination__kind"
    )
    assert [(r.outcome.call.external_id, r.destination.kind, r.status) for r in rows] == [
        ("A", "meta", "skipped"),
        ("A", "webhook", "skipped"),
        ("X", "meta", "sent"),
        ("X", "webhook", "skipped"),
    ]
    assert rows[0].skip_reason == services.ERASED_REASON
    assert rows[2].payload["user_data"] == {"ph": []}
    assert rows[3].payload["data"]["caller_number"] is None
    other = Conversion.objects.get(outcome__call__external_id="B", destination__kind="meta")
    assert other.status == "pending"
    assert other.payload["user_data"]["ph"] == [sha("14155550002")]


def test_a_second_erasure_touches_nothing(api, world):
    assert api.post(URL, {"phone_number": PERSON, "email": EMAIL}).status_code == 200
    snapshot = list(Call.objects.order_by("pk").values_list("caller_e164", flat=True))
    again = api.post(URL, {"phone_number": PERSON, "email": EMAIL})
    assert again.status_code == 200
    body = again.json()
    assert {k: v for k, v in body.items() if k not in ("erasure_id", "note")} == {
        "calls": 0,
        "sessions": 0,
        "outcomes": 0,
        "outcome_changes": 0,
        "conversions": 0,
        "conversions_skipped": 0,
        "recordings": 0,
        "recordings_at_provider": [],
        "stored_responses": 0,
        "blocklist_entries_kept": 0,
    }
    assert list(Call.objects.order_by("pk").values_list("caller_e164", flat=True)) == snapshot
    assert AuditEvent.objects.filter(action="erase").count() == 2


def test_an_idempotency_key_replays_the_answer_and_stores_no_personal_data(api, world):
    headers = {"HTTP_IDEMPOTENCY_KEY": "erase-pat-1"}
    first = api.post(URL, {"phone_number": PERSON}, **headers)
    replay = api.post(URL, {"phone_number": PERSON}, **headers)
    assert first.status_code == replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    stored = IdempotencyKey.objects.get(key="erase-pat-1")
    assert PERSON not in stored.response_body
    assert PERSON[1:] not in stored.response_body


def test_the_audit_event_names_the_request_by_hashes_only(api, account, world):
    response = api.post(URL, {"phone_number": PERSON, "email": EMAIL})
    event = AuditEvent.objects.get(action="erase")
    assert (event.account_id, event.resource, event.actor_kind) == (
        account.pk,
        "privacy",
        "api_key",
    )
    assert event.object_id == response.json()["erasure_id"]
    secret = settings.SECRET_KEY.encode()
    assert event.detail["phone_hmac"] == pseudonyms.request_digest("phone", PERSON, key=secret)
    assert event.detail["email_hmac"] == pseudonyms.request_digest(
        "email", EMAIL.lower(), key=secret
    )
    assert event.detail["touched"]["calls"] == 3
    text = json.dumps(event.detail)
    assert not [n for n in NEEDLES if n.lower() in text.lower()]


@pytest.mark.parametrize("role", [Role.INTEGRATION, Role.REPORTING, Role.FINANCE])
def test_only_an_admin_key_may_erase(api_for, account, world, role):
    response = api_for(account, role).post(URL, {"phone_number": PERSON})
    assert response.status_code == 403
    assert Call.objects.filter(caller_e164=PERSON).count() == 3
    assert not AuditEvent.objects.filter(action="erase").exists()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"phone_number": "12ab"}, "phone_number", "'12ab' is not a phone number"),
        ({"phone_number": "+1 555"}, "phone_number", "'+1 555' is not a valid phone number"),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({}, "phone_number", "Send phone_number, email or both."),
    ],
)
def test_bad_input_is_400_and_changes_nothing(api, world, body, field, message):
    response = api.post(URL, body)
    assert response.status_code == 400
    assert response.json()["errors"] == {field: [message]}
    assert Call.objects.filter(caller_e164=PERSON).count() == 3
    assert VisitorSession.objects.filter(email=EMAIL).count() == 1
    assert not AuditEvent.objects.filter(action="erase").exists()


def test_another_accounts_person_is_not_touched(api_for, account, other_account, world):
    response = api_for(other_account).post(URL, {"phone_number": PERSON, "email": EMAIL})
    assert response.status_code == 200
    assert response.json()["calls"] == 0
    assert Call.objects.filter(account=account, caller_e164=PERSON).count() == 3


def test_a_blocklist_entry_is_kept_and_counted(api, account, world):
    assert api.post("/api/v1/blocklist/", {"e164": PERSON}).status_code == 201
    body = api.post(URL, {"phone_number": PERSON}).json()
    assert body["blocklist_entries_kept"] == 1
    assert [t for t, *_ in found_anywhere([PERSON])] == ["calls_blockednumber"]
