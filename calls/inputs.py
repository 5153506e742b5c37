"""The one validation of a call as a provider reports it.

`CallInputSerializer` is the schema: the OpenAPI document and the single-object POST use it.
Batches (the API's lists, the CSV import) go through `CallValidator`, which gives the same
answers without DRF's per-field machinery, the bulk of a batch's cost: it decides the plain,
valid items itself and hands anything else to the serializer, so every error message is the
serializer's own. tests/calls/test_call_inputs.py holds the two to the same answers."""

import datetime as dt
import re
from functools import cached_property

from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from calls.models import CallStatus
from campaigns import phones
from campaigns.api.tenancy import StrictSerializerMixin

MAX_BATCH = 1000
MAX_DURATION = 7 * 24 * 3600


def region_of(context) -> str:
    account = context.get("account")
    return account.region if account else "US"


class PhoneMemo:
    """The phone numbers of one batch or file, each distinct text parsed once. A parse is a
    pure function of (text, region); a file names a few tracking numbers thousands of times,
    and a caller who calls again is parsed again for nothing."""

    LIMIT = 100_000  # distinct texts remembered: a file of junk numbers cannot grow it further

    def __init__(self, region: str):
        self.region = region
        self._tracking: dict[str, str | phones.InvalidPhoneNumber] = {}
        self._callers: dict[str | None, phones.CallerId | phones.InvalidPhoneNumber] = {}

    def tracking(self, text: str) -> str:
        """`phones.parse_configured_number`: E.164, or InvalidPhoneNumber."""
        known = self._tracking.get(text)
        if known is None:
            try:
                known = phones.parse_configured_number(text, region=self.region)
            except phones.InvalidPhoneNumber as exc:
                known = exc
            self._remember(self._tracking, text, known)
        if isinstance(known, phones.InvalidPhoneNumber):
            raise phones.InvalidPhoneNumber(str(known))
        return known

    def caller(self, text: str | None) -> phones.CallerId:
        """`phones.parse_caller_id` (strict): a CallerId, or InvalidPhoneNumber."""
        known = self._callers.get(text)
        if known is None:
            try:
                known = phones.parse_caller_id(text, region=self.region)
            except phones.InvalidPhoneNumber as exc:
                known = exc
            self._remember(self._callers, text, known)
        if isinstance(known, phones.InvalidPhoneNumber):
            raise phones.InvalidPhoneNumber(str(known))
        return known

    def _remember(self, memo: dict, key, value) -> None:
        if len(memo) >= self.LIMIT:
            memo.clear()
        memo[key] = value


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

    @cached_property
    def phone_memo(self) -> PhoneMemo:
        """The batch's memo when a CallValidator runs this serializer, else its own."""
        return self.context.get("phone_memo") or PhoneMemo(region_of(self.context))

    def validate_tracking_number(self, value):
        try:
            return self.phone_memo.tracking(value)
        except phones.InvalidPhoneNumber as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate(self, attrs):
        talk = attrs.get("talk_seconds")
        if talk is not None and talk > attrs["duration_seconds"]:
            raise serializers.ValidationError(
                {"talk_seconds": ["Cannot be longer than duration_seconds."]}
            )
        try:
            caller = self.phone_memo.caller(attrs.pop("caller_number", None))
        except phones.InvalidPhoneNumber as exc:
            raise serializers.ValidationError({"caller_number": [str(exc)]}) from exc
        attrs["caller_e164"], attrs["caller_raw"] = caller.e164, caller.raw
        attrs["tracking_e164"] = attrs.pop("tracking_number")
        return attrs


FIELDS = frozenset(CallInputSerializer().fields)
MAX_LENGTH = {
    name: field.max_length
    for name, field in CallInputSerializer().fields.items()
    if getattr(field, "max_length", None)
}
STATUSES = frozenset(CallStatus.values)
SURROGATE = re.compile("[\ud800-\udfff]")
TRUE = frozenset(v for v in serializers.BooleanField.TRUE_VALUES if isinstance(v, str))
FALSE = frozenset(v for v in serializers.BooleanField.FALSE_VALUES if isinstance(v, str))


def _text(value, max_length: int) -> str | None:
    """What CharField makes of a string it accepts without a second look (stripped, not blank,
    short enough, no NUL or surrogate); None for anything else."""
    if type(value) is not str:
        return None
    text = value.strip()
    if not text or len(text) > max_length or "\x00" in text:
        return None
    if not text.isascii() and SURROGATE.search(text):
        return None
    return text


def _seconds(value) -> int | None:
    """IntegerField(min_value=0, max_value=MAX_DURATION) on an int or a string of ASCII digits
    (a short one: int() of thousands of digits raises); None for anything else."""
    if type(value) is int:
        number = value
    elif type(value) is str and len(value) <= 12 and value.isascii() and value.isdigit():
        number = int(value)
    else:
        return None
    return number if 0 <= number <= MAX_DURATION else None


class CallValidator:
    """`CallInputSerializer.run_validation` item by item, with the batch's phone memo: the same
    validated attrs (keys in the same order) for a good item, the same error detail for a bad
    one. Plain items (a dict of strings and numbers as JSON or CSV gives them) are decided here;
    anything else, and every error, is the serializer's to decide."""

    def __init__(self, *, region: str):
        self.phone_memo = PhoneMemo(region)
        self.serializer = CallInputSerializer(context={"phone_memo": self.phone_memo})
        self._started = self.serializer.fields["started_at"]
        self._url = self.serializer.fields["recording_url"]
        # `_moment` reads ISO 8601 as the field does; other input formats are the field's to read.
        formats = getattr(self._started, "input_formats", api_settings.DATETIME_INPUT_FORMATS)
        self._iso_only = [f.lower() for f in formats] == [ISO_8601]
        # The zone the field converts to, looked up once (a thread-local read per item else).
        self._zone = getattr(self._started, "timezone", None) or self._started.default_timezone()

    def validate(self, item) -> tuple[dict | None, dict | list]:
        """(attrs, {}) for a good item, (None, the serializer's error detail) for a bad one."""
        attrs = self._plain(item)
        if attrs is not None:
            return attrs, {}
        try:
            return self.serializer.run_validation(item), {}
        except serializers.ValidationError as exc:
            return None, exc.detail

    def _plain(self, item) -> dict | None:
        """The attrs of an item valid at a glance; None when the serializer must look."""
        if type(item) is not dict or not item.keys() <= FIELDS:
            return None
        status = item.get("status")
        attrs = {
            "provider": _text(item.get("provider"), MAX_LENGTH["provider"]),
            "external_id": _text(item.get("external_id"), MAX_LENGTH["external_id"]),
            "started_at": self._moment(item.get("started_at")),
            "duration_seconds": _seconds(item.get("duration_seconds")),
            "status": status if type(status) is str and status in STATUSES else None,
        }
        if None in attrs.values():
            return None
        if "talk_seconds" in item:
            talk = item["talk_seconds"]  # null is a value here: "not known yet"
            if talk is not None:
                talk = _seconds(talk)
                if talk is None or talk > attrs["duration_seconds"]:
                    return None
            attrs["talk_seconds"] = talk
        optional = {
            "recording_url": self._link(item["recording_url"]) if "recording_url" in item else "",
            "agent": _blank_or_text(item["agent"], MAX_LENGTH["agent"]) if "agent" in item else "",
            "transferred": _flag(item.get("transferred", False)),
        }
        if None in optional.values():
            return None
        for name in ("recording_url", "agent"):
            if name in item:
                attrs[name] = optional[name]
        attrs["transferred"] = optional["transferred"]
        return self._numbers(attrs, item)

    def _numbers(self, attrs: dict, item: dict) -> dict | None:
        tracking = _text(item.get("tracking_number"), MAX_LENGTH["tracking_number"])
        caller = item.get("caller_number")
        if caller is not None:
            caller = _blank_or_text(caller, MAX_LENGTH["caller_number"])
            if caller is None:
                return None
        if tracking is None:
            return None
        try:
            tracking_e164 = self.phone_memo.tracking(tracking)
            caller_id = self.phone_memo.caller(caller)
        except phones.InvalidPhoneNumber:
            return None
        attrs["caller_e164"], attrs["caller_raw"] = caller_id.e164, caller_id.raw
        attrs["tracking_e164"] = tracking_e164
        return attrs

    def _moment(self, value) -> dt.datetime | None:
        """DateTimeField: `parse_datetime` tries `fromisoformat` first, and what that reads
        goes through the field's own time zone rule."""
        if type(value) is not str or not self._iso_only:
            return None
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        if parsed.utcoffset() is not None and self._zone is not None:
            try:  # enforce_timezone() on an aware datetime
                return parsed.astimezone(self._zone)
            except OverflowError:
                return None
        try:
            return self._started.enforce_timezone(parsed)
        except serializers.ValidationError:
            return None

    def _link(self, value) -> str | None:
        if type(value) is str and not value.strip():
            return ""
        try:  # the URL validator itself: rarely given, and its rules are many
            return self._url.run_validation(value)
        except serializers.ValidationError:
            return None


def _blank_or_text(value, max_length: int) -> str | None:
    """CharField(allow_blank=True): a blank string is ""."""
    if type(value) is str and not value.strip():
        return ""
    return _text(value, max_length)


def _flag(value) -> bool | None:
    """BooleanField on a bool or one of its words (any case); None for anything else."""
    if value is True or value is False:
        return value
    if type(value) is str:
        word = value.lower()
        if word in TRUE:
            return True
        if word in FALSE:
            return False
    return None


def validate_items(items: list, *, region: str) -> tuple[list[dict], list]:
    """What DRF's ListSerializer of `CallInputSerializer` decides for `items`, and then the
    rule of one batch: a (provider, external_id) seen earlier in it is an error on the later
    item (checked, as before, once every item is valid by itself).

    Returns (validated attrs, []) when every item is good, else ([], errors) with the errors
    aligned with `items`, `{}` for the good ones."""
    validator = CallValidator(region=region)
    validated, errors = [], []
    for item in items:
        attrs, error = validator.validate(item)
        validated.append(attrs)
        errors.append(error)
    if any(errors):
        return [], errors
    first: dict[tuple[str, str], int] = {}
    for index, attrs in enumerate(validated):
        seen = first.setdefault((attrs["provider"], attrs["external_id"]), index)
        if seen != index:
            errors[index] = {"external_id": [f"Same provider and external_id as item {seen}."]}
    if any(errors):
        return [], errors
    return validated, []


def validate_batch(data, *, region: str) -> list[dict]:
    """The API's list of calls: validated attrs, or the ValidationError DRF's
    `ListSerializer(child=CallInputSerializer(), max_length=MAX_BATCH)` would raise."""
    messages = serializers.ListSerializer.default_error_messages
    if not isinstance(data, list):
        message = messages["not_a_list"].format(input_type=type(data).__name__)
        raise serializers.ValidationError(
            {api_settings.NON_FIELD_ERRORS_KEY: [message]}, code="not_a_list"
        )
    if len(data) > MAX_BATCH:
        message = messages["max_length"].format(max_length=MAX_BATCH)
        raise serializers.ValidationError(
            {api_settings.NON_FIELD_ERRORS_KEY: [message]}, code="max_length"
        )
    validated, errors = validate_items(data, region=region)
    if errors:
        raise serializers.ValidationError(errors)
    return validated
