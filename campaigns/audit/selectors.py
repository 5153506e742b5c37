"""Reading the audit trail."""

from django.db.models import QuerySet

from campaigns.audit.models import AuditEvent
from campaigns.models import Account


def audit_events(*, account: Account) -> QuerySet[AuditEvent]:
    """The account's events, newest first. Only indexed columns are filtered on by the API."""
    return AuditEvent.objects.filter(account=account).order_by("-occurred_at", "-id")
