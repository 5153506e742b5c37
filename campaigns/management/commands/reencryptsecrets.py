from django.core.management.base import BaseCommand

from campaigns import crypto


class Command(BaseCommand):
    help = (
        "Encrypt every stored secret (Twilio tokens, destination credentials, OAuth tokens) "
        "again with the first of FIELD_ENCRYPTION_KEYS: run after putting a new key in front."
    )

    def handle(self, *args, **options):
        count = crypto.reencrypt_all()
        self.stdout.write(f"Re-encrypted {count} stored secret(s) with the current key.")
