"""CRM webhooks onto the outcomes upsert: `POST /api/v1/outcomes/hubspot/` and
`/api/v1/outcomes/salesforce/` (the adapters say which payloads), and the account's own stage
names at `/api/v1/crm-stages/`. Authenticated by an API key like every route (docs/crm.md)."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from attribution.api.outcomes import MAX_BATCH, OutcomeSerializer, actor_of, validate_outcomes
from attribution.outcomes import selectors, services
from attribution.outcomes.adapters import PayloadError, hubspot, salesforce
from campaigns.api.idempotency import idempotent_posts
from campaigns.api.tenancy import AccountScopedViewSet, StrictSerializerMixin, request_account
from campaigns.models import CrmStageMapping

WebhookAnswer = inline_serializer(
    "CrmWebhookAnswer",
    {
        "outcomes": OutcomeSerializer(many=True),
        "ignored": serializers.ListField(
            child=inline_serializer(
                "CrmIgnoredEvent",
                {"index": serializers.IntegerField(), "reason": serializers.CharField()},
            )
        ),
    },
)


class CrmWebhookView(APIView):
    """A CRM's own payload, mapped by `adapter` onto outcome items, then validated, upserted and
    matched exactly as `POST /api/v1/outcomes/` does. A bad event rejects the whole payload, with
    the errors aligned with the events sent; events that are not outcomes are listed as ignored."""

    adapter = None  # a module of attribution.outcomes.adapters

    def post(self, request):
        account = request_account(request)
        stages = selectors.stage_map(account=account, crm=self.adapter.CRM)
        try:
            events, many = self.adapter.read(request.data, stages=stages, now=timezone.now())
        except PayloadError as exc:
            raise serializers.ValidationError({"non_field_errors": [str(exc)]}) from exc
        if len(events) > MAX_BATCH:
            raise serializers.ValidationError(
                {"non_field_errors": [f"Ensure this field has no more than {MAX_BATCH} elements."]}
            )
        errors = [event.error or {} for event in events]
        kept = [index for index, event in enumerate(events) if event.item is not None]
        if not any(errors):
            try:
                items = validate_outcomes(
                    [events[index].item for index in kept], account=account, many=True
                )
            except serializers.ValidationError as exc:
                for position, error in _per_item(exc.detail, len(kept)).items():
                    errors[kept[position]] = error
        if any(errors):
            raise serializers.ValidationError(errors if many else errors[0])
        results = services.upsert_outcomes(account=account, items=items, actor=actor_of(request))
        body = {
            "outcomes": OutcomeSerializer([r.outcome for r in results], many=True).data,
            "ignored": [
                {"index": index, "reason": event.ignored}
                for index, event in enumerate(events)
                if event.ignored
            ],
        }
        created = any(result.created for result in results)
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def _per_item(detail, count: int) -> dict[int, dict]:
    """A list serializer's errors by item: a list aligned with the items, or {index: errors}."""
    if isinstance(detail, list) and len(detail) == count:
        return {index: error for index, error in enumerate(detail) if error}
    if isinstance(detail, dict) and all(isinstance(key, int) for key in detail):
        return dict(detail)
    raise serializers.ValidationError(detail)


@idempotent_posts
class HubSpotView(CrmWebhookView):
    adapter = hubspot

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={201: WebhookAnswer, 200: WebhookAnswer},
        description="HubSpot deal-stage webhook events (a list) or a workflow's deal object; "
        "see docs/crm.md.",
    )
    def post(self, request):
        return super().post(request)


@idempotent_posts
class SalesforceView(CrmWebhookView):
    adapter = salesforce

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={201: WebhookAnswer, 200: WebhookAnswer},
        description="Salesforce Opportunity records as JSON (one, a list, or `{records}`); "
        "see docs/crm.md.",
    )
    def post(self, request):
        return super().post(request)


class CrmStageMappingSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = CrmStageMapping
        fields = ["id", "crm", "crm_stage", "stage"]
        read_only_fields = ["id"]
        validators = []  # the service turns the unique key into a message on crm_stage


@idempotent_posts
class CrmStageMappingViewSet(AccountScopedViewSet):
    """The account's own CRM stages (custom pipelines) onto outcome stages, over the defaults."""

    serializer_class = CrmStageMappingSerializer
    filterset_fields = ["crm", "stage"]
    selector = selectors.stage_mappings
    create_service = services.create_stage_mapping
    update_service = services.update_stage_mapping
    instance_arg = "mapping"
