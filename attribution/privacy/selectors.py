"""Reads of the privacy package: which rows hold one person, which rows are past retention."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q

from attribution.models import Outcome, Touchpoint, VisitorSession
from calls.models import Call
from campaigns.models import Account


@dataclass
class Person:
    """The rows of one data subject: ids, and the identifiers found on them."""

    call_ids: set[int] = field(default_factory=set)
    session_ids: set = field(default_factory=set)
    outcome_ids: set[int] = field(default_factory=set)


def person_rows(*, account: Account, phone: str | None, email: str | None) -> Person:
    """The person's calls (from the number), sessions (those calls' own and journey sessions,
    those carrying the email, and every other session of the same visitors: one browser, one
    person) and outcomes (naming the number or the email, or on one of those calls).

    A call made from one of those sessions by *another* number is not theirs: that number is
    someone's data too, and the request names who is to be erased."""
    person = Person()
    if phone:
        person.call_ids = set(
            Call.objects.filter(account=account, caller_e164=phone).values_list("pk", flat=True)
        )
    sessions = Q(pk__in=Call.objects.filter(pk__in=person.call_ids).values("session_id"))
    sessions |= Q(
        pk__in=Touchpoint.objects.filter(
            account=account, call_id__in=person.call_ids, session__isnull=False
        ).values("session_id")
    )
    if email:
        sessions |= Q(email__iexact=email)
    own = VisitorSession.objects.filter(Q(account=account) & sessions)
    visitors = {v for v in own.values_list("visitor_id", flat=True) if v}
    person.session_ids = set(own.values_list("pk", flat=True)) | set(
        VisitorSession.objects.filter(account=account, visitor_id__in=visitors).values_list(
            "pk", flat=True
        )
    )
    outcomes = Q(call_id__in=person.call_ids)
    if phone:
        outcomes |= Q(caller_e164=phone)
    if email:
        outcomes |= Q(email__iexact=email)
    person.outcome_ids = set(
        Outcome.objects.filter(Q(account=account) & outcomes).values_list("pk", flat=True)
    )
    return person


def calls_to_anonymise(
    *, account: Account, cutoff: dt.datetime, after: tuple[dt.datetime, int] | None, limit: int
) -> list[int]:
    """Up to `limit` ids of calls started before `cutoff` that still hold an identity, in
    (started_at, id) order from just after `after`: a run walks the old calls once, through
    the (account, started_at) index, instead of re-reading the ones it has done."""
    calls = Call.objects.filter(account=account, started_at__lt=cutoff).filter(
        (~Q(caller_e164="") & ~Q(caller_e164__startswith="+999"))
        | ~Q(caller_raw="")
        | ~Q(recording_url="")
    )
    if after is not None:
        calls = calls.filter(Q(started_at__gt=after[0]) | Q(started_at=after[0], pk__gt=after[1]))
    return list(calls.order_by("started_at", "pk").values_list("pk", flat=True)[:limit])


def sessions_to_anonymise(*, account: Account, cutoff: dt.datetime, limit: int) -> list:
    """Up to `limit` ids of sessions started before `cutoff` that still hold an identity. A
    session's identity is gone at once (no column is left to find it by again), so a batch
    never sees the previous one's rows."""
    identity = (
        (Q(visitor_id__isnull=False) & ~Q(visitor_id__startswith="erased-"))
        | Q(ip__isnull=False)
        | ~Q(user_agent="")
        | ~Q(email="")
        | ~Q(gclid="")
        | ~Q(gbraid="")
        | ~Q(wbraid="")
        | ~Q(msclkid="")
        | ~Q(fbclid="")
        | Q(landing_url__contains="?")
        | Q(landing_url__contains="#")
        | Q(referrer__contains="?")
        | Q(referrer__contains="#")
    )
    return list(
        VisitorSession.objects.filter(account=account, started_at__lt=cutoff)
        .filter(identity)
        .order_by("started_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def outcomes_to_anonymise(*, account: Account, cutoff: dt.datetime, limit: int) -> list[int]:
    """Up to `limit` ids of outcomes that still hold a number or an email and are past the
    cutoff: on a call started before it, or with no call and occurred before it (most go with
    their call's batch; these are the rest: unmatched ones, or on a call with no number)."""
    return list(
        Outcome.objects.filter(account=account)
        .filter(Q(call__isnull=True, occurred_at__lt=cutoff) | Q(call__started_at__lt=cutoff))
        .filter(
            (~Q(caller_e164="") & ~Q(caller_e164__startswith="+999"))
            | ~Q(caller_raw="")
            | (~Q(email="") & ~Q(email__endswith="@invalid"))
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
