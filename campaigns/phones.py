"""Phone numbers: parsing to E.164 with the account's region. Pure: no ORM, no I/O.

Two kinds of input, two rules (PRODUCT.md, "Definitions"):
- numbers we configure (tracking numbers, `forward_to`) must be valid, else the input is bad;
- caller IDs come from the phone network: withheld or invalid ones are kept as no number with
  the raw text, and only text that is not a phone number at all is bad input.
"""

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException

# Twilio's and carriers' stand-ins for a withheld caller ID, in words and in digits.
# The digit forms spell ANONYMOUS, RESTRICTED, UNKNOWN, BLOCKED and UNAVAILABLE on a keypad;
# +266696687 even parses as a (possible-looking) Lesotho number, so they are listed, not parsed.
WITHHELD_WORDS = frozenset(
    {"anonymous", "restricted", "unknown", "unavailable", "private", "blocked", "withheld"}
)
WITHHELD_DIGITS = frozenset({"+266696687", "+7378742833", "+8656696", "+2562533", "+86282452253"})
IDENTITY_PREFIXES = ("client:", "sip:", "sim:")
# Digits, separators and at most a few letters (vanity numbers like 1-800-FLOWERS).
PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]*[\dA-Za-z][\dA-Za-z\s().\-/]*(;?\s*(ext|x)\.?\s*\d+)?$")


class InvalidPhoneNumber(ValueError):
    """The text is not a phone number we can accept; the message names the value."""


@dataclass(frozen=True)
class CallerId:
    e164: str  # "" when withheld or invalid
    raw: str


def _parse(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except NumberParseException:
        return None


def parse_configured_number(text: str, *, region: str) -> str:
    """E.164 of a number we configure; raises InvalidPhoneNumber unless it is a valid number."""
    number = _parse(str(text).strip(), region)
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(f"'{text}' is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _looks_like_phone(text: str) -> bool:
    """Digits and separators, or a vanity number: letters need at least three digits beside
    them, so "1-800-FLOWERS" is a number and "12ab" is not."""
    if not PHONE_LIKE.match(text):
        return False
    if not any(ch.isalpha() for ch in text):  # most caller IDs: no letters, nothing to count
        return True
    has_letters = any(ch.isalpha() for ch in re.sub(r"(ext|x)\.?\s*\d+$", "", text))
    return not has_letters or sum(ch.isdigit() for ch in text) >= 3


def parse_caller_id(text: str | None, *, region: str, strict: bool = True) -> CallerId:
    """Read a caller ID. Withheld or invalid numbers give `e164=""` with the raw text kept.

    With `strict` (the REST API), text that is not phone-like at all ("12ab", "hello") raises
    InvalidPhoneNumber; webhooks pass `strict=False` and store whatever the network sent."""
    raw = (text or "").strip()
    lowered = raw.lower()
    if not raw or lowered in WITHHELD_WORDS or lowered.startswith(IDENTITY_PREFIXES):
        return CallerId("", raw)
    if raw in WITHHELD_DIGITS:
        return CallerId("", raw)
    if strict and not _looks_like_phone(raw):
        raise InvalidPhoneNumber(f"'{raw}' is not a phone number")
    number = _parse(raw, region)
    if number is None or not phonenumbers.is_valid_number(number):
        return CallerId("", raw)
    return CallerId(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), raw)


def display(e164: str) -> str:
    """The national format a visitor expects to read, e.g. (415) 555-0100."""
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
