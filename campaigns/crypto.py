"""Secrets at rest: model fields stored encrypted with Fernet (AES-128-CBC + HMAC-SHA256).

A database dump, a replica or a backup carries only ciphertext for Twilio auth tokens, platform
credentials and OAuth tokens; the key lives in the environment, never in the database.

Keys, newest first:
- `FIELD_ENCRYPTION_KEYS`: Fernet keys (`Fernet.generate_key()`), comma-separated. The first
  encrypts; every one decrypts, so a key is rotated by putting a new one in front and running
  `manage.py reencryptsecrets`.
- Without it, a key derived (HKDF-SHA256) from `SECRET_KEY`, and one from each
  `SECRET_KEY_FALLBACKS`, so rotating Django's secret the documented way keeps old rows readable
  until `reencryptsecrets` has run.

A value that does not decrypt raises `ImproperlyConfigured`: the wrong key is a deployment
error, and silently reading garbage (or plaintext) would hide it."""

import base64
import functools
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

INFO = b"callpath field encryption v1"


@functools.lru_cache(maxsize=8)  # every decrypt asks: derive each secret's key once
def derived_key(secret: str) -> bytes:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(secret.encode())
    return base64.urlsafe_b64encode(raw)


def configured_keys() -> tuple[bytes, ...]:
    explicit = [key.strip().encode() for key in settings.FIELD_ENCRYPTION_KEYS if key.strip()]
    if explicit:
        return tuple(explicit)
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return tuple(derived_key(secret) for secret in secrets)


@functools.lru_cache(maxsize=4)
def _fernet(keys: tuple[bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(configured_keys())


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


WRONG_KEY = (
    "A stored secret does not decrypt with FIELD_ENCRYPTION_KEYS / SECRET_KEY: was the key "
    "changed without keeping the old one (FIELD_ENCRYPTION_KEYS, SECRET_KEY_FALLBACKS)?"
)


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(WRONG_KEY) from exc


def rotate(token: str) -> str:
    """The same secret, encrypted with the current first key."""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(WRONG_KEY) from exc


class EncryptedTextField(models.TextField):
    """A string stored as a Fernet token; "" is stored as "" (nothing to hide)."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value


class EncryptedJSONField(models.TextField):
    """A JSON object stored as a Fernet token of its text; it reads back as the dict."""

    def from_db_value(self, value, expression, connection):
        return json.loads(decrypt(value)) if value else {}

    def to_python(self, value):
        if isinstance(value, dict | list) or value is None:
            return value
        return json.loads(value) if value else {}

    def get_prep_value(self, value):
        return encrypt(json.dumps(value if value is not None else {}, sort_keys=True))

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj))


def encrypted_columns() -> list[tuple[type[models.Model], str]]:
    """Every (model, column) stored encrypted, across the installed apps."""
    from django.apps import apps

    return [
        (model, field.column)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField | EncryptedJSONField)
    ]


def reencrypt_all() -> int:
    """Encrypt every stored secret again with the current first key (after a key rotation), in
    one transaction; returns the number of values rewritten. Safe to run again."""
    from django.db import connection, transaction

    rewritten = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for model, column in encrypted_columns():
            table, pk = model._meta.db_table, model._meta.pk.column
            cursor.execute(
                f'SELECT "{pk}", "{column}" FROM "{table}" WHERE "{column}" <> %s FOR UPDATE', [""]
            )
            for key, token in cursor.fetchall():
                cursor.execute(
                    f'UPDATE "{table}" SET "{column}" = %s WHERE "{pk}" = %s', [rotate(token), key]
                )
                rewritten += 1
    return rewritten
