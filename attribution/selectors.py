"""Reads of the attribution app. Every selector takes the account."""

from django.contrib.postgres.fields import RangeBoundary
from django.db.models import QuerySet

from attribution.models import NumberAssignment, TsTzRange, VisitorSession


def sessions(*, account) -> QuerySet[VisitorSession]:
    return VisitorSession.objects.filter(account=account).select_related("campaign", "keyword")


def leases_covering(*, number_id: int, at) -> list[NumberAssignment]:
    """The leases of one number live at instant `at` ([starts_at, ends_at)), with sessions.
    More than one means the number was shared (overflow)."""
    return list(
        NumberAssignment.objects.alias(span=TsTzRange("starts_at", "ends_at", RangeBoundary()))
        .filter(number_id=number_id, span__contains=at)
        .select_related("session")
        .order_by("starts_at")
    )
