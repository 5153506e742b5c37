"""Destination credentials and OAuth tokens move from plain jsonb to Fernet tokens in text
(campaigns.crypto). The column type changes first (jsonb::text is the JSON text), then every row
is encrypted with the key configured when the migration runs."""

from django.db import migrations

import campaigns.crypto

COLUMNS = ("credentials", "token_cache")


def encrypt_rows(apps, schema_editor):
    from campaigns import crypto

    with schema_editor.connection.cursor() as cursor:
        for column in COLUMNS:
            cursor.execute(f"SELECT id, {column} FROM attribution_destination")
            for pk, text in cursor.fetchall():
                cursor.execute(
                    f"UPDATE attribution_destination SET {column} = %s WHERE id = %s",
                    [crypto.encrypt(text or "{}"), pk],
                )


def decrypt_rows(apps, schema_editor):
    from campaigns import crypto

    with schema_editor.connection.cursor() as cursor:
        for column in COLUMNS:
            cursor.execute(f"SELECT id, {column} FROM attribution_destination")
            for pk, token in cursor.fetchall():
                cursor.execute(
                    f"UPDATE attribution_destination SET {column} = %s WHERE id = %s",
                    [crypto.decrypt(token) if token else "{}", pk],
                )


class Migration(migrations.Migration):
    dependencies = [
        ("attribution", "0012_lease_grace"),
    ]

    operations = [
        migrations.AlterField(
            model_name="destination",
            name="credentials",
            field=campaigns.crypto.EncryptedJSONField(blank=True, default=dict),
        ),
        migrations.AlterField(
            model_name="destination",
            name="token_cache",
            field=campaigns.crypto.EncryptedJSONField(blank=True, default=dict),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows),
    ]
