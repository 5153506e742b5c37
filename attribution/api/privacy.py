"""`POST /api/v1/privacy/erasure/`: erase one data subject (docs/privacy.md, "Erasure and
retention"). Admin keys only; parse, call `privacy.services.erase_person`, shape the counts."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from attribution.privacy import services
from campaigns import phones
from campaigns.api.idempotency import idempotent_posts
from campaigns.api.tenancy import request_account
from campaigns.models import Role


class ErasureInput(serializers.Serializer):
    phone_number = serializers.CharField(
        required=False,
        max_length=64,
        help_text="The person's phone number, read with the account's region.",
    )
    email = serializers.EmailField(required=False, max_length=254)

    def validate_phone_number(self, value):
        account = self.context["account"]
        try:
            caller = phones.parse_caller_id(value, region=account.region, strict=True)
        except phones.InvalidPhoneNumber as error:
            raise serializers.ValidationError(str(error)) from None
        if not caller.e164:
            raise serializers.ValidationError(f"'{value}' is not a valid phone number")
        return caller.e164

    def validate_email(self, value):
        return value.strip().lower()

    def validate(self, attrs):
        if not attrs.get("phone_number") and not attrs.get("email"):
            raise serializers.ValidationError(
                {"phone_number": ["Send phone_number, email or both."]}
            )
        return attrs


class ErasureOutput(serializers.Serializer):
    erasure_id = serializers.CharField(help_text="Also the audit event's object id.")
    calls = serializers.IntegerField(help_text="Calls whose caller number was pseudonymised.")
    sessions = serializers.IntegerField(help_text="Visitor sessions anonymised.")
    outcomes = serializers.IntegerField()
    outcome_changes = serializers.IntegerField(help_text="Outcome history rows scrubbed.")
    conversions = serializers.IntegerField(help_text="Outbox rows whose payload was scrubbed.")
    conversions_skipped = serializers.IntegerField(
        help_text="Of those, rows not yet taken by a platform, now skipped and never sent."
    )
    recordings = serializers.IntegerField(help_text="Recording URLs removed.")
    recordings_at_provider = serializers.ListField(
        child=serializers.CharField(),
        help_text="Twilio recording SIDs whose audio is still at Twilio: delete them there.",
    )
    stored_responses = serializers.IntegerField(
        help_text="Stored Idempotency-Key answers, audit and admin log entries scrubbed."
    )
    blocklist_entries_kept = serializers.IntegerField(
        help_text="The number's blocklist entry is kept (the account's own decision); "
        "DELETE it at /api/v1/blocklist/ to remove it too."
    )
    note = serializers.CharField()


@idempotent_posts
class ErasureView(APIView):
    """Erase or irreversibly anonymise one person everywhere in the account."""

    write_roles = (Role.ADMIN,)

    @extend_schema(
        operation_id="privacy_erasure",
        summary="Erase a data subject",
        description=(
            "Erases the person with this phone number and/or email from the account in one "
            "transaction: caller numbers, visitor sessions, outcomes, outbox payloads (unsent "
            "rows are skipped), recording URLs. Identities are replaced by irreversible "
            "pseudonyms, so report figures (calls, conversions, revenue, unique callers) stay "
            "the same. Idempotent in effect: the same request again answers 200 with zeros. "
            "Admin keys only."
        ),
        request=ErasureInput,
        responses={
            200: ErasureOutput,
            400: OpenApiResponse(description="No identifier, or one that is not valid."),
            403: OpenApiResponse(description="The key's role is not admin."),
        },
        examples=[OpenApiExample("By phone", value={"phone_number": "+14155550100"})],
        tags=["privacy"],
    )
    def post(self, request):
        account = request_account(request)
        data = ErasureInput(data=request.data, context={"account": account})
        data.is_valid(raise_exception=True)
        report = services.erase_person(
            account=account,
            phone=data.validated_data.get("phone_number"),
            email=data.validated_data.get("email"),
            api_key=request.auth,
            path=request.path,
            ip=request.META.get("REMOTE_ADDR"),
        )
        return Response({**report.as_dict(), "note": services.RECORDINGS_NOTE}, status=200)
