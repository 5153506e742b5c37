"""`/api/v1/outcomes/`: CRM outcomes, one object or a list of up to 1,000, upserted on
(crm, external_id); each with its match to a call and, on the detail route, its history."""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from attribution.models import Outcome, OutcomeChange
from attribution.outcomes import selectors, services
from campaigns import phones
from campaigns.api.idempotency import idempotent_posts
from campaigns.api.pagination import IdCursorPagination
from campaigns.api.tenancy import ScopedRelatedField, StrictSerializerMixin, request_account
from campaigns.audit.api import AuditedReads
from campaigns.masking import MaskedField

MAX_BATCH = 1000


def ambiguity(external_id: str, providers: list[str]) -> str | None:
    if len(providers) < 2:
        return None
    return (
        f"'{external_id}' names {len(providers)} calls (providers {', '.join(providers)}): "
        "send `call` with our call id instead."
    )


class OutcomeListSerializer(serializers.ListSerializer):
    """A batch: every item checked by itself, then, across the batch, the same (crm,
    external_id) twice (an upsert cannot apply both) and external call ids naming several
    calls, looked up in one query."""

    def to_internal_value(self, data):
        # Checked here, not in validate(): DRF would fold a validate() error into
        # non_field_errors and lose which item it was.
        items = super().to_internal_value(data)
        errors: dict[int, dict] = {}
        seen: dict[tuple[str, str], int] = {}
        for index, item in enumerate(items):
            first = seen.setdefault((item["crm"], item["external_id"]), index)
            if first != index:
                errors[index] = {"external_id": [f"Same crm and external_id as item {first}."]}
        named = {item["call_external_id"] for item in items if item.get("call_external_id")}
        if named:
            providers = selectors.calls_by_external_id(
                account=self.context["account"], external_ids=named
            )
            for index, item in enumerate(items):
                external_id = item.get("call_external_id", "")
                message = ambiguity(external_id, providers.get(external_id, []))
                if message and index not in errors:
                    errors[index] = {"call_external_id": [message]}
        if errors:
            raise serializers.ValidationError(errors)
        return items


class OutcomeInputSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """One outcome as a CRM reports it (PRODUCT.md, `/api/v1/outcomes/`). A field left out
    keeps its stored value; `call` is our call id in this account."""

    serializer_related_field = ScopedRelatedField
    caller_number = serializers.CharField(
        max_length=200, required=False, allow_blank=True, allow_null=True
    )
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    value = serializers.DecimalField(
        max_digits=16, decimal_places=4, min_value=0, required=False, allow_null=True
    )
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True)

    class Meta:
        model = Outcome
        fields = [
            "crm",
            "external_id",
            "call",
            "call_external_id",
            "caller_number",
            "email",
            "stage",
            "value",
            "currency",
            "occurred_at",
        ]
        extra_kwargs = {"call": {"required": False, "allow_null": True}}
        validators = []  # an upsert: the unique (account, crm, external_id) is the point
        list_serializer_class = OutcomeListSerializer

    def validate(self, attrs):
        account = self.context["account"]
        if "caller_number" in attrs:
            try:
                caller = phones.parse_caller_id(attrs.pop("caller_number"), region=account.region)
            except phones.InvalidPhoneNumber as exc:
                raise serializers.ValidationError({"caller_number": [str(exc)]}) from exc
            attrs["caller_e164"], attrs["caller_raw"] = caller.e164, caller.raw
        if "currency" in attrs:
            attrs["currency"] = attrs["currency"].upper()
            message = services.currency_error(account, attrs["currency"])
            if message:
                raise serializers.ValidationError({"currency": [message]})
        if attrs.get("call_external_id") and not isinstance(
            self.parent, serializers.ListSerializer
        ):
            found = selectors.calls_by_external_id(
                account=account, external_ids=[attrs["call_external_id"]]
            )
            message = ambiguity(attrs["call_external_id"], found.get(attrs["call_external_id"], []))
            if message:
                raise serializers.ValidationError({"call_external_id": [message]})
        return attrs


class OutcomeSerializer(serializers.ModelSerializer):
    caller_number = MaskedField("phone", source="caller_e164")  # masked for reporting/finance
    caller_raw = MaskedField("digits")
    email = MaskedField("email")

    class Meta:
        model = Outcome
        fields = [
            "id",
            "crm",
            "external_id",
            "call",
            "call_external_id",
            "caller_number",
            "caller_raw",
            "email",
            "stage",
            "value",
            "currency",
            "occurred_at",
            "match_method",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OutcomeChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutcomeChange
        fields = ["changed_at", "actor", "changes"]


class OutcomeDetailSerializer(OutcomeSerializer):
    history = OutcomeChangeSerializer(source="changes", many=True, read_only=True)

    class Meta(OutcomeSerializer.Meta):
        fields = [*OutcomeSerializer.Meta.fields, "history"]
        read_only_fields = fields


class OutcomeFilter(django_filters.FilterSet):
    start = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    end = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    # By id, not a model choice: a choice field would tell another account's call ids apart.
    call = django_filters.NumberFilter(field_name="call_id")

    class Meta:
        model = Outcome
        fields = ["stage", "crm", "match_method", "external_id"]


class OccurredAtCursorPagination(IdCursorPagination):
    ordering = ("-occurred_at", "-id")


def actor_of(request) -> str:
    """Who wrote, for the history: the API key by id and role (its secret is never stored)."""
    return f"api-key:{request.auth.pk} ({request.auth.role})"


def outcome_response(request, items: list[dict], *, many: bool) -> Response:
    """Upsert validated items and answer with them: 201 when any was new, else 200."""
    results = services.upsert_outcomes(
        account=request_account(request), items=items, actor=actor_of(request)
    )
    body = OutcomeSerializer([result.outcome for result in results], many=True).data
    created = any(result.created for result in results)
    return Response(
        body if many else body[0], status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
    )


def validate_outcomes(data, *, account, many: bool) -> list[dict]:
    serializer = (
        OutcomeInputSerializer(
            data=data, many=True, max_length=MAX_BATCH, context={"account": account}
        )
        if many
        else OutcomeInputSerializer(data=data, context={"account": account})
    )
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data if many else [serializer.validated_data]


@idempotent_posts
class OutcomeViewSet(
    AuditedReads, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """CRM outcomes. POST one object or a list of up to 1,000, upserted on (crm, external_id);
    a bad item rejects the whole list. GET one outcome for its `history`."""

    serializer_class = OutcomeInputSerializer  # the tenancy matrix reads the writable fields
    filterset_class = OutcomeFilter
    pagination_class = OccurredAtCursorPagination
    audit_resource = "outcomes"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Outcome.objects.none()
        account = request_account(self.request)
        if self.action == "retrieve":
            return selectors.outcomes_with_history(account=account)
        return selectors.outcomes(account=account)

    def get_serializer_class(self):
        return {"list": OutcomeSerializer, "retrieve": OutcomeDetailSerializer}.get(
            self.action, OutcomeInputSerializer
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self.request, "auth", None) is not None:
            context["account"] = request_account(self.request)
        return context

    @extend_schema(
        request=OutcomeInputSerializer,
        responses={
            201: OutcomeSerializer(many=True),
            200: OpenApiResponse(OutcomeSerializer(many=True), description="Nothing new."),
        },
        description="One object (answered with one) or a list of up to 1,000 (answered with "
        "a list). 201 when any outcome was new, else 200.",
    )
    def create(self, request, *args, **kwargs):
        many = isinstance(request.data, list)
        items = validate_outcomes(request.data, account=request_account(request), many=many)
        return outcome_response(request, items, many=many)
