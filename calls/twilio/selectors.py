"""Reads behind the Twilio webhooks: which number was dialled, which call a callback is about."""

import re
from dataclasses import dataclass

from django.db import connection, models

from calls.models import Call
from campaigns.models import Account, Campaign, TrackingNumber

PROVIDER = "twilio"


def number_for(*, e164: str, active_only: bool = True) -> TrackingNumber | None:
    """The tracking number `e164`, with its account and campaign (numbers are unique across
    accounts, so the dialled number names the account)."""
    if not e164:
        return None
    numbers = TrackingNumber.objects.select_related("account", "campaign").filter(e164=e164)
    if active_only:
        numbers = numbers.filter(active=True)
    return numbers.first()


def forwarding_campaign(*, call: Call | None) -> Campaign | None:
    """The campaign whose call flow forwarded `call`: its tracking number's, as the voice
    webhook read it (the call's attributed campaign may be a session's, another one)."""
    if call is None or call.tracking_number_id is None:
        return None
    return Campaign.objects.filter(numbers=call.tracking_number_id).first()


def campaign_for_whisper(*, campaign_id: str) -> Campaign | None:
    """The campaign a whisper URL names (its query string, as we wrote it), with the account
    whose token verifies the request. Anything but an id names none."""
    if not re.fullmatch(r"[1-9][0-9]{0,17}", campaign_id):
        return None
    return Campaign.objects.select_related("account").filter(pk=int(campaign_id)).first()


def calls_for_update(*, call_sid: str) -> list[Call]:
    """Twilio calls with this CallSid, locked until the webhook's transaction ends, so two
    callbacks of one call are applied one after the other. Normally one; (account, provider,
    external_id) is the unique key, so another account could hold the same id through the
    API — the signature decides which account a callback belongs to. The tracking number
    comes along, so applying the callback needs no further read of it.

    Every status callback starts here, so it is one hand-written statement: the ORM's
    compilation of this three-table select_related cost 1.1 ms of CPU a callback, the
    statement itself 0.3 ms (bench/twilio.py). Columns come from the models, so a new field
    is never left out."""
    if not call_sid:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_BY_SID, [PROVIDER, call_sid])
        rows = cursor.fetchall()
    calls = []
    for row in rows:
        call, account, number = (part.build(row) for part in _LOCK_PARTS)
        call._state.fields_cache["account"] = account
        call._state.fields_cache["tracking_number"] = number
        calls.append(call)
    return calls


@dataclass(frozen=True)
class _Part:
    """The columns of one model in a hand-written join, and how to make the instance."""

    model: type[models.Model]
    alias: str
    start: int
    fields: tuple[models.Field, ...]

    def build(self, row: tuple) -> models.Model | None:
        values = row[self.start : self.start + len(self.fields)]
        if values[0] is None:  # the LEFT JOIN found nothing
            return None
        converted = [
            field.from_db_value(value, None, connection)
            if hasattr(field, "from_db_value") and value is not None
            else value
            for field, value in zip(self.fields, values, strict=True)
        ]
        return self.model.from_db(
            connection.alias, [field.attname for field in self.fields], converted
        )

    def select(self) -> str:
        return ", ".join(f'{self.alias}."{field.column}"' for field in self.fields)


def _parts(*specs: tuple[type[models.Model], str]) -> list[_Part]:
    parts, start = [], 0
    for model, alias in specs:
        fields = tuple(model._meta.concrete_fields)  # the primary key first
        parts.append(_Part(model, alias, start, fields))
        start += len(fields)
    return parts


_LOCK_PARTS = _parts((Call, "c"), (Account, "a"), (TrackingNumber, "n"))
_LOCK_BY_SID = f"""
SELECT {", ".join(part.select() for part in _LOCK_PARTS)}
FROM {Call._meta.db_table} c
JOIN {Account._meta.db_table} a ON a.id = c.account_id
LEFT JOIN {TrackingNumber._meta.db_table} n ON n.id = c.tracking_number_id
WHERE c.provider = %s AND c.external_id = %s
ORDER BY c.id
FOR UPDATE OF c
"""
