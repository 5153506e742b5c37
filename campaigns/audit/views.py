"""`GET /api/v1/audit-events/`: the account's audit trail, for `admin` keys only.

Reading the trail is not itself audited: an event per page read would grow the trail with
every look at it, and the keys that may read it are the ones that may change everything."""

import django_filters
from rest_framework import mixins, serializers, viewsets

from campaigns.api.pagination import IdCursorPagination
from campaigns.api.tenancy import request_account
from campaigns.audit import selectors
from campaigns.audit.models import ActorKind, AuditAction, AuditEvent
from campaigns.models import Role


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "actor_kind",
            "actor_label",
            "api_key",
            "user",
            "action",
            "resource",
            "object_id",
            "method",
            "path",
            "ip",
            "detail",
        ]
        read_only_fields = fields


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.MultipleChoiceFilter(choices=AuditAction.choices)
    actor_kind = django_filters.ChoiceFilter(choices=ActorKind.choices)
    # By id, not a model choice: a choice field would tell another account's key ids apart.
    api_key = django_filters.NumberFilter(field_name="api_key_id")
    start = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    end = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["resource", "object_id"]


class OccurredAtCursorPagination(IdCursorPagination):
    ordering = ("-occurred_at", "-id")


class AuditEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Who read or exported personal data, and who changed settings or credentials, newest
    first. `admin` keys only; read-only."""

    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    pagination_class = OccurredAtCursorPagination
    read_roles = (Role.ADMIN,)
    http_method_names = ["get", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        return selectors.audit_events(account=request_account(self.request))
