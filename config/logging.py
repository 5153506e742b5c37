"""Secrets never reach the logs: one filter on every handler rewrites what a record would print.

It catches what our code never logs on purpose but a library or a traceback might: bearer
headers and our API keys, OAuth and platform tokens in query strings, JSON or form bodies,
passwords, Fernet ciphertext (campaigns.crypto), and credentials in URLs (`https://user:pw@`).
A record's message and its traceback are redacted before any formatter sees them."""

import logging
import re

REDACTED = "[redacted]"

SECRET_NAMES = (
    r"access_token|refresh_token|id_token|client_secret|developer_token|auth_token|"
    r"twilio_auth_token|password|passwd|secret|api_key|apikey|signature"
)
PATTERNS = [
    # Authorization: Bearer <token>, Basic <b64>, and a bare "Bearer <token>".
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    # Our API keys: cp_<8 hex>_<secret> (campaigns.services.issue_api_key).
    (re.compile(r"\bcp_[0-9a-f]{8}_[A-Za-z0-9_-]{8,}"), "cp_" + REDACTED),
    # name=value, name: value, "name": "value" (query strings, forms, JSON, Python reprs).
    (
        re.compile(rf"(?i)([\"']?\b(?:{SECRET_NAMES})\b[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,;}})]+"),
        r"\1" + REDACTED,
    ),
    # Fernet tokens: ciphertext is not plaintext, but it need not travel either.
    (re.compile(r"\bgAAAAA[A-Za-z0-9_=-]{20,}"), REDACTED),
    # https://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"), r"\1" + REDACTED + "@"),
]


def redact(text: str) -> str:
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Attach to handlers (not loggers: a logger's filter misses records of its children)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
