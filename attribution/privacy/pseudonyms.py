"""Irreversible pseudonyms and the scrubbing of stored JSON. Pure: no ORM, no I/O.

A pseudonym is an HMAC of the identifier under a random salt that lives only in memory for one
erasure request (or one retention run) and is then dropped: the same number maps to the same
pseudonym within the request, so the distinct-caller counts and the outcome↔call links of the
rows it rewrites stay exactly as they were, and nobody can map it back, not even us.

Phone pseudonyms are `+999` and 12 digits: still E.164-shaped, so reports keep counting them as
callers (attribution.reports.rollup_sql.CALLER_NUMBER), yet never a real caller's number — 999
is no country code (ITU reserves it), and a caller ID is stored only when `phonenumbers` finds
it valid (campaigns.phones), so no stored real number can start with it."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from typing import Any

from attribution.conversions.platforms import hashing

PHONE_PREFIX = hashing.ERASED_PHONE_PREFIX
VISITOR_PREFIX = "erased-"
# RFC 2606 reserves the `.invalid` TLD; no platform normaliser takes an address without a dot
# in its domain, so an erased email is never hashed and sent anywhere.
EMAIL_DOMAIN = "@invalid"
# Identifiers shorter than this are not searched for in free text (too many false hits).
MIN_TOKEN = 6


class Pseudonymiser:
    """One request's (or run's) mapping from identifiers to pseudonyms. Keep it no longer than
    the transaction that writes them: the salt is what would make them reversible."""

    def __init__(self) -> None:
        self._salt = secrets.token_bytes(32)

    def _digest(self, kind: str, value: str) -> bytes:
        return hmac.new(self._salt, f"{kind}:{value}".encode(), hashlib.sha256).digest()

    def phone(self, e164: str) -> str:
        """`+999` and 12 digits for a number; "" stays "", a pseudonym stays itself."""
        if not e164 or is_phone_pseudonym(e164):
            return e164
        digits = int.from_bytes(self._digest("phone", e164)[:8], "big") % 10**12
        return f"{PHONE_PREFIX}{digits:012d}"

    def email(self, address: str) -> str:
        address = address.strip().lower()
        if not address or address.endswith(EMAIL_DOMAIN):
            return address
        return f"{VISITOR_PREFIX}{self._digest('email', address).hex()[:20]}{EMAIL_DOMAIN}"

    def visitor(self, visitor_id: str | None) -> str | None:
        if not visitor_id or visitor_id.startswith(VISITOR_PREFIX):
            return visitor_id
        return f"{VISITOR_PREFIX}{self._digest('visitor', visitor_id).hex()[:32]}"


def is_phone_pseudonym(e164: str) -> bool:
    return e164.startswith(PHONE_PREFIX)


def request_digest(kind: str, value: str, *, key: bytes) -> str:
    """What the audit log keeps of a request's identifier: an HMAC-SHA256 under the
    deployment's secret, so "was this number's erasure asked for?" can be answered by whoever
    holds the secret, while a copy of the database alone cannot: a plain hash of a phone number
    is reversed by hashing every number. It never equals a hash an ad platform was sent."""
    message = f"callpath-erasure:{kind}:{value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def phone_tokens(e164: str) -> set[str]:
    """Every form a number takes in what we store or sent: E.164, the digits alone (Meta), and
    each platform's SHA-256 of them."""
    return {
        e164,
        e164.lstrip("+"),
        hashing.google_hashed_phone(e164),
        hashing.meta_hashed_phone(e164),
        hashing.microsoft_hashed_phone(e164),
    } - {""}


def email_tokens(address: str) -> set[str]:
    address = address.strip().lower()
    return {
        address,
        hashing.google_email(address),
        hashing.google_hashed_email(address),
        hashing.meta_hashed_email(address),
        hashing.microsoft_hashed_email(address),
    } - {""}


def searchable(tokens: Iterable[str]) -> list[str]:
    """The tokens worth a text search, longest first (a longer one may contain a shorter)."""
    return sorted({t for t in tokens if t and len(t) >= MIN_TOKEN}, key=lambda t: (-len(t), t))


def replace_all(text: str, replacements: dict[str, str]) -> str:
    """`text` with each key replaced by its value, case-insensitively (emails), longest first."""
    lowered = text.lower()
    if not any(key.lower() in lowered for key in replacements):
        return text
    for key in sorted(replacements, key=len, reverse=True):
        start = 0
        while (at := text.lower().find(key.lower(), start)) >= 0:
            text = text[:at] + replacements[key] + text[at + len(key) :]
            start = at + len(replacements[key])
    return text


def scrub_json(value: Any, tokens: Iterable[str]) -> Any:
    """`value` with every string containing one of `tokens` gone: an object's value becomes
    null, a list's item is dropped (Meta's `ph: [hash]` becomes `ph: []`). A payload scrubbed
    so is a record of what was decided, no longer of whom it was about."""
    needles = [t.lower() for t in searchable(tokens)]

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: walk(item) for key, item in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node if not _hit(item)]
        return None if _hit(node) else node

    def _hit(node: Any) -> bool:
        return isinstance(node, str) and any(n in node.lower() for n in needles)

    return walk(value)
