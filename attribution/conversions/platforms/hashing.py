"""Normalise and SHA-256 the caller's phone number and email the way each platform matches them.

Pure functions, no I/O. Inputs are what `Facts` holds: a valid E.164 number (`+14155550100`)
and an email. The platforms disagree on the phone string (Google hashes `+1…`, Meta `1…`), so
each platform has its own pair of functions; an input that cannot be normalised gives "" (no
identifier), never a hash of garbage.
"""

from __future__ import annotations

import hashlib
import re

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Google's Formatter: Gmail-specific rules apply to these two domains only.
# https://developers.google.com/google-ads/api/docs/conversions/enhanced-conversions/leads
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


# An erased caller's pseudonym (attribution.privacy.pseudonyms): E.164-shaped so reports still
# count the caller, but 999 is no country code, so it is no identifier to hash and send.
ERASED_PHONE_PREFIX = "+999"


def e164(number: str) -> str:
    """The number if it is E.164 (`+` and 7–15 digits) and not an erased caller's, else ""."""
    number = number.strip()
    if number.startswith(ERASED_PHONE_PREFIX):
        return ""
    return number if _E164.match(number) else ""


def basic_email(address: str) -> str:
    """Trimmed and lower-cased, if it looks like one address (`user@domain`, no spaces)."""
    address = address.strip().lower()
    local, at, domain = address.partition("@")
    if not at or not local or "." not in domain or "@" in domain or re.search(r"\s", address):
        return ""
    return address


# Google (Data Manager `emailAddress`/`phoneNumber`, Google Ads `hashedEmail`/`hashedPhoneNumber`)


def google_email(address: str) -> str:
    """Google's documented rule (and its datamanager-util Formatter): trim, lower-case, and for
    gmail.com/googlemail.com only, drop dots and any `+suffix` from the local part. Google's own
    Ads example strips them for every domain, which disagrees with its docs (PROTOCOLS §0.5)."""
    address = basic_email(address)
    if not address:
        return ""
    local, _, domain = address.partition("@")
    if domain in _GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        if not local:
            return ""
    return f"{local}@{domain}"


def google_phone(number: str) -> str:
    """E.164 with the leading `+`, as Google hashes it."""
    return e164(number)


def hashed(normalised: str) -> str:
    """SHA-256 hex of a normalised identifier; "" (no identifier) stays ""."""
    return sha256_hex(normalised) if normalised else ""


def google_hashed_email(address: str) -> str:
    return hashed(google_email(address))


def google_hashed_phone(number: str) -> str:
    return hashed(google_phone(number))


# Meta Conversions API `em` / `ph`
# https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/customer-information-parameters


def meta_email(address: str) -> str:
    """Trim and lower-case only: Meta documents no Gmail rule."""
    return basic_email(address)


def meta_phone(number: str) -> str:
    """Digits with the country code and no `+` (Meta's SDK never adds a country code, so the
    E.164 form is the only safe input)."""
    number = e164(number)
    return number[1:] if number else ""


def meta_hashed_email(address: str) -> str:
    return hashed(meta_email(address))


def meta_hashed_phone(number: str) -> str:
    return hashed(meta_phone(number))


# Microsoft Advertising `HashedEmailAddress` / `HashedPhoneNumber`.
# UNVERIFIED (PROTOCOLS §4.1, §5.3): Microsoft documents SHA-256 of a "normalized" value without
# the rule. We send SHA-256 of the trimmed, lower-cased email and of the E.164 number with `+`;
# confirm against Microsoft's docs or support before relying on the match rate.


def microsoft_hashed_email(address: str) -> str:
    return hashed(basic_email(address))


def microsoft_hashed_phone(number: str) -> str:
    return hashed(e164(number))
