"""CSV backfill of calls: months of history from another call tracker, in one transaction.

Each row is validated by the REST API's own `CallInputSerializer`, so a CSV row and an API item
are accepted or refused alike. Valid rows go to a TEMP staging table by COPY, and the rest is
set-based SQL that follows `services.record_calls` rule for rule: the upsert on
(provider, external_id), statuses that never go backwards, attribution from the lease history
(`services.attribute`), and the spam rules. The per-row ORM path does ~4 queries a row; this
one does a handful of statements per file (see bench/calls.py for the difference)."""

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from rest_framework import serializers

from calls.backfill_sql import ATTRIBUTE, BLOCKLIST, BURSTS, STAGING, UPSERT

# The API's serializer, on purpose: one validation for every way calls come in.
from calls.inputs import CallInputSerializer

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


class _RowSerializer(CallInputSerializer):
    """The API's serializer, accepting and refusing exactly what it does. A file names a few
    tracking numbers thousands of times, and their parse is pure (text and region in, E.164 or
    an error out), so each distinct one is parsed once: a quarter of the validation time."""

    MEMO = 10_000  # distinct values remembered; a file of junk numbers cannot grow it further

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._tracking: dict[str, tuple[bool, object]] = {}

    def validate_tracking_number(self, value):
        if value not in self._tracking:
            try:
                known = (True, super().validate_tracking_number(value))
            except serializers.ValidationError as exc:
                known = (False, exc.detail)
            if len(self._tracking) >= self.MEMO:
                self._tracking.clear()
            self._tracking[value] = known
        valid, answer = self._tracking[value]
        if not valid:
            raise serializers.ValidationError(answer)
        return answer


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
    reader = csv.DictReader(lines)
    with connection.cursor() as cursor:
        cursor.execute(STAGING)
        try:
            _check_header(reader, provider)
            errors = _stage(cursor, reader, account, provider, skip_invalid, batch_size, progress)
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


def _stage(cursor, reader, account, provider, skip_invalid, batch_size, progress):
    """Validate every row and COPY the valid ones to the staging table; return the errors."""
    errors: list[RowError] = []
    batch: list[tuple] = []
    read = 0
    for item in _validated(reader, account, provider):
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


def _check_header(reader: csv.DictReader, provider: str | None) -> None:
    names = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = names
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


def _validated(reader: csv.DictReader, account, provider: str | None):
    """Yield a staging tuple or a RowError per row, in file order."""
    validator = _RowSerializer(context={"account": account})
    first_line: dict[tuple[str, str], int] = {}
    for row in reader:
        line = reader.line_num
        if None in row:
            yield RowError(line, {"row": ["More cells than the header has columns."]})
            continue
        data = {
            name: value
            for name, value in row.items()
            if value is not None and not (value == "" and name in BLANK_IS_ABSENT)
        }
        if provider and "provider" not in data:
            data["provider"] = provider
        try:
            # What `is_valid()` runs, minus building a serializer per row (as ListSerializer).
            attrs = validator.run_validation(data)
        except serializers.ValidationError as exc:
            yield RowError(line, _messages(exc.detail))
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
    cursor.execute("ANALYZE calls_import_staging")  # a temp table has no statistics otherwise
    cursor.execute("SELECT count(*) FROM calls_import_staging")
    result = ImportResult(rows=cursor.fetchone()[0])
    cursor.execute(UPSERT, params)
    result.created, result.updated = cursor.fetchone()
    result.unchanged = result.rows - result.created - result.updated
    cursor.execute(ATTRIBUTE, params)
    cursor.execute(BLOCKLIST, params)
    cursor.execute(BURSTS, params)
    return result


@transaction.atomic
def record_validated(*, account, items: list[dict]) -> ImportResult:
    """Store a batch already checked by `CallInputSerializer` (the REST API's lists) through
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
