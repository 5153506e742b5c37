"""Outcome to call (PRODUCT.md): by the named call, by caller phone in any format, by email,
within the match window, spam skipped; and outcomes that arrive before their call, matched by
`match_waiting_outcomes` when it comes."""

from datetime import UTC, datetime, timedelta

import pytest

from attribution.models import Outcome, OutcomeChange
from attribution.outcomes import matching, rules
from calls.models import SpamReason
from tests.factories import CallFactory, OutcomeFactory, SessionFactory

T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
CALLER = "+14155552671"


def outcome(api, **extra) -> dict:
    body = {
        "crm": "hubspot",
        "external_id": "D1",
        "stage": "lead",
        "occurred_at": T0.isoformat(),
        **extra,
    }
    response = api.post("/api/v1/outcomes/", body)
    assert response.status_code in (200, 201), response.content
    return response.json()


@pytest.mark.parametrize(
    "caller", ["+14155552671", "(415) 555-2671", "415.555.2671", "1-415-555-2671", "4155552671"]
)
def test_an_outcome_finds_its_callers_call_whatever_the_number_format(api, account, caller):
    call = CallFactory(account=account, caller_e164=CALLER, started_at=T0 - timedelta(days=2))
    body = outcome(api, caller_number=caller)
    assert (body["call"], body["match_method"], body["caller_number"]) == (call.pk, "phone", CALLER)


def test_a_national_number_is_read_with_the_accounts_region(api, account):
    account.region = "GB"
    account.save()
    call = CallFactory(account=account, caller_e164="+442071838750", started_at=T0)
    assert outcome(api, caller_number="020 7183 8750")["call"] == call.pk


def test_the_most_recent_non_spam_call_at_or_before_the_outcome_wins(api, account):
    CallFactory(account=account, caller_e164=CALLER, started_at=T0 - timedelta(days=3))
    latest = CallFactory(account=account, caller_e164=CALLER, started_at=T0 - timedelta(hours=2))
    CallFactory(
        account=account,
        caller_e164=CALLER,
        started_at=T0 - timedelta(hours=1),
        spam=True,
        spam_reason=SpamReason.AUTO,
    )
    CallFactory(account=account, caller_e164=CALLER, started_at=T0 + timedelta(seconds=1))
    CallFactory(caller_e164=CALLER, started_at=T0 - timedelta(minutes=1))  # another account's
    assert outcome(api, caller_number=CALLER)["call"] == latest.pk


def test_a_call_exactly_at_the_windows_start_is_matched(api, account):
    call = CallFactory(account=account, caller_e164=CALLER, started_at=T0 - timedelta(days=30))
    assert outcome(api, caller_number=CALLER)["call"] == call.pk


def test_a_call_one_second_outside_the_window_is_not(api, account):
    CallFactory(account=account, caller_e164=CALLER, started_at=T0 - timedelta(days=30, seconds=1))
    body = outcome(api, caller_number=CALLER)
    assert (body["call"], body["match_method"]) == (None, "unmatched")


def test_a_call_at_the_outcomes_moment_is_matched_and_one_after_it_is_not(api, account):
    at = CallFactory(account=account, caller_e164=CALLER, started_at=T0)
    assert outcome(api, caller_number=CALLER)["call"] == at.pk
    at.delete()
    CallFactory(account=account, caller_e164=CALLER, started_at=T0 + timedelta(seconds=1))
    assert outcome(api, external_id="D2", caller_number=CALLER)["match_method"] == "unmatched"


def test_the_window_is_the_accounts_setting(api, account):
    account.match_window_days = 7
    account.save()
    CallFactory(account=account, caller_e164=CALLER, started_at=T0 - timedelta(days=8))
    assert outcome(api, caller_number=CALLER)["match_method"] == "unmatched"


def test_only_spam_calls_from_the_caller_leave_the_outcome_unmatched(api, account):
    CallFactory(account=account, caller_e164=CALLER, started_at=T0, spam=True, spam_reason="user")
    assert outcome(api, caller_number=CALLER)["match_method"] == "unmatched"


def test_an_outcome_finds_a_call_by_its_sessions_email_in_any_case(api, account):
    session = SessionFactory(account=account, email="Ada@Example.com")
    call = CallFactory(account=account, session=session, caller_e164="", started_at=T0)
    body = outcome(api, email="ada@EXAMPLE.com")
    assert (body["call"], body["match_method"], body["email"]) == (
        call.pk,
        "email",
        "ada@example.com",
    )


def test_an_outcome_finds_a_call_by_an_earlier_outcomes_email(api, account):
    call = CallFactory(account=account, started_at=T0 - timedelta(days=1))
    outcome(api, external_id="D1", call=call.pk, email="ada@example.com")
    body = outcome(api, external_id="D2", email="ada@example.com")
    assert (body["call"], body["match_method"]) == (call.pk, "email")


def test_email_matching_keeps_to_the_window_and_skips_spam(api, account):
    session = SessionFactory(account=account, email="ada@example.com")
    CallFactory(account=account, session=session, started_at=T0 - timedelta(days=31))
    CallFactory(account=account, session=session, started_at=T0, spam=True, spam_reason="user")
    assert outcome(api, email="ada@example.com")["match_method"] == "unmatched"


def test_a_phone_match_beats_an_email_match(api, account):
    session = SessionFactory(account=account, email="ada@example.com")
    CallFactory(account=account, session=session, caller_e164="", started_at=T0)
    by_phone = CallFactory(account=account, caller_e164=CALLER, started_at=T0 - timedelta(days=1))
    body = outcome(api, caller_number=CALLER, email="ada@example.com")
    assert (body["call"], body["match_method"]) == (by_phone.pk, "phone")


def test_a_named_call_beats_everything_even_spam_and_clears_its_automatic_mark(api, account):
    named = CallFactory(
        account=account, started_at=T0 - timedelta(days=90), spam=True, spam_reason="auto"
    )
    CallFactory(account=account, caller_e164=CALLER, started_at=T0)
    body = outcome(api, call=named.pk, caller_number=CALLER)
    assert (body["call"], body["match_method"]) == (named.pk, "call")
    named.refresh_from_db()
    assert (named.spam, named.spam_reason) == (False, SpamReason.CLEARED)


def test_a_users_spam_mark_stays_when_an_outcome_names_the_call(api, account):
    named = CallFactory(account=account, spam=True, spam_reason=SpamReason.USER)
    outcome(api, call=named.pk)
    named.refresh_from_db()
    assert (named.spam, named.spam_reason) == (True, SpamReason.USER)


def test_a_later_report_keeps_the_call_and_a_new_caller_number_matches_again(api, account):
    first = CallFactory(account=account, caller_e164=CALLER, started_at=T0 - timedelta(hours=1))
    assert outcome(api, caller_number=CALLER)["call"] == first.pk
    # A newer call from the caller before the deal is won does not take the deal over...
    CallFactory(account=account, caller_e164=CALLER, started_at=T0 + timedelta(hours=1))
    won = outcome(api, stage="won", occurred_at=(T0 + timedelta(days=1)).isoformat())
    assert (won["call"], won["match_method"]) == (first.pk, "phone")
    # ...but a corrected caller number is matched again.
    other = CallFactory(account=account, caller_e164="+12025550111", started_at=T0)
    fixed = outcome(
        api,
        stage="won",
        occurred_at=(T0 + timedelta(days=1)).isoformat(),
        caller_number="+12025550111",
    )
    assert (fixed["call"], fixed["match_method"]) == (other.pk, "phone")


# Outcomes first, calls later: match_waiting_outcomes, as the call ingestion path runs it.


def test_an_outcome_posted_before_its_call_is_matched_when_the_call_arrives(api, account):
    body = outcome(api, caller_number="(415) 555-2671")
    assert body["match_method"] == "unmatched"
    call = CallFactory(account=account, caller_e164=CALLER, started_at=T0 - timedelta(minutes=5))

    assert matching.match_waiting_outcomes(account=account, call_ids=[call.pk]) == 1

    stored = Outcome.objects.get()
    assert (stored.call_id, stored.match_method) == (call.pk, "phone")
    last = OutcomeChange.objects.filter(outcome=stored).order_by("changed_at", "pk").last()
    assert (last.actor, last.changes) == (
        "system",
        {"call": [None, call.pk], "match_method": ["unmatched", "phone"]},
    )
    assert matching.match_waiting_outcomes(account=account, call_ids=[call.pk]) == 0
    assert OutcomeChange.objects.count() == 2


def test_a_late_call_named_by_external_id_is_tied_and_loses_its_automatic_mark(api, account):
    assert outcome(api, call_external_id="CA-LATE")["match_method"] == "unmatched"
    call = CallFactory(
        account=account, external_id="CA-LATE", caller_e164="", spam=True, spam_reason="auto"
    )
    matching.match_waiting_outcomes(account=account, call_ids=[call.pk])
    assert Outcome.objects.get().call_id == call.pk
    assert Outcome.objects.get().match_method == "call"
    call.refresh_from_db()
    assert (call.spam, call.spam_reason) == (False, SpamReason.CLEARED)


def test_a_late_call_found_by_session_email_matches_a_waiting_outcome(api, account):
    outcome(api, email="ada@example.com")
    session = SessionFactory(account=account, email="ada@example.com")
    call = CallFactory(account=account, session=session, caller_e164="", started_at=T0)
    matching.match_waiting_outcomes(account=account, call_ids=[call.pk])
    assert (Outcome.objects.get().call_id, Outcome.objects.get().match_method) == (call.pk, "email")


def test_a_late_call_more_recent_than_the_matched_one_takes_the_outcome(api, account):
    early = CallFactory(account=account, caller_e164=CALLER, started_at=T0 - timedelta(days=2))
    assert outcome(api, caller_number=CALLER)["call"] == early.pk
    late = CallFactory(account=account, caller_e164=CALLER, started_at=T0 - timedelta(hours=1))
    assert matching.match_waiting_outcomes(account=account, call_ids=[late.pk]) == 1
    assert Outcome.objects.get().call_id == late.pk


@pytest.mark.parametrize(
    ("started_at", "spam"),
    [
        (T0 + timedelta(seconds=1), False),  # after the outcome
        (T0 - timedelta(days=30, seconds=1), False),  # before its window
        (T0 - timedelta(minutes=1), True),  # spam
    ],
)
def test_a_late_call_that_cannot_be_the_outcomes_leaves_it_waiting(api, account, started_at, spam):
    outcome(api, caller_number=CALLER)
    call = CallFactory(
        account=account,
        caller_e164=CALLER,
        started_at=started_at,
        spam=spam,
        spam_reason="user" if spam else "",
    )
    assert matching.match_waiting_outcomes(account=account, call_ids=[call.pk]) == 0
    assert Outcome.objects.get().match_method == "unmatched"


def test_a_late_call_never_takes_an_outcome_that_named_its_call(api, account):
    named = CallFactory(account=account, caller_e164="", started_at=T0 - timedelta(days=5))
    outcome(api, call=named.pk, caller_number=CALLER)
    late = CallFactory(account=account, caller_e164=CALLER, started_at=T0 - timedelta(hours=1))
    assert matching.match_waiting_outcomes(account=account, call_ids=[late.pk]) == 0
    assert Outcome.objects.get().call_id == named.pk


def test_waiting_outcomes_of_another_account_are_never_matched(account, other_account):
    theirs = OutcomeFactory(account=other_account, caller_e164=CALLER, occurred_at=T0)
    call = CallFactory(account=account, caller_e164=CALLER, started_at=T0)
    assert matching.match_waiting_outcomes(account=account, call_ids=[call.pk]) == 0
    theirs.refresh_from_db()
    assert theirs.call_id is None


def test_matching_a_batch_of_calls_takes_a_few_statements(account, django_assert_max_num_queries):
    for i in range(50):
        OutcomeFactory(
            account=account,
            external_id=f"D{i}",
            caller_e164=f"+1415555{i:04d}",
            occurred_at=T0,
        )
    calls = [
        CallFactory(account=account, caller_e164=f"+1415555{i:04d}", started_at=T0)
        for i in range(50)
    ]
    with django_assert_max_num_queries(10):
        changed = matching.match_waiting_outcomes(account=account, call_ids=[c.pk for c in calls])
    assert changed == 50
    assert set(Outcome.objects.values_list("match_method", flat=True)) == {"phone"}
    assert OutcomeChange.objects.filter(actor="system").count() == 50


def test_nothing_to_match_is_one_statement(account, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert matching.match_waiting_outcomes(account=account, call_ids=[]) == 0
    call = CallFactory(account=account)
    with django_assert_num_queries(2):  # the calls, the outcomes they could take (none)
        assert matching.match_waiting_outcomes(account=account, call_ids=[call.pk]) == 0


# The pure decision, without a database.


def candidate(pk, started_at, **extra):
    return rules.Candidate(
        call_id=pk,
        started_at=started_at,
        spam=extra.pop("spam", False),
        external_id=extra.pop("external_id", f"CA{pk}"),
        caller_e164=extra.pop("caller_e164", CALLER),
        **extra,
    )


def test_decide_prefers_the_named_call_then_phone_then_email():
    calls = [
        candidate(1, T0 - timedelta(hours=3), caller_e164="", session_email="ada@example.com"),
        candidate(2, T0 - timedelta(hours=5)),
        candidate(3, T0 - timedelta(days=40), external_id="X-1"),
    ]
    wanted = rules.Wanted(occurred_at=T0, caller_e164=CALLER, email="ada@example.com")
    assert rules.decide(wanted, calls, window_days=30) == rules.Match(2, "phone")
    named = rules.Wanted(occurred_at=T0, call_external_id="X-1", caller_e164=CALLER)
    assert rules.decide(named, calls, window_days=30) == rules.Match(3, "call")
    by_email = rules.Wanted(occurred_at=T0, email="ada@example.com")
    assert rules.decide(by_email, calls, window_days=30) == rules.Match(1, "email")
    assert rules.decide(rules.Wanted(occurred_at=T0), calls, window_days=30) == rules.NO_MATCH


def test_decide_never_counts_an_outcomes_own_email_as_an_earlier_outcomes():
    calls = [candidate(1, T0, caller_e164="", outcome_emails=frozenset({(7, "ada@example.com")}))]
    mine = rules.Wanted(occurred_at=T0, outcome_id=7, email="ada@example.com")
    other = rules.Wanted(occurred_at=T0, outcome_id=8, email="ada@example.com")
    assert rules.decide(mine, calls, window_days=30) == rules.NO_MATCH
    assert rules.decide(other, calls, window_days=30) == rules.Match(1, "email")


def test_an_external_id_naming_two_calls_names_neither():
    calls = [candidate(1, T0, external_id="X"), candidate(2, T0, external_id="X")]
    wanted = rules.Wanted(occurred_at=T0, call_external_id="X")
    assert rules.decide(wanted, calls, window_days=30) == rules.NO_MATCH
