"""REST endpoints of the calls app: `/api/v1/calls/` and `/api/v1/blocklist/`."""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from calls import backfill, selectors, services
from calls.inputs import (
    MAX_BATCH,
    CallInputSerializer,
    CallListInputSerializer,
    region_of,
)
from calls.models import BlockedNumber, Call
from campaigns import phones
from campaigns.api.pagination import StartedAtCursorPagination
from campaigns.api.tenancy import StrictSerializerMixin, request_account


class CallSerializer(serializers.ModelSerializer):
    tracking_number = serializers.CharField(source="tracking_e164")
    caller_number = serializers.SerializerMethodField()
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

    def get_caller_number(self, call) -> str | None:
        return call.caller_e164 or None

    def get_first_time_caller(self, call) -> bool | None:
        if not call.caller_e164:
            return None
        return not getattr(call, "repeat_caller", False)


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
        account = self.request.auth.account
        try:
            caller = phones.parse_caller_id(value, region=account.region)
        except phones.InvalidPhoneNumber:
            return queryset.none()
        return queryset.filter(caller_e164=caller.e164) if caller.e164 else queryset.none()


class CallViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Calls from any provider. POST one object or a list of up to 1,000, upserted on
    (provider, external_id); a bad item rejects the whole list. PATCH sets `spam` and `agent`."""

    serializer_class = CallSerializer
    filterset_class = CallFilter
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
        many = isinstance(request.data, list)
        context = self.get_serializer_context()
        if many:
            data = CallListInputSerializer(
                child=CallInputSerializer(),
                data=request.data,
                max_length=MAX_BATCH,
                context=context,
            )
        else:
            data = CallInputSerializer(data=request.data, context=context)
        data.is_valid(raise_exception=True)
        account = request_account(request)
        if many:
            # A batch goes the set-based way: a handful of statements for up to 1,000 calls.
            result = backfill.record_validated(account=account, items=data.validated_data)
            keys = [(item["provider"], item["external_id"]) for item in data.validated_data]
            calls = selectors.calls_by_keys(account=account, keys=keys)
            created = result.created > 0
        else:
            [(call, created)] = services.record_calls(
                account=account, items=[services.CallInput(**data.validated_data)]
            )
            calls = [selectors.calls(account=account).get(pk=call.pk)]
        body = CallSerializer(calls, many=True).data
        return Response(
            body if many else body[0],
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
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

    def validate_e164(self, value):
        try:
            caller = phones.parse_caller_id(value, region=region_of(self.context))
        except phones.InvalidPhoneNumber as exc:
            raise serializers.ValidationError(str(exc)) from exc
        if not caller.e164:
            raise serializers.ValidationError(f"'{value}' is not a valid phone number")
        return caller.e164


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
