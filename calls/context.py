"""The caller's journey behind one call, for a CRM screen pop while the phone rings.

A read (a selector) kept out of the shared `calls/selectors.py`: it spans the calls and
attribution apps and answers in at most four queries, whatever the caller's history."""

from attribution.models import Outcome, VisitorSession
from calls.models import Call

HISTORY = 10  # earlier sessions and earlier calls shown


def call_context(*, account, call_id: int) -> dict | None:
    """The call with its attribution and session, the visitor's earlier sessions, the caller's
    earlier calls in the account and the CRM outcomes of all those calls; None when the account
    has no such call (another account's call is never visible).

    "Earlier" means started strictly before this call's session (for sessions) or this call
    (for calls); both lists are newest first. A withheld caller ID has no earlier calls, and a
    call without a session has no earlier sessions: there is nothing to join them on."""
    call = (
        Call.objects.filter(account=account, pk=call_id)
        .select_related("tracking_number", "campaign", "keyword", "session")
        .first()
    )
    if call is None:
        return None
    earlier_sessions: list[VisitorSession] = []
    # A session without a visitor id (no consent) has no earlier sessions: nothing joins them.
    if call.session is not None and call.session.visitor_id is not None:
        earlier_sessions = list(
            VisitorSession.objects.filter(
                account=account,
                visitor_id=call.session.visitor_id,
                started_at__lt=call.session.started_at,
            )
            .select_related("campaign")
            .order_by("-started_at")[:HISTORY]
        )
    earlier_calls: list[Call] = []
    if call.caller_e164:
        earlier_calls = list(
            Call.objects.filter(
                account=account, caller_e164=call.caller_e164, started_at__lt=call.started_at
            )
            .select_related("campaign")
            .order_by("-started_at", "-pk")[:HISTORY]
        )
    outcomes = list(
        Outcome.objects.filter(
            account=account, call_id__in=[call.pk, *(c.pk for c in earlier_calls)]
        ).order_by("-occurred_at", "-pk")
    )
    return {
        "call": call,
        "session": call.session,
        "earlier_sessions": earlier_sessions,
        "earlier_calls": earlier_calls,
        "outcomes": outcomes,
    }
