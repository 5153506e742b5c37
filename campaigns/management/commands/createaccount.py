import json

from django.core.management.base import BaseCommand, CommandError

from campaigns import rules, services
from campaigns.models import Role


class Command(BaseCommand):
    help = "Create an account and its first `admin` API key, and print them (the key only once)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--currency", default="USD")
        parser.add_argument("--time-zone", default="UTC")
        parser.add_argument("--region", default="US", help="Default phone region, e.g. US, GB.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, name, currency, time_zone, region, **options):
        currency, region = currency.upper(), region.upper()
        if not rules.is_currency(currency):
            raise CommandError(f"'{currency}' is not an ISO 4217 currency code.")
        if not rules.is_time_zone(time_zone):
            raise CommandError(f"'{time_zone}' is not an IANA time zone.")
        if not rules.is_region(region):
            raise CommandError(f"'{region}' is not a phone region code.")
        account = services.create_account(
            name=name, currency=currency, time_zone=time_zone, region=region
        )
        _, raw_key = services.issue_api_key(account=account, role=Role.ADMIN, name="created by CLI")
        result = {"account_id": account.pk, "api_key": raw_key, "public_key": account.public_key}
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(f"Account {account.pk} ({account.name}) created.")
            self.stdout.write(f"Admin API key (shown once): {raw_key}")
            self.stdout.write(f"Public key for the website snippet: {account.public_key}")
