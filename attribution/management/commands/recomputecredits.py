from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from attribution.credits import services
from campaigns.models import Account


class Command(BaseCommand):
    help = (
        "Recompute the attribution credits (all six models) of every call of an account, or of "
        "every account with --all: the data-driven removal effects first, then the touchpoints. "
        "Idempotent: a call's rows are replaced."
    )

    def add_arguments(self, parser):
        parser.add_argument("account_id", nargs="?", type=int, help="The account to recompute.")
        parser.add_argument("--all", action="store_true", help="Recompute every account.")

    def handle(self, *args, account_id: int | None, **options):
        if options["all"] == (account_id is not None):
            raise CommandError("Give an ACCOUNT_ID or --all (not both).")
        accounts = Account.objects.order_by("pk")
        if account_id is not None:
            accounts = accounts.filter(pk=account_id)
            if not accounts.exists():
                raise CommandError(f"No account with id {account_id}.")
        for account in accounts:
            # The bar goes to stderr; stdout carries one summary line per account.
            with tqdm(desc=account.name, unit=" calls", disable=options["verbosity"] == 0) as bar:
                rows = services.recompute_account_credits(account=account, progress=bar)
            self.stdout.write(f"Account {account.pk} ({account.name}): {rows} touchpoints.")
