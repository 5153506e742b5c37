"""Reads of the attribution app. Every selector takes the account."""

from django.contrib.postgres.fields import RangeBoundary
from django.db.models import QuerySet

from attribution.models import NumberAssignment, TsTzRange, VisitorSession
from attribution.models.sessions import COVERED_UNTIL


def sessions(*, account) -> QuerySet[VisitorSession]:
    return VisitorSession.objects.filter(account=account).select_related("campaign", "keyword")


def leases_covering(*, number_id: int, at) -> list[NumberAssignment]:
    """The leases of one number that attribute a call at instant `at`, with sessions: the ones
    live then ([starts_at, ends_at)), else the ones in their grace after it (up to
    `grace_ends_at`, which the next allocation of the number cuts short). More than one means
    the number was shared (overflow)."""
    covering = list(
        NumberAssignment.objects.alias(span=TsTzRange("starts_at", COVERED_UNTIL, RangeBoundary()))
        .filter(number_id=number_id, span__contains=at)
        .select_related("session")
        .order_by("starts_at")
    )
    live = [lease for lease in covering if lease.ends_at > at]
    return live or covering
