import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from attribution.demo import load_demo

BASE_URL = "http://127.0.0.1:8000"
URLS = (
    ("Admin", f"{BASE_URL}/admin/"),
    ("API docs", f"{BASE_URL}/api/docs/"),
    ("API", f"{BASE_URL}/api/v1/"),
    ("Health", f"{BASE_URL}/healthz"),
)


class Command(BaseCommand):
    help = (
        "Replace the demo account (Summit Home Services) with fresh data: campaigns, numbers, "
        "costs, sessions, calls and CRM outcomes; print the admin login and an admin API key."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=float, default=1.0, help="1.0 ≈ 6,000 sessions and 1,500 calls."
        )
        parser.add_argument("--days", type=int, default=60, help="Days of history, to yesterday.")
        parser.add_argument("--seed", type=int, default=7, help="Same seed, same data.")

    def handle(self, *args, scale: float, days: int, seed: int, **options):
        if scale <= 0 or days < 1:
            raise CommandError("--scale must be positive and --days at least 1.")
        started = time.monotonic()
        # The bar goes to stderr so that stdout carries only the login details.
        with tqdm(unit=" rows", disable=options["verbosity"] == 0) as bar:
            result = load_demo(scale=scale, days=days, seed=seed, progress=bar)
        elapsed = time.monotonic() - started
        counts = ", ".join(f"{name} {count}" for name, count in result.counts.items())
        self.stdout.write(f"Loaded {result.account.name} in {elapsed:.1f} s: {counts}.")
        self.stdout.write(f"Admin login: username {result.username}, password {result.password}")
        self.stdout.write(f"Admin API key (shown once): {result.api_key}")
        self.stdout.write(f"Public key for the website snippet: {result.account.public_key}")
        for label, url in URLS:
            self.stdout.write(f"{label + ':':<10}{url}")
