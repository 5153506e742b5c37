"""Secrets never reach a log line: every configured handler redacts bearer keys, our API keys,
platform tokens, passwords, Fernet ciphertext and URL credentials, in messages and tracebacks."""

import io
import logging

import pytest

from config.logging import REDACTED, RedactSecrets, redact

API_KEY = "cp_0a1b2c3d_Zm9vYmFyYmF6cXV4cXV1eHh5ejEyMzQ1"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"Authorization: Bearer {API_KEY}", API_KEY),
        (f"unknown key {API_KEY} from 10.0.0.1", API_KEY),
        ("GET /token?access_token=EAAGm0PX4ZCpsBA1b2c3&x=1", "EAAGm0PX4ZCpsBA1b2c3"),
        ('{"refresh_token": "1//0gLx-9a8b7c6d5e4f"}', "1//0gLx-9a8b7c6d5e4f"),
        ("{'client_secret': 'GOCSPX-abcdef123456'}", "GOCSPX-abcdef123456"),
        ("developer-token developer_token=DEVTOKEN123456", "DEVTOKEN123456"),
        ("password=hunter2hunter2", "hunter2hunter2"),
        ("POST https://crm:s3cr3t-pw@hooks.example.com/in", "s3cr3t-pw"),
        ("row gAAAAABnZ2FyYmFnZV9jaXBoZXJ0ZXh0X2hlcmVfMTIzNDU2Nzg5MA==", "gAAAAABnZ2Fy"),
        ("Basic dXNlcjpwYXNzd29yZDEyMw==", "dXNlcjpwYXNzd29yZDEyMw=="),
    ],
)
def test_redact_removes_each_kind_of_secret(text, secret):
    cleaned = redact(text)

    assert secret not in cleaned
    assert REDACTED in cleaned


def test_redact_leaves_ordinary_lines_alone():
    line = "outbox: 3 new, 0 changed rows for outcome 42 (destination 7, status=sent)"

    assert redact(line) == line


def test_every_configured_handler_carries_the_redaction_filter():
    # pytest's own capture handlers sit beside ours while tests run.
    handlers = [
        h for h in logging.getLogger().handlers if not type(h).__module__.startswith("_pytest")
    ]

    assert handlers
    assert all(any(isinstance(f, RedactSecrets) for f in h.filters) for h in handlers)


def test_a_secret_in_a_message_argument_or_a_traceback_never_reaches_the_output():
    root = logging.getLogger()
    handler = next(h for h in root.handlers if any(isinstance(f, RedactSecrets) for f in h.filters))
    stream = io.StringIO()
    original = handler.setStream(stream)
    try:
        logger = logging.getLogger("attribution.conversions.delivery")
        logger.warning("refused with %s", f"Authorization: Bearer {API_KEY}")
        try:
            raise RuntimeError("token endpoint said: refresh_token=1//0gLx-9a8b7c6d5e4f bad")
        except RuntimeError:
            logger.exception("outbox: adapter %s failed on destination %s", "meta", 7)
    finally:
        handler.setStream(original)

    output = stream.getvalue()
    assert API_KEY not in output
    assert "1//0gLx-9a8b7c6d5e4f" not in output
    assert "outbox: adapter meta failed on destination 7" in output
    assert "RuntimeError: token endpoint said: refresh_token=[redacted] bad" in output
