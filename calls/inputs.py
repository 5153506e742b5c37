"""The one validation of a call as a provider reports it: the REST API, its batches and the
CSV import all use `CallInputSerializer`, so they accept and refuse alike."""

from rest_framework import serializers

from calls.models import CallStatus
from campaigns import phones
from campaigns.api.tenancy import StrictSerializerMixin

MAX_BATCH = 1000
MAX_DURATION = 7 * 24 * 3600


def region_of(context) -> str:
    account = context.get("account")
    return account.region if account else "US"


class CallInputSerializer(StrictSerializerMixin, serializers.Serializer):
    provider = serializers.CharField(max_length=40)
    external_id = serializers.CharField(max_length=120)
    tracking_number = serializers.CharField(max_length=40)
    caller_number = serializers.CharField(
        max_length=200, required=False, allow_blank=True, allow_null=True
    )
    started_at = serializers.DateTimeField()
    duration_seconds = serializers.IntegerField(min_value=0, max_value=MAX_DURATION)
    status = serializers.ChoiceField(choices=CallStatus.choices)
    talk_seconds = serializers.IntegerField(
        min_value=0, max_value=MAX_DURATION, required=False, allow_null=True
    )
    recording_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    agent = serializers.CharField(max_length=120, required=False, allow_blank=True)
    transferred = serializers.BooleanField(required=False, default=False)

    def validate_tracking_number(self, value):
        try:
            return phones.parse_configured_number(value, region=region_of(self.context))
        except phones.InvalidPhoneNumber as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate(self, attrs):
        talk = attrs.get("talk_seconds")
        if talk is not None and talk > attrs["duration_seconds"]:
            raise serializers.ValidationError(
                {"talk_seconds": ["Cannot be longer than duration_seconds."]}
            )
        try:
            caller = phones.parse_caller_id(
                attrs.pop("caller_number", None), region=region_of(self.context)
            )
        except phones.InvalidPhoneNumber as exc:
            raise serializers.ValidationError({"caller_number": [str(exc)]}) from exc
        attrs["caller_e164"], attrs["caller_raw"] = caller.e164, caller.raw
        attrs["tracking_e164"] = attrs.pop("tracking_number")
        return attrs


class CallListInputSerializer(serializers.ListSerializer):
    def to_internal_value(self, data):
        attrs = super().to_internal_value(data)
        seen: dict[tuple, int] = {}
        errors = {}
        for index, item in enumerate(attrs):
            key = (item["provider"], item["external_id"])
            if key in seen:
                errors[index] = {
                    "external_id": [f"Same provider and external_id as item {seen[key]}."]
                }
            seen.setdefault(key, index)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs
