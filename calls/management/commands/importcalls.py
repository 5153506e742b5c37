from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from calls import backfill
from campaigns.models import Account

SHOWN_ERRORS = 50


class _Raw:
    """tqdm's writes as they are: Django's OutputWrapper would end each redraw with a newline."""

    def __init__(self, out):
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text, ending="")

    def flush(self) -> None:
        self.out.flush()


def _count_rows(path: Path) -> int:
    with path.open("rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return max(lines - 1, 0)


class Command(BaseCommand):
    help = (
        "Import calls from a CSV file whose header names the API's call fields (provider, "
        "external_id, tracking_number, caller_number, started_at, duration_seconds, status, "
        "talk_seconds, recording_url, agent, transferred). All or nothing unless --skip-invalid; "
        "safe to re-run (upserts on provider and external_id)."
    )

    def add_arguments(self, parser):
        parser.add_argument("account_id", type=int)
        parser.add_argument("file", type=Path)
        parser.add_argument("--provider", help="Provider of the rows that name none.")
        parser.add_argument("--batch", type=int, default=5000, help="Rows per COPY round trip.")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Store the valid rows and report the others (default: refuse the whole file).",
        )

    def handle(self, *args, account_id: int, file: Path, provider, batch: int, **options):
        account = Account.objects.filter(pk=account_id).first()
        if account is None:
            raise CommandError(f"No account with id {account_id}.")
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        bar = tqdm(total=_count_rows(file), unit="rows", desc="importing", file=_Raw(self.stderr))
        with bar, file.open(newline="", encoding="utf-8-sig") as lines:
            try:
                result = backfill.import_calls(
                    account=account,
                    lines=lines,
                    provider=provider,
                    skip_invalid=options["skip_invalid"],
                    batch_size=batch,
                    progress=bar.update,
                )
            except backfill.ImportRefused as exc:
                raise CommandError(
                    f"Nothing imported: {len(exc.errors)} invalid row(s) in {file} "
                    f"(fix them or pass --skip-invalid).\n{self._listing(exc.errors)}"
                ) from None
        if result.skipped:
            self.stderr.write(f"Skipped {len(result.skipped)} invalid row(s):")
            self.stderr.write(self._listing(result.skipped))
        self.stdout.write(
            f"Imported {result.rows} call(s) into account {account.pk}: {result.created} "
            f"created, {result.updated} updated, {result.unchanged} unchanged; "
            f"{len(result.skipped)} invalid row(s) skipped."
        )

    def _listing(self, errors: list[backfill.RowError]) -> str:
        lines = [f"  {error}" for error in errors[:SHOWN_ERRORS]]
        if len(errors) > SHOWN_ERRORS:
            lines.append(f"  … and {len(errors) - SHOWN_ERRORS} more")
        return "\n".join(lines)
