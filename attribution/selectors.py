"""Reads of the attribution app. Every selector takes the account."""

from django.db.models import QuerySet

from attribution.models import NumberAssignment, VisitorSession


def sessions(*, account) -> QuerySet[VisitorSession]:
    return VisitorSession.objects.filter(account=account).select_related("campaign", "keyword")


def leases_covering(*, number_id: int, at) -> list[NumberAssignment]:
    """The leases of one number live at instant `at` ([starts_at, ends_at)), with sessions.
    More than one means the number was shared (overflow)."""
    return list(
        NumberAssignment.objects.filter(number_id=number_id, starts_at__lte=at, ends_at__gt=at)
        .select_related("session")
        .order_by("starts_at")
    )
