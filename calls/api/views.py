"""REST endpoints of the calls app: `/api/v1/calls/` and `/api/v1/blocklist/`."""

import django_filters
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied  # a masked key filtering by caller
from rest_framework.response import Response

from calls import backfill, inputs, selectors, services
from calls.inputs import CallInputSerializer, region_of
from calls.models import BlockedNumber, Call
from campaigns import phones
from campaigns.api.idempotency import idempotent_posts
from campaigns.api.pagination import StartedAtCursorPagination
from campaigns.api.tenancy import StrictSerializerMixin, request_account
from campaigns.audit.api import AuditedReads
from campaigns.masking import MaskedField, mask, role_of_request, sees_personal_data


class CallSerializer(serializers.ModelSerializer):
    tracking_number = serializers.CharField(source="tracking_e164")
    caller_number = MaskedField("phone", source="caller_e164")  # masked for reporting/finance
    caller_raw = MaskedField("digits")
    recording_url = MaskedField("recording")
    first_time_caller = serializers.SerializerMethodField()

    class Meta:
        model = Call
        fields = [
            "id",
            "provider",
            "external_id",
            "tracking_number",
            "caller_number",
            "caller_raw",
            "started_at",
            "duration_seconds",
            "talk_seconds",
            "status",
            "recording_url",
            "agent",
            "transferred",
            "spam",
            "spam_reason",
            "session",
            "campaign",
            "keyword",
            "confidence",
            "first_time_caller",
            "created_at",
            "updated_at",
        ]

    def get_first_time_caller(self, call) -> bool | None:
        if not call.caller_e164:
            return None
        return not getattr(call, "repeat_caller", False)


def call_output(row: dict, zone) -> dict:
    """`CallSerializer(call).data` from a row of `selectors.CALL_VALUES`, without a serializer
    per call: the bulk POST answers up to 1,000 of them (tests/calls/test_calls_api.py holds
    the two to the same JSON)."""
    caller = row["caller_e164"]
    return {
        "id": row["id"],
        "provider": row["provider"],
        "external_id": row["external_id"],
        "tracking_number": row["tracking_e164"],
        "caller_number": caller or None,
        "caller_raw": row["caller_raw"],
        "started_at": _iso(row["started_at"], zone),
        "duration_seconds": row["duration_seconds"],
        "talk_seconds": row["talk_seconds"],
        "status": row["status"],
        "recording_url": row["recording_url"],
        "agent": row["agent"],
        "transferred": row["transferred"],
        "spam": row["spam"],
        "spam_reason": row["spam_reason"],
        "session": row["session_id"],
        "campaign": row["campaign_id"],
        "keyword": row["keyword_id"],
        "confidence": row["confidence"],
        "first_time_caller": not row["repeat_caller"] if caller else None,
        "created_at": _iso(row["created_at"], zone),
        "updated_at": _iso(row["updated_at"], zone),
    }


def _iso(value, zone) -> str:
    """DRF's DateTimeField output: ISO 8601 in the current time zone, UTC written Z."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class CallUpdateSerializer(StrictSerializerMixin, serializers.Serializer):
    spam = serializers.BooleanField(required=False)
    agent = serializers.CharField(max_length=120, required=False, allow_blank=True)


class CallFilter(django_filters.FilterSet):
    start = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    end = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")
    caller = django_filters.CharFilter(method="filter_caller")

    class Meta:
        model = Call
        fields = ["campaign", "keyword", "status", "external_id", "provider", "spam", "confidence"]

    def filter_caller(self, queryset, name, value):
        if not sees_personal_data(self.request.auth.role):
            # A masked viewer could otherwise confirm a full number by filtering on it.
            raise PermissionDenied(
                f"A '{self.request.auth.role}' key sees caller numbers masked and may not "
                "filter by caller."
            )
        account = self.request.auth.account
        try:
            caller = phones.parse_caller_id(value, region=account.region)
        except phones.InvalidPhoneNumber:
            return queryset.none()
        return queryset.filter(caller_e164=caller.e164) if caller.e164 else queryset.none()


@idempotent_posts
class CallViewSet(
    AuditedReads,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Calls from any provider. POST one object or a list of up to 1,000, upserted on
    (provider, external_id); a bad item rejects the whole list. PATCH sets `spam` and `agent`."""

    serializer_class = CallSerializer
    filterset_class = CallFilter
    audit_resource = "calls"
    pagination_class = StartedAtCursorPagination
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Call.objects.none()
        return selectors.calls(account=request_account(self.request))

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self.request, "auth", None) is not None:
            context["account"] = request_account(self.request)
        return context

    @extend_schema(
        request=CallInputSerializer,
        responses={
            201: CallSerializer(many=True),
            200: OpenApiResponse(CallSerializer(many=True), description="Nothing new."),
        },
    )
    def create(self, request, *args, **kwargs):
        account = request_account(request)
        if isinstance(request.data, list):
            return self._create_many(account, request.data)
        data = CallInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        [(call, created)] = services.record_calls(
            account=account, items=[services.CallInput(**data.validated_data)]
        )
        return Response(
            CallSerializer(selectors.calls(account=account).get(pk=call.pk)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def _create_many(self, account, data: list) -> Response:
        """A batch goes the set-based way, a handful of statements for up to 1,000 calls,
        validated by `inputs.validate_batch` (CallInputSerializer's answers, item by item)."""
        items = inputs.validate_batch(data, region=account.region)
        result = backfill.record_validated(account=account, items=items)
        keys = [(item["provider"], item["external_id"]) for item in items]
        zone = timezone.get_current_timezone()
        rows = selectors.call_values_by_keys(account=account, keys=keys)
        return Response(
            [call_output(row, zone) for row in rows],
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )

    @extend_schema(request=CallUpdateSerializer, responses=CallSerializer)
    def partial_update(self, request, *args, **kwargs):
        call = self.get_object()
        data = CallUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.update_call(account=request_account(request), call=call, **data.validated_data)
        return Response(CallSerializer(self.get_object()).data)

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)


class BlockedNumberSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    e164 = serializers.CharField(max_length=40)

    class Meta:
        model = BlockedNumber
        fields = ["id", "e164", "reason", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators = []

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # A blocked caller's number is personal data like any caller's: masked for reporting.
        role = role_of_request(self.context.get("request"))
        data["e164"] = mask("phone", data["e164"], role=role)
        return data

    def validate_e164(self, value):
        try:
            caller = phones.parse_caller_id(value, region=region_of(self.context))
        except phones.InvalidPhoneNumber as exc:
            raise serializers.ValidationError(str(exc)) from exc
        if not caller.e164:
            raise serializers.ValidationError(f"'{value}' is not a valid phone number")
        return caller.e164


@idempotent_posts
class BlocklistViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The account's blocked callers: their calls are spam and left out of every figure."""

    serializer_class = BlockedNumberSerializer
    filterset_fields = ["e164"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return BlockedNumber.objects.none()
        return selectors.blocked_numbers(account=request_account(self.request))

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self.request, "auth", None) is not None:
            context["account"] = request_account(self.request)
        return context

    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        blocked, created = services.block_number(
            account=request_account(request), **data.validated_data
        )
        return Response(
            BlockedNumberSerializer(blocked).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def perform_destroy(self, instance):
        services.unblock_number(account=request_account(self.request), blocked=instance)
