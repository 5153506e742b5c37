"""Twilio auth tokens, destination credentials and OAuth tokens are stored encrypted: the
database (a dump, a replica, a backup) holds only Fernet tokens, and key rotation is a
documented, tested procedure (campaigns.crypto)."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from attribution.models import Destination
from campaigns.models import Account
from tests.factories import AccountFactory, DestinationFactory

TOKEN = "twilio-token-5f2d9c0a1b7e4d3c"
SECRET = "whsec-live-8e1f0b2a"


def raw(table: str, column: str, pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{table}" WHERE id = %s', [pk])
        return cursor.fetchone()[0]


def test_a_twilio_token_is_stored_as_ciphertext_and_reads_back_as_itself(db):
    account = AccountFactory(twilio_auth_token=TOKEN)

    stored = raw("campaigns_account", "twilio_auth_token", account.pk)

    assert TOKEN not in stored
    assert stored.startswith("gAAAAA")  # a Fernet token
    assert Account.objects.get(pk=account.pk).twilio_auth_token == TOKEN


def test_an_empty_token_stays_empty(db):
    account = AccountFactory(twilio_auth_token="")

    assert raw("campaigns_account", "twilio_auth_token", account.pk) == ""
    assert Account.objects.get(pk=account.pk).twilio_auth_token == ""


def test_destination_credentials_and_oauth_tokens_are_stored_as_ciphertext(db):
    destination = DestinationFactory(
        credentials={"secret": SECRET}, token_cache={"access_token": "ya29.live-access"}
    )

    credentials = raw("attribution_destination", "credentials", destination.pk)
    token_cache = raw("attribution_destination", "token_cache", destination.pk)

    assert SECRET not in credentials
    assert "secret" not in credentials
    assert "ya29" not in token_cache
    fresh = Destination.objects.get(pk=destination.pk)
    assert fresh.credentials == {"secret": SECRET}
    assert fresh.token_cache == {"access_token": "ya29.live-access"}


def test_a_rotated_key_keeps_old_rows_readable_until_reencryptsecrets_moves_them(db, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    account = AccountFactory(twilio_auth_token=TOKEN)
    destination = DestinationFactory(account=account, credentials={"secret": SECRET})

    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    assert Account.objects.get(pk=account.pk).twilio_auth_token == TOKEN
    out = io.StringIO()
    call_command("reencryptsecrets", stdout=out)
    # The token, the credentials and the (empty, but still encrypted) OAuth token cache.
    assert out.getvalue() == "Re-encrypted 3 stored secret(s) with the current key.\n"

    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert Account.objects.get(pk=account.pk).twilio_auth_token == TOKEN
    assert Destination.objects.get(pk=destination.pk).credentials == {"secret": SECRET}
    assert (
        Fernet(new.encode()).decrypt(
            raw("campaigns_account", "twilio_auth_token", account.pk).encode()
        )
        == TOKEN.encode()
    )


def test_a_secret_key_rotated_with_fallbacks_keeps_derived_key_rows_readable(db, settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.SECRET_KEY = "the-old-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
    account = AccountFactory(twilio_auth_token=TOKEN)

    settings.SECRET_KEY = "the-new-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
    settings.SECRET_KEY_FALLBACKS = ["the-old-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"]

    assert Account.objects.get(pk=account.pk).twilio_auth_token == TOKEN


def test_a_wrong_key_is_a_loud_configuration_error_not_garbage(db, settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    account = AccountFactory(twilio_auth_token=TOKEN)

    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(ImproperlyConfigured, match="does not decrypt"):
        Account.objects.get(pk=account.pk)
