import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from attribution.reports import rollups
from campaigns.models import Account


class Command(BaseCommand):
    help = (
        "Rebuild the report rollups of an account, or of every account with --all, from the "
        "calls, touchpoints, outcomes and costs (after a TRUNCATE, a restore, or to check them). "
        "One transaction per account: reports read the old rollups until it commits. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("account_id", nargs="?", type=int, help="The account to rebuild.")
        parser.add_argument("--all", action="store_true", help="Rebuild every account.")

    def handle(self, *args, account_id: int | None, **options):
        if options["all"] == (account_id is not None):
            raise CommandError("Give an ACCOUNT_ID or --all (not both).")
        accounts = Account.objects.order_by("pk")
        if account_id is not None:
            accounts = accounts.filter(pk=account_id)
            if not accounts.exists():
                raise CommandError(f"No account with id {account_id}.")
        for account in accounts:
            started = time.monotonic()
            # The bar goes to stderr; stdout carries one summary line per account.
            with tqdm(desc=account.name, unit=" days", disable=options["verbosity"] == 0) as bar:
                days = rollups.rebuild_account(account=account, progress=bar)
            seconds = time.monotonic() - started
            self.stdout.write(
                f"Account {account.pk} ({account.name}): {days} days in {seconds:.1f} s."
            )
