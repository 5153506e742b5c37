"""A campaign's call-flow settings as the TwiML builder takes them. Reads fields of a campaign
already loaded: no query, no I/O."""

from calls.twilio import twiml
from campaigns.models import Campaign


def flow_for(campaign: Campaign | None) -> twiml.CallFlow:
    """How calls to `campaign`'s numbers are forwarded; the defaults for no campaign."""
    if campaign is None:
        return twiml.DEFAULT_FLOW
    return twiml.CallFlow(
        timeout_seconds=campaign.ring_timeout_seconds,
        record=campaign.recording_mode,
        caller_id_mode=campaign.caller_id_mode,
        whisper=campaign.whisper_message,
        voicemail=campaign.voicemail_enabled,
        voicemail_max_seconds=campaign.voicemail_max_seconds,
        voicemail_prompt=campaign.voicemail_prompt,
        unavailable_message=campaign.unavailable_message,
    )
