"""Reads of the attribution app. Every selector takes the account."""

from django.db.models import QuerySet

from attribution.models import VisitorSession


def sessions(*, account) -> QuerySet[VisitorSession]:
    return VisitorSession.objects.filter(account=account).select_related("campaign", "keyword")
