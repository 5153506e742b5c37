"""Writes behind the Twilio webhooks: one event applied to one call, through the same
`record_calls` every other source uses (attribution, spam rules, statuses that never regress)."""

import phonenumbers
from django.utils import timezone

from calls import services
from calls.models import Call
from calls.twilio import events
from calls.twilio.selectors import PROVIDER
from campaigns import phones
from campaigns.models import Account, TrackingNumber


def caller_region(tracking_e164: str, *, default: str) -> str:
    """The region callers' numbers are read in: the dialled number's country (a national-format
    caller ID is local to it), else the account's region."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(tracking_e164, None))
    except phonenumbers.NumberParseException:
        return default
    return region if region and region.isalpha() and region != "ZZ" else default


def record_event(
    *,
    account: Account,
    call_sid: str,
    event: events.Event,
    call: Call | None = None,
    caller: str | None = None,
    tracking_e164: str = "",
    number: TrackingNumber | None = None,
) -> Call | None:
    """Apply `event` to the Twilio call `call_sid` of `account`, creating it if it is new.

    An existing `call` keeps its numbers (callbacks of the dialled leg, or recordings, carry
    other numbers or none). A new call needs the dialled number: without it (or without a
    CallSid) nothing is stored and None is returned. `call` must be locked by the caller's
    transaction (`selectors.calls_for_update`); `number`, the dialled number when already read.
    Idempotent and order-independent (see `calls.twilio.events`)."""
    if not call_sid:
        return None
    if call is not None:
        tracking_e164, caller_e164, caller_raw = (
            call.tracking_e164,
            call.caller_e164,
            call.caller_raw,
        )
    elif not tracking_e164:
        return None
    else:
        region = caller_region(tracking_e164, default=account.region)
        parsed = phones.parse_caller_id(caller, region=region, strict=False)
        caller_e164, caller_raw = parsed.e164, parsed.raw[:200]
    item = services.CallInput(
        provider=PROVIDER,
        external_id=call_sid,
        tracking_e164=tracking_e164,
        caller_e164=caller_e164,
        caller_raw=caller_raw,
        started_at=event.started_at or timezone.now(),
        status=event.status,
        duration_seconds=event.duration_seconds,
        talk_seconds=event.talk_seconds,
        recording_url=event.recording_url,
        transferred=event.transferred,
    )
    known = {"locked": [call] if call else [], "numbers": [number] if number else []}
    [(saved, _)] = services.record_calls(account=account, items=[item], **known)
    return saved
