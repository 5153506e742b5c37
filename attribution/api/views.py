"""Read-only REST endpoints of the attribution app."""

import django_filters
from rest_framework import serializers, viewsets

from attribution import selectors
from attribution.models import VisitorSession
from campaigns.api.pagination import StartedAtCursorPagination
from campaigns.api.tenancy import request_account
from campaigns.audit.api import AuditedReads


class SessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = VisitorSession
        fields = [
            "id",
            "visitor_id",
            "campaign",
            "keyword",
            "channel",
            "landing_url",
            "referrer",
            "gclid",
            "gbraid",
            "wbraid",
            "msclkid",
            "fbclid",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_term",
            "utm_content",
            "is_bot",
            "started_at",
            "last_seen_at",
        ]


class SessionFilter(django_filters.FilterSet):
    started_after = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")

    class Meta:
        model = VisitorSession
        fields = ["campaign", "keyword", "visitor_id", "channel", "gclid", "is_bot"]


class SessionViewSet(AuditedReads, viewsets.ReadOnlyModelViewSet):
    """Visitor sessions as the DNI endpoint recorded them; the id is the DNI `session_id`."""

    serializer_class = SessionSerializer
    filterset_class = SessionFilter
    audit_resource = "sessions"
    pagination_class = StartedAtCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return VisitorSession.objects.none()
        return selectors.sessions(account=request_account(self.request))
