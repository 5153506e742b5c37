"""Reads behind the Twilio webhooks: which number was dialled, which call a callback is about."""

import re

from calls.models import Call
from campaigns.models import Campaign, TrackingNumber

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
    comes along, so applying the callback needs no further read of it."""
    if not call_sid:
        return []
    calls = Call.objects.select_for_update(of=("self",)).select_related(
        "account", "tracking_number"
    )
    return list(calls.filter(provider=PROVIDER, external_id=call_sid).order_by("pk"))
