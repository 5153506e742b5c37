"""CRM payloads mapped onto the generic outcome input of `POST /api/v1/outcomes/`, so that they
take the same validation, upsert and matching (docs/crm.md). Pure: no ORM, no I/O; the account's
stage mapping and the current time come in as arguments.

Each adapter's `read(payload, *, stages, now)` returns one `Event` per event or record sent,
in order: the outcome item it maps to, an error (a message per field, as the API shows them), or
the reason it was ignored (not a deal, another property changed, superseded in the batch)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.utils.dateparse import parse_datetime


@dataclass(frozen=True)
class Event:
    item: dict | None = None
    error: dict | None = None
    ignored: str = ""


class PayloadError(ValueError):
    """The payload as a whole is not what the CRM sends."""


def ignore(reason: str) -> Event:
    return Event(ignored=reason)


def fail(field: str, message: str) -> Event:
    return Event(error={field: [message]})


def keep_latest(events: list[Event]) -> list[Event]:
    """One event per deal: a batch can carry several changes of one deal, and an upsert takes
    one report per deal. The latest `occurred_at` wins (the later one on a tie); the others
    are ignored as superseded."""
    latest: dict[str, int] = {}
    for index, event in enumerate(events):
        if event.item is None:
            continue
        key = event.item["external_id"]
        best = latest.get(key)
        if best is None or events[best].item["occurred_at"] <= event.item["occurred_at"]:
            latest[key] = index
    return [
        event
        if event.item is None or latest[event.item["external_id"]] == index
        else ignore(
            f"Superseded by a later event of deal {event.item['external_id']} in this batch."
        )
        for index, event in enumerate(events)
    ]


def moment(value) -> datetime | None:
    """A CRM timestamp: epoch milliseconds (a number or a string of digits) or ISO 8601
    (Salesforce writes `+0000`); None when absent or unreadable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal) or (isinstance(value, str) and value.isdigit()):
        try:
            return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
        except (OverflowError, ValueError, OSError):
            return None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            return None
        if parsed is not None and parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed
    return None


def first(*values):
    """The first value that is neither absent nor blank."""
    for value in values:
        if value is not None and value != "":
            return value
    return None


def truthy(value) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def optional(item: dict, **fields) -> dict:
    """`item` with each field that has a value (a field left out keeps its stored value)."""
    return {**item, **{name: value for name, value in fields.items() if value is not None}}


def records(payload, *, what: str) -> tuple[list, bool]:
    """The payload's objects and whether it was a list."""
    if isinstance(payload, list):
        return payload, True
    if isinstance(payload, dict):
        return [payload], False
    raise PayloadError(f"Send {what} as a JSON object or a list of them.")


def each(objects: list, read_one: Callable[[dict], Event]) -> list[Event]:
    return [
        read_one(obj) if isinstance(obj, dict) else fail("non_field_errors", "Expected an object.")
        for obj in objects
    ]
