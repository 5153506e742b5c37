"""Reads behind the Twilio webhooks: which number was dialled, which call a callback is about."""

from calls.models import Call
from campaigns.models import TrackingNumber

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
