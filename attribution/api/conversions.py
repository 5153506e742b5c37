"""`/api/v1/destinations/` (ad platforms and webhooks an account sends offline conversions to,
with their rules) and `/api/v1/conversions/` (the outbox, read-only, with a retry action).
Credentials are write-only: no response ever carries them, only which keys are set."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from attribution.conversions import destinations as destination_services
from attribution.conversions import selectors, services
from attribution.models import Conversion, ConversionRule, ConversionStatus, Destination
from campaigns.api.idempotency import idempotent_posts
from campaigns.api.pagination import IdCursorPagination
from campaigns.api.tenancy import AccountScopedViewSet, StrictSerializerMixin, request_account
from campaigns.audit.api import AuditedReads
from campaigns.models import Role


class ConversionRuleSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = ConversionRule
        fields = ["id", "trigger", "min_talk_seconds", "action", "upload", "value", "fixed_value"]
        read_only_fields = ["id"]
        validators = []  # the service reports a duplicate (trigger, action) on `rules`

    def validate(self, attrs):
        if attrs.get("value") == ConversionRule.Value.FIXED and attrs.get("fixed_value") is None:
            raise serializers.ValidationError({"fixed_value": ["A fixed value rule needs one."]})
        return attrs


class DestinationSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    rules = ConversionRuleSerializer(many=True, required=False)
    credentials = serializers.DictField(
        child=serializers.CharField(allow_blank=True, allow_null=True, max_length=4000),
        write_only=True,
        required=False,
        help_text="Secrets (OAuth client and refresh token, developer token, access token, "
        "webhook secret). Write-only; on update, merged key by key (empty removes a key).",
    )
    credential_keys = serializers.SerializerMethodField(
        help_text="Which credentials are set (never their values)."
    )
    counts = serializers.SerializerMethodField(help_text="Outbox rows by status.")

    class Meta:
        model = Destination
        fields = [
            "id",
            "name",
            "kind",
            "enabled",
            "base_url",
            "config",
            "credentials",
            "credential_keys",
            "click_window_days",
            "rules",
            "counts",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators = []  # the service turns the unique name into a message on `name`

    def get_credential_keys(self, destination) -> list[str]:
        return sorted(destination.credentials)

    def get_counts(self, destination) -> dict[str, int]:
        return selectors.status_counts(destination)

    def validate_config(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Expected an object.")
        return value

    def validate(self, attrs):
        if self.instance is not None and "kind" in attrs and attrs["kind"] != self.instance.kind:
            raise serializers.ValidationError(
                {"kind": ["A destination's kind cannot change; create another destination."]}
            )
        return attrs


@idempotent_posts
class DestinationViewSet(AccountScopedViewSet):
    """Ad platforms and signed webhooks that get the account's offline conversions. Only an
    `admin` key may change one (they hold credentials); any key reads them, without secrets."""

    serializer_class = DestinationSerializer
    filterset_fields = ["kind", "enabled"]
    selector = selectors.destinations
    create_service = destination_services.create_destination
    update_service = destination_services.update_destination
    instance_arg = "destination"
    write_roles = (Role.ADMIN,)

    def perform_destroy(self, instance):
        destination_services.delete_destination(
            account=request_account(self.request), destination=instance
        )

    def perform_create(self, serializer):
        super().perform_create(serializer)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_update(self, serializer):
        super().perform_update(serializer)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)


class ConversionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Conversion
        fields = [
            "id",
            "destination",
            "outcome",
            "call",
            "trigger",
            "action",
            "restatement",
            "dedup_key",
            "status",
            "value",
            "currency",
            "occurred_at",
            "attempts",
            "next_attempt_at",
            "last_error_code",
            "last_error_message",
            "skip_reason",
            "sent_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ConversionFilter(django_filters.FilterSet):
    # By id, not a model choice: a choice field would tell another account's ids apart.
    destination = django_filters.NumberFilter(field_name="destination_id")
    outcome = django_filters.NumberFilter(field_name="outcome_id")
    call = django_filters.NumberFilter(field_name="call_id")
    status = django_filters.MultipleChoiceFilter(choices=ConversionStatus.choices)
    start = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    end = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Conversion
        fields = ["trigger", "restatement"]


@idempotent_posts
class ConversionViewSet(
    AuditedReads, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The offline-conversion outbox: one row per conversion and destination, with its status
    (pending, sending, sent, accepted, rejected, retry, skipped, dead), attempts and the
    platform's last error. Newest first."""

    serializer_class = ConversionSerializer
    filterset_class = ConversionFilter
    audit_resource = "conversions"  # payloads hold hashed phone numbers and emails
    pagination_class = IdCursorPagination
    write_roles = (Role.ADMIN, Role.INTEGRATION)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Conversion.objects.none()
        return selectors.conversions(account=request_account(self.request))

    @extend_schema(request=None, responses={200: ConversionSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Send this row again: rebuilt from its outcome or call as they are now, due at once,
        attempts reset. 409 for a row already sent or accepted, one being sent, or one that
        still cannot be sent (the reason is in the message)."""
        row = services.retry_conversion(
            account=request_account(request), conversion=self.get_object()
        )
        return Response(ConversionSerializer(row).data)
