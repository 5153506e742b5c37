import json

from django.core.management.base import BaseCommand, CommandError

from campaigns import services
from campaigns.models import Account, Role


class Command(BaseCommand):
    help = "Add an API key with a role to an account, and print it (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("account_id", type=int)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--name", default="")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, account_id: int, role: str, name: str, **options):
        try:
            account = Account.objects.get(pk=account_id)
        except Account.DoesNotExist:
            raise CommandError(f"No account with id {account_id}.") from None
        api_key, raw_key = services.issue_api_key(account=account, role=role, name=name)
        if options["json"]:
            self.stdout.write(
                json.dumps({"account_id": account.pk, "api_key": raw_key, "role": api_key.role})
            )
        else:
            self.stdout.write(f"{role} API key for account {account.pk} (shown once): {raw_key}")
