"""`inputs.validate_batch`, the lean validator of call batches, answers exactly as DRF's
ListSerializer of `CallInputSerializer` does (the API's validation before it existed): the same
validated attrs, in the same key order, or the same errors with the same codes."""

import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from calls import inputs
from campaigns import phones
from campaigns.models import Account


class ReferenceListSerializer(serializers.ListSerializer):
    """What `/api/v1/calls/` ran for a list until the lean validator: DRF validates each item
    with the child, then a repeated (provider, external_id) is an error on the later item."""

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


def plain(detail):
    """Error details with their codes, as comparable plain data."""
    if isinstance(detail, dict):
        return {key: plain(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [plain(value) for value in detail]
    return (str(detail), getattr(detail, "code", None))


def reference(data, region: str):
    serializer = ReferenceListSerializer(
        child=inputs.CallInputSerializer(),
        data=data,
        max_length=inputs.MAX_BATCH,
        context={"account": Account(region=region)},
    )
    if serializer.is_valid():
        return "valid", serializer.validated_data
    errors = serializer.errors
    if isinstance(errors, dict) and all(isinstance(key, int) for key in errors):
        # Aligned with the input by the API's exception handler, as validate_batch raises them.
        errors = [errors.get(index, {}) for index in range(len(data))]
    return "invalid", plain(errors)


def lean(data, region: str):
    try:
        return "valid", inputs.validate_batch(data, region=region)
    except serializers.ValidationError as exc:
        return "invalid", plain(exc.detail)


def assert_same_answer(data, region="US") -> str:
    expected, got = reference(data, region), lean(data, region)
    # repr: the same keys in the same order, the same types, time zones included.
    assert repr(got) == repr(expected)
    return expected[0]


# Values DRF accepts for each field, plain and less so (numbers for strings, naive or basic
# ISO 8601 times, "1.0" for an integer, words for booleans), and values it refuses.
ACCEPTED = {
    "provider": ["acme", " acme ", "p" * 40, "p" * 40 + "  ", 7, 7.5, "José"],
    "external_id": ["CA1", "CA2", " CA1 ", "e" * 120, 12, "ÇA1"],
    "tracking_number": ["+12125550170", "(212) 555-0170", " 212 555 0170 ", 2125550170],
    "caller_number": [
        *["+1 415 555 2671", "4155552671", 4155552671, "1-800-FLOWERS", "415 555 2671 x12"],
        *["+1 555 555 0100", "020 7183 8750", "+442071838750"],
        *["anonymous", "Restricted", "+266696687", "client:alice", "sip:a@b.example"],
        *["", "  ", None, 0, " +14155552671 "],
    ],
    "started_at": [
        *["2026-11-02T15:04:05Z", "2026-11-02T15:04:05+02:00", "2026-11-02 15:04:05"],
        *["2026-11-02", "2026-11-02T15:04", "20261102T150405Z", "2026-11-02T15:04:05.1234567Z"],
        *["2026-11-02T15:04:05,5Z", "2026-11-02T15:04:05 +0200", "iso-8601"],
        *["2026-11-02T15:04:05.5-05:30"],
    ],
    "duration_seconds": [
        0,
        95,
        "95",
        "0095",
        "95.0",
        " 95 ",
        95.0,
        604800,
        "604800",
        "95.00 ",
        "０",
    ],
    "status": ["answered", "missed", "voicemail", "ringing"],
    "talk_seconds": [None, 0, 10, "10", 10.0, "0"],
    "recording_url": ["", "  ", "https://r.example/a", "ftp://x.example/y", "http://localhost"],
    "agent": ["", "  ", "Ann", " Bo ", 5, "a" * 120, "Zoë"],
    "transferred": [True, False, "true", "False", "YES", "0", "1", 1, 0, 1.0, 0.0, "on", "t"],
}
ACCEPTED["recording_url"].append(" https://r.example/b ")
REFUSED = {
    "provider": ["", "   ", "p" * 41, None, True, ["a"], {"a": 1}, "a\x00b", "\ud800x"],
    "external_id": ["", "e" * 121, None, False, "CA\x001"],
    "tracking_number": ["555", "hello", "+1 555 555 0100", "", None, "+1212555017" * 4, 2.5],
    "caller_number": ["12ab", "hello", "+1 415 555 2671;ext=9", "x" * 201, ["+14155552671"], True],
    "started_at": [
        *["2026-13-02T00:00:00Z", "yesterday", "", None, 1_700_000_000, " 2026-11-02T15:04Z"],
        *[
            "9999-12-31T23:59:59-01:00",
            "0001-01-01T00:00:00+01:00",
            "2026-11-02T15:04:05z",
            "2026-11-02T25:00",
        ],
    ],
    "duration_seconds": [-1, "-1", 604801, "604801", "abc", "", None, True, "95.5", 95.5],
    "status": ["completed", "", None, "ANSWERED", 1, ["answered"]],
    "talk_seconds": [-1, 200, "200", "", "x", True, 604801],
    "recording_url": ["not a url", None, "https://r.example/" + "a" * 490, "https://ex ample.com"],
    "agent": [None, "a" * 121, True, "\x00"],
    "transferred": ["maybe", None, "null", "", [True], 2],
}
GOOD = {
    "provider": "acme",
    "tracking_number": "(212) 555-0170",
    "caller_number": "+1 415 555 2671",
    "started_at": "2026-11-02T15:04:05Z",
    "duration_seconds": 95,
    "status": "answered",
}
OPTIONAL = ["caller_number", "talk_seconds", "recording_url", "agent", "transferred"]


@st.composite
def items(draw, refused: bool):
    """A good call with a few fields changed to other accepted values, and (`refused`) now and
    then a refused value, an unknown field, a required field left out, or no call at all."""
    item = {**GOOD, "external_id": draw(st.sampled_from(["CA1", "CA2", "CA3", "CA4", "CA5"]))}
    for name in draw(st.lists(st.sampled_from(sorted(ACCEPTED)), max_size=4, unique=True)):
        item[name] = draw(st.sampled_from(ACCEPTED[name]))
    for name in draw(st.lists(st.sampled_from(OPTIONAL), max_size=2, unique=True)):
        item.pop(name, None)
    if refused and draw(st.integers(0, 2)) == 0:
        change = draw(st.sampled_from([*sorted(REFUSED), "leave out", "unknown", "no call"]))
        if change == "no call":
            return draw(st.sampled_from([None, "CA1", [], 3]))
        if change == "leave out":
            item.pop(draw(st.sampled_from([*sorted(GOOD), "external_id"])), None)
        elif change == "unknown":
            item["colour"] = "red"
        else:
            item[change] = draw(st.sampled_from(REFUSED[change]))
    return item


REGIONS = st.sampled_from(["US", "GB"])


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(items(refused=False), min_size=1, max_size=4), region=REGIONS)
def test_the_lean_validator_accepts_what_the_serializer_accepts(batch, region):
    assert_same_answer(batch, region)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(items(refused=True), max_size=5), region=REGIONS)
@example(batch=[GOOD | {"external_id": "a"}, GOOD | {"external_id": "a"}], region="US")
def test_the_lean_validator_refuses_what_the_serializer_refuses(batch, region):
    assert_same_answer(batch, region)


def test_every_listed_value_is_accepted_or_refused_as_listed():
    """The lists above mean what they say (else the properties test less than they claim)."""
    for name, values in ACCEPTED.items():
        for value in values:
            item = GOOD | {"external_id": "CA1", name: value}
            assert assert_same_answer([item]) == "valid", (name, value)
    for name, values in REFUSED.items():
        for value in values:
            item = GOOD | {"external_id": "CA1", name: value}
            assert assert_same_answer([item]) == "invalid", (name, value)


@pytest.mark.parametrize("data", [[GOOD | {"external_id": f"CA{i}"} for i in range(1001)], []])
def test_batch_limits_are_the_serializers(data):
    assert_same_answer(data)


def test_a_batch_that_is_not_a_list_is_refused_as_the_serializer_refuses_it():
    assert_same_answer({"calls": []})


@settings(max_examples=500, deadline=None)
@given(
    text=st.one_of(
        st.none(),
        st.text(alphabet=string.digits + " +-().xX;=ext:abcFLOWERS", max_size=24),
        st.sampled_from([v for v in ACCEPTED["caller_number"] if isinstance(v, str)]),
    ),
    region=st.sampled_from(["US", "GB", "DE"]),
)
def test_the_phone_memo_answers_as_parsing_each_time(text, region):
    memo = inputs.PhoneMemo(region)

    def answer(parse, *args, **kwargs):
        try:
            return parse(*args, **kwargs)
        except phones.InvalidPhoneNumber as exc:
            return str(exc)

    expected_caller = answer(phones.parse_caller_id, text, region=region)
    for _ in range(2):  # parsed, then remembered
        assert answer(memo.caller, text) == expected_caller
        if text is not None:
            expected = answer(phones.parse_configured_number, text, region=region)
            assert answer(memo.tracking, text) == expected
