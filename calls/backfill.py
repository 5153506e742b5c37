"""CSV backfill of calls: months of history from another call tracker, in one transaction.

Each row is validated as the REST API validates a batch item (`inputs.CallValidator`, which
answers as `CallInputSerializer` does), so a CSV row and an API item are accepted or refused
alike. Valid rows go to a TEMP staging table by COPY, and the rest is set-based SQL that
follows `services.record_calls` rule for rule: the upsert on (provider, external_id),
statuses that never go backwards, attribution from the lease history (`services.attribute`),
and the spam rules. The per-row ORM path does ~4 queries a row; this one does a handful of
statements per file (see bench/calls.py for the difference)."""

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction

from attribution.conversions.services import enqueue_for_calls
from attribution.outcomes.matching import match_waiting_outcomes
from calls import services
from calls.backfill_sql import (
    ATTRIBUTE,
    BLOCKLIST,
    BURSTS,
    OUTCOME_CANDIDATES,
    STAGING,
    STORED_IDS,
    UPSERT,
)

# The API's validation, on purpose: one set of rules for every way calls come in.
from calls.inputs import CallValidator

COLUMNS = [
    "provider",
    "external_id",
    "tracking_number",
    "caller_number",
    "started_at",
    "duration_seconds",
    "status",
    "talk_seconds",
    "recording_url",
    "agent",
    "transferred",
]
REQUIRED = {"external_id", "tracking_number", "started_at", "duration_seconds", "status"}
# An empty cell in these columns means "not given" (the API's missing key), not a value.
BLANK_IS_ABSENT = {
    "provider",
    "caller_number",
    "talk_seconds",
    "recording_url",
    "agent",
    "transferred",
}
STAGED = [
    "line",
    "provider",
    "external_id",
    "tracking_e164",
    "caller_e164",
    "caller_raw",
    "started_at",
    "duration_seconds",
    "status",
    "talk_seconds",
    "recording_url",
    "agent",
    "transferred",
]


@dataclass(frozen=True)
class RowError:
    line: int  # in the file, the header being line 1
    errors: dict[str, list[str]]

    def __str__(self) -> str:
        fields = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in self.errors.items())
        return f"line {self.line}: {fields}"


class ImportRefused(Exception):
    """The file has bad rows (or a bad header) and `skip_invalid` is off: nothing was stored."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__(f"{len(errors)} invalid row(s); first: {errors[0]}")


@dataclass
class ImportResult:
    rows: int = 0  # valid rows stored
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # rows that changed nothing (a re-import) are not rewritten
    skipped: list[RowError] = field(default_factory=list)


@transaction.atomic
def import_calls(
    *,
    account,
    lines: Iterable[str],
    provider: str | None = None,
    skip_invalid: bool = False,
    batch_size: int = 5000,
    progress: Callable[[int], object] | None = None,
) -> ImportResult:
    """Import the CSV in `lines` (header first) into `account`'s calls.

    All or nothing: with any invalid row the whole file is refused (ImportRefused lists every
    bad line) unless `skip_invalid`, which stores the valid rows and reports the others.
    Idempotent: a re-import updates by (provider, external_id) exactly as the API would, and
    rows that change nothing are left alone. `provider` names the provider of rows that have
    none. `progress(n)` is told each time `n` more rows have been read."""
    reader = _Rows(lines)
    with connection.cursor() as cursor:
        cursor.execute(STAGING)
        try:
            header = [name.strip() for name in reader.header()]
            _check_header(header, provider)
            rows = _validated(reader, header, account, provider)
            errors = _stage(cursor, rows, skip_invalid, batch_size, progress)
        except (csv.Error, UnicodeDecodeError) as exc:
            # Text is decoded by the block, so a decoding error names no exact line.
            message = (
                "Not UTF-8 text: save the CSV as UTF-8."
                if isinstance(exc, UnicodeDecodeError)
                else f"Not readable as CSV: {exc}"
            )
            line = max(reader.line_num, 1)
            raise ImportRefused([RowError(line, {"file": [message]})]) from None
        if errors and not skip_invalid:
            raise ImportRefused(errors)
        result = _merge(cursor, account)
        result.skipped = errors
        cursor.execute("DROP TABLE calls_import_staging")
    return result


def _stage(cursor, rows, skip_invalid, batch_size, progress):
    """COPY the valid rows to the staging table, `batch_size` at a time; return the errors."""
    errors: list[RowError] = []
    batch: list[tuple] = []
    read = 0
    for item in rows:
        read += 1
        if isinstance(item, RowError):
            errors.append(item)
        elif skip_invalid or not errors:  # once refused, only keep reporting
            batch.append(item)
        if read == batch_size:
            _copy(cursor, batch)
            batch, read = [], 0
            if progress:
                progress(batch_size)
    _copy(cursor, batch)
    if progress and read:
        progress(read)
    return errors


def _check_header(names: list[str], provider: str | None) -> None:
    problems: dict[str, list[str]] = {}
    for name in names:
        if name not in COLUMNS:
            problems[name or "(empty)"] = [f"Unknown column; expected: {', '.join(COLUMNS)}."]
    needed = REQUIRED | (set() if provider else {"provider"})
    for name in sorted(needed - set(names)):
        problems[name] = ["Missing column."]
    if "provider" in problems:
        problems["provider"].append("Add the column or name the provider (--provider).")
    if problems:
        raise ImportRefused([RowError(1, problems)])


class _Rows:
    """csv.reader's rows (lists: no dict per row) as csv.DictReader gave them: blank lines are
    no rows, and `line_num` is the reader's as DictReader kept it, so that line numbers in
    errors stay what they were (an unreadable line is reported at the row before it)."""

    def __init__(self, lines: Iterable[str]):
        self.reader = csv.reader(lines)
        self.line_num = 0

    def header(self) -> list[str]:
        row = next(self.reader, [])
        self.line_num = self.reader.line_num
        return row

    def __iter__(self):
        reader = self.reader
        while (row := next(reader, None)) is not None:
            self.line_num = reader.line_num
            while not row:
                if (row := next(reader, None)) is None:
                    return
            self.line_num = reader.line_num
            yield self.line_num, row


def _validated(rows: _Rows, header: list[str], account, provider: str | None):
    """Yield a staging tuple or a RowError per row, in file order. A column named twice is
    read from its last place, and a short row lacks its last columns (as with DictReader)."""
    validator = CallValidator(region=account.region)
    last = {name: position for position, name in enumerate(header)}
    columns = [(name, position, name in BLANK_IS_ABSENT) for name, position in last.items()]
    first_line: dict[tuple[str, str], int] = {}
    for line, row in rows:
        if len(row) > len(header):
            yield RowError(line, {"row": ["More cells than the header has columns."]})
            continue
        data = {}
        for name, position, blank_is_absent in columns:
            if position < len(row):
                value = row[position]
                if value or not blank_is_absent:
                    data[name] = value
        if provider and "provider" not in data:
            data["provider"] = provider
        attrs, error = validator.validate(data)
        if error:
            yield RowError(line, _messages(error))
            continue
        key = (attrs["provider"], attrs["external_id"])
        if key in first_line:
            message = f"Same provider and external_id as line {first_line[key]}."
            yield RowError(line, {"external_id": [message]})
            continue
        first_line[key] = line
        yield _staged_row(line, attrs)


def _messages(detail) -> dict[str, list[str]]:
    if not isinstance(detail, dict):
        detail = {"row": detail}
    return {
        name: [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
        for name, msgs in detail.items()
    }


def _copy(cursor, rows: list[tuple]) -> None:
    if not rows:
        return
    # COPY through psycopg's own cursor: Django's wrapper has no COPY API.
    sql = f"COPY calls_import_staging ({', '.join(STAGED)}) FROM STDIN"
    with cursor.connection.cursor() as raw, raw.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _merge(cursor, account) -> ImportResult:
    params = {"account": account.pk}
    # These statements are index probes per row; their cost estimate (the lease probe times
    # the rows) would have PostgreSQL JIT-compile them, which took longer than running them.
    cursor.execute("SET LOCAL jit = off")
    cursor.execute("ANALYZE calls_import_staging")  # a temp table has no statistics otherwise
    cursor.execute("SELECT count(*) FROM calls_import_staging")
    result = ImportResult(rows=cursor.fetchone()[0])
    cursor.execute(UPSERT, params)
    result.created, result.updated = cursor.fetchone()
    result.unchanged = result.rows - result.created - result.updated
    cursor.execute(ATTRIBUTE, params)
    cursor.execute(BLOCKLIST, params)
    cursor.execute(BURSTS, params)
    # Outcomes that arrived before these calls pick them up (as `services.record_calls` does).
    cursor.execute(OUTCOME_CANDIDATES, params)
    match_waiting_outcomes(account=account, call_ids=[pk for (pk,) in cursor.fetchall()])
    if result.created or result.updated:
        cursor.execute(STORED_IDS, params)
        stored = [pk for (pk,) in cursor.fetchall()]
        services.recompute_credits_after_commit(account=account, call_ids=stored)
        enqueue_for_calls(account=account, call_ids=stored)
    return result


@transaction.atomic
def record_validated(*, account, items: list[dict]) -> ImportResult:
    """Store a batch already checked by `inputs.validate_batch` (the REST API's lists) through
    the same set-based path as a CSV import: a few statements per batch, not per call."""
    rows = [_staged_row(line, attrs) for line, attrs in enumerate(items, start=1)]
    with connection.cursor() as cursor:
        cursor.execute(STAGING)
        _copy(cursor, rows)
        result = _merge(cursor, account)
        cursor.execute("DROP TABLE calls_import_staging")
    return result


def _staged_row(line: int, attrs: dict) -> tuple:
    return (
        line,
        attrs["provider"],
        attrs["external_id"],
        attrs["tracking_e164"],
        attrs["caller_e164"],
        attrs["caller_raw"],
        attrs["started_at"],
        attrs["duration_seconds"],
        attrs["status"],
        attrs.get("talk_seconds"),
        attrs.get("recording_url", ""),
        attrs.get("agent", ""),
        attrs.get("transferred", False),
    )
