import pytest

from campaigns import phones


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("+14155552671", "+14155552671"),
        ("(415) 555-2671", "+14155552671"),
        ("1-800-FLOWERS", "+18003569377"),
        ("+1 415 555 2671 ext 12", "+14155552671"),
        ("anonymous", ""),
        ("Restricted", ""),
        ("UNAVAILABLE", ""),
        ("+266696687", ""),  # ANONYMOUS on a keypad; parses as Lesotho, so it is listed
        ("+7378742833", ""),
        ("client:alice", ""),
        ("sip:alice@example.com", ""),
        ("", ""),
        ("0", ""),
        ("+1 555 555 0100", ""),  # possible but not valid
    ],
)
def test_caller_ids_keep_valid_numbers_and_the_raw_text(text, e164):
    caller = phones.parse_caller_id(text, region="US")
    assert caller == phones.CallerId(e164, text.strip())


@pytest.mark.parametrize("text", ["12ab", "hello", "call me"])
def test_text_that_is_not_a_phone_number_is_bad_input_through_the_api(text):
    with pytest.raises(phones.InvalidPhoneNumber, match=f"'{text}' is not a phone number"):
        phones.parse_caller_id(text, region="US")


def test_webhooks_store_any_text_as_no_number():
    assert phones.parse_caller_id("hello", region="US", strict=False) == phones.CallerId(
        "", "hello"
    )


def test_configured_numbers_use_the_accounts_region():
    assert phones.parse_configured_number("020 7183 8750", region="GB") == "+442071838750"
    with pytest.raises(phones.InvalidPhoneNumber):
        phones.parse_configured_number("020 7183 8750", region="US")
