"""Input and output shapes of the campaigns resources (PRODUCT.md, "The public contract")."""

from django.db import models
from rest_framework import serializers

from campaigns import call_flow, phones, rules
from campaigns.api.tenancy import ScopedRelatedField, StrictSerializerMixin
from campaigns.models import (
    Account,
    Campaign,
    DailyCost,
    Keyword,
    NumberPool,
    TrackingNumber,
)


class PhoneNumberField(serializers.CharField):
    """A number we configure: parsed with the account's region, stored as E.164."""

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        if not text:
            return text
        account = self.context.get("account")
        try:
            return phones.parse_configured_number(text, region=account.region if account else "US")
        except phones.InvalidPhoneNumber as exc:
            raise serializers.ValidationError(str(exc)) from exc


class StrictModelSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    serializer_related_field = ScopedRelatedField


class AccountSerializer(StrictModelSerializer):
    allowed_origins = serializers.ListField(
        child=serializers.CharField(max_length=255), required=False, max_length=100
    )

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "currency",
            "time_zone",
            "region",
            "allowed_origins",
            "public_key",
            "lookback_days",
            "match_window_days",
            "retention_days",
            "twilio_auth_token",
            "created_at",
        ]
        read_only_fields = ["id", "public_key", "created_at"]
        extra_kwargs = {
            "twilio_auth_token": {"write_only": True},
            "lookback_days": {"min_value": 1, "max_value": 365},
            "match_window_days": {"min_value": 1, "max_value": 365},
            # Past it, calls and sessions are anonymised daily (docs/privacy.md); null: kept.
            "retention_days": {"min_value": 30, "max_value": 3650},
        }

    def validate_currency(self, value):
        if not rules.is_currency(value):
            raise serializers.ValidationError(f"'{value}' is not an ISO 4217 currency code.")
        return value

    def validate_time_zone(self, value):
        if not rules.is_time_zone(value):
            raise serializers.ValidationError(
                f"'{value}' is not an IANA time zone like 'America/New_York'."
            )
        return value

    def validate_region(self, value):
        if not rules.is_region(value):
            raise serializers.ValidationError(f"'{value}' is not a region code like 'US' or 'GB'.")
        return value

    def validate_allowed_origins(self, value):
        try:
            return sorted({rules.normalise_origin(origin) for origin in value})
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc


def _one_of(what: str, choices: type[models.TextChoices]) -> dict:
    message = f'"{{input}}" is not {what}; choose one of {", ".join(choices.values)}.'
    return {"error_messages": {"invalid_choice": message}}


def _between(bounds: call_flow.Bounds) -> dict:
    return {"min_value": bounds.low, "max_value": bounds.high}


class CampaignSerializer(StrictModelSerializer):
    forward_to = PhoneNumberField(required=False, allow_blank=True, max_length=40)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "channel",
            "source",
            "medium",
            "utm_campaign",
            "forward_to",
            "active",
            *call_flow.FIELDS,
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {
            "ring_timeout_seconds": _between(call_flow.RING_TIMEOUT),
            "voicemail_max_seconds": _between(call_flow.VOICEMAIL_LENGTH),
            "recording_mode": _one_of("a recording mode", call_flow.RecordingMode),
            "caller_id_mode": _one_of("a caller ID mode", call_flow.CallerIdMode),
        }
        validators = []  # uniqueness is the database's job; services report it per field


class KeywordSerializer(StrictModelSerializer):
    class Meta:
        model = Keyword
        fields = ["id", "campaign", "text", "utm_term", "active", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators = []


# Computed hourly from the pool's traffic (attribution.dni.sizing); informational only.
SIZING_FIELDS = [
    "recommended_size",
    "blocking_probability",
    "exhaustion_rate",
    "peak_hour_sessions",
    "mean_holding_seconds",
    "sized_at",
]


class PoolSerializer(StrictModelSerializer):
    numbers = serializers.SerializerMethodField()

    class Meta:
        model = NumberPool
        fields = [
            "id",
            "campaign",
            "keyword",
            "name",
            "idle_timeout_seconds",
            "grace_seconds",
            "is_default",
            "active",
            "numbers",
            *SIZING_FIELDS,
            "created_at",
        ]
        read_only_fields = ["id", *SIZING_FIELDS, "created_at"]
        extra_kwargs = {
            "idle_timeout_seconds": {"min_value": 60, "max_value": 86400},
            "grace_seconds": {"min_value": 0, "max_value": 86400},
        }
        validators = []

    def get_numbers(self, pool) -> list[str]:
        return [number.e164 for number in pool.numbers.all()]

    def validate(self, attrs):
        campaign = attrs.get("campaign", getattr(self.instance, "campaign", None))
        keyword = attrs.get("keyword", getattr(self.instance, "keyword", None))
        if keyword is not None and keyword.campaign_id != campaign.pk:
            raise serializers.ValidationError(
                {"keyword": [f"Keyword {keyword.pk} belongs to another campaign."]}
            )
        return attrs


class NumberSerializer(StrictModelSerializer):
    e164 = PhoneNumberField(max_length=40)

    class Meta:
        model = TrackingNumber
        fields = [
            "id",
            "e164",
            "kind",
            "campaign",
            "pool",
            "provider",
            "provider_sid",
            "active",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"campaign": {"required": False}}
        validators = []

    def validate(self, attrs):
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        campaign = attrs.get("campaign", getattr(self.instance, "campaign", None))
        pool = attrs.get("pool", getattr(self.instance, "pool", None))
        if kind == TrackingNumber.Kind.STATIC and campaign is None:
            raise serializers.ValidationError({"campaign": ["A static number names its campaign."]})
        if kind == TrackingNumber.Kind.POOL:
            if pool is None:
                raise serializers.ValidationError({"pool": ["A pool number names its pool."]})
            if "campaign" in attrs and attrs["campaign"] != pool.campaign:
                raise serializers.ValidationError(
                    {"campaign": ["A pool number's campaign is its pool's; leave it out."]}
                )
        return attrs


class CostListSerializer(serializers.ListSerializer):
    """A batch of costs: every item checked, and the same (campaign, keyword, date) twice in
    one batch is an error on the later item (an upsert cannot apply both)."""

    def to_internal_value(self, data):
        # Checked here, not in validate(): DRF would fold a validate() error into
        # non_field_errors and lose which item it was.
        attrs = super().to_internal_value(data)
        seen: dict[tuple, int] = {}
        errors: dict[int, dict] = {}
        for index, item in enumerate(attrs):
            key = (item["campaign"].pk, getattr(item.get("keyword"), "pk", None), item["date"])
            if key in seen:
                errors[index] = {"date": [f"Same campaign, keyword and date as item {seen[key]}."]}
            seen.setdefault(key, index)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class CostSerializer(StrictModelSerializer):
    amount = serializers.DecimalField(max_digits=16, decimal_places=4, min_value=0)

    class Meta:
        model = DailyCost
        fields = [
            "id",
            "campaign",
            "keyword",
            "date",
            "amount",
            "currency",
            "clicks",
            "impressions",
            "updated_at",
        ]
        read_only_fields = ["id", "updated_at"]
        extra_kwargs = {"keyword": {"required": False}, "currency": {"required": False}}
        validators = []
        list_serializer_class = CostListSerializer

    def validate(self, attrs):
        account = self.context["account"]
        currency = attrs.get("currency") or account.currency
        if currency != account.currency:
            raise serializers.ValidationError(
                {
                    "currency": [
                        f"This account reports in {account.currency}; got {currency}. "
                        "Convert the amount before sending it."
                    ]
                }
            )
        attrs["currency"] = currency
        keyword = attrs.get("keyword")
        if keyword is not None and keyword.campaign_id != attrs["campaign"].pk:
            raise serializers.ValidationError(
                {"keyword": [f"Keyword {keyword.pk} belongs to another campaign."]}
            )
        return attrs
