"""`GET /api/v1/calls/{id}/context/`: the caller's journey, for a CRM screen pop while the
phone rings. Any role may read; another account's call is 404."""

from decimal import ROUND_HALF_UP

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from attribution.models import Outcome, VisitorSession
from calls.context import call_context
from calls.models import Call
from campaigns.api.tenancy import request_account
from campaigns.audit.api import AuditedReads
from campaigns.masking import MaskedField

CLICK_IDS = ["gclid", "gbraid", "wbraid", "msclkid", "fbclid"]
UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"]


class ContextCallSerializer(serializers.ModelSerializer):
    tracking_number = serializers.CharField(source="tracking_e164")
    caller_number = MaskedField("phone", source="caller_e164")  # masked for reporting/finance
    caller_raw = MaskedField("digits")

    class Meta:
        model = Call
        fields = [
            "id",
            "provider",
            "external_id",
            "started_at",
            "status",
            "tracking_number",
            "caller_number",
            "caller_raw",
            "duration_seconds",
            "talk_seconds",
            "spam",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["caller_number"] = data["caller_number"] or None  # withheld: no number
        return data


class ContextAttributionSerializer(serializers.ModelSerializer):
    campaign_name = serializers.CharField(source="campaign.name", allow_null=True)
    keyword_text = serializers.CharField(source="keyword.text", allow_null=True)

    class Meta:
        model = Call
        fields = ["campaign", "campaign_name", "keyword", "keyword_text", "confidence", "session"]


class ContextSessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = VisitorSession
        fields = [
            "id",
            "visitor_id",
            "started_at",
            "landing_url",
            "referrer",
            "channel",
            *CLICK_IDS,
            *UTM,
        ]


class ContextEarlierSessionSerializer(serializers.ModelSerializer):
    campaign_name = serializers.CharField(source="campaign.name", allow_null=True)

    class Meta:
        model = VisitorSession
        fields = ["id", "started_at", "landing_url", "campaign", "campaign_name", "channel"]


class ContextEarlierCallSerializer(serializers.ModelSerializer):
    campaign_name = serializers.CharField(source="campaign.name", allow_null=True)

    class Meta:
        model = Call
        fields = [
            "id",
            "started_at",
            "status",
            "campaign",
            "campaign_name",
            "duration_seconds",
            "spam",
        ]


class ContextOutcomeSerializer(serializers.ModelSerializer):
    # Money is shown rounded half-up to 2 places (PRODUCT.md, "Definitions").
    value = serializers.DecimalField(
        max_digits=16, decimal_places=2, rounding=ROUND_HALF_UP, allow_null=True
    )

    class Meta:
        model = Outcome
        fields = ["id", "call", "crm", "external_id", "stage", "value", "currency", "occurred_at"]


class CallContextSerializer(serializers.Serializer):
    call = ContextCallSerializer()
    attribution = ContextAttributionSerializer(source="call")
    session = ContextSessionSerializer(allow_null=True)
    earlier_sessions = ContextEarlierSessionSerializer(
        many=True, help_text="The visitor's sessions before this one, newest first (at most 10)."
    )
    earlier_calls = ContextEarlierCallSerializer(
        many=True,
        help_text="This caller number's calls before this one, newest first (at most 10).",
    )
    outcomes = ContextOutcomeSerializer(
        many=True, help_text="CRM outcomes of this call and of the earlier calls."
    )


class CallContextView(AuditedReads, APIView):
    audit_resource = "call_context"

    @extend_schema(
        summary="The caller's journey behind a call",
        description="For a CRM screen pop: the call, its attribution and session (landing page, "
        "click ids, UTM), the visitor's earlier sessions, the caller's earlier calls and their "
        "outcomes. Any role may read.",
        responses={
            200: CallContextSerializer,
            404: OpenApiResponse(description="No such call in the key's account."),
        },
    )
    def get(self, request, pk: int):
        context = call_context(account=request_account(request), call_id=pk)
        if context is None:
            raise NotFound(f"No call with id {pk} in this account.")
        return Response(CallContextSerializer(context, context={"request": request}).data)
