"""What a campaign's call flow may be set to: how a call to its numbers is forwarded (Twilio's
<Dial>, <Number> and <Record>, PROTOCOLS.md §1.6–§1.8). Pure: the choices, ranges and defaults
shared by the model and its constraints, the API, the admin and the TwiML (calls.twilio.twiml),
so that a new campaign forwards calls exactly as every campaign did before they were settings."""

from dataclasses import dataclass

from django.db import models

# The campaign's fields that hold its call flow, in the order the API and the admin show them.
FIELDS = [
    "ring_timeout_seconds",
    "recording_mode",
    "caller_id_mode",
    "whisper_message",
    "voicemail_enabled",
    "voicemail_max_seconds",
    "voicemail_prompt",
    "unavailable_message",
]


class RecordingMode(models.TextChoices):
    """<Dial record>'s values. Dual-channel recordings put the caller on channel 1 and the
    business on channel 2."""

    DO_NOT_RECORD = "do-not-record", "Do not record"
    FROM_ANSWER = "record-from-answer", "From answer, one channel"
    FROM_RINGING = "record-from-ringing", "From ringing, one channel"
    FROM_ANSWER_DUAL = "record-from-answer-dual", "From answer, two channels"
    FROM_RINGING_DUAL = "record-from-ringing-dual", "From ringing, two channels"


class CallerIdMode(models.TextChoices):
    """What the business's phone shows. Twilio allows either: the request's own From or To
    (PROTOCOLS.md §1.8)."""

    CALLER = "caller", "The caller's number (the tracking number when withheld)"
    TRACKING = "tracking", "The tracking number dialled"


@dataclass(frozen=True)
class Bounds:
    low: int
    high: int
    default: int


RING_TIMEOUT = Bounds(low=5, high=120, default=20)
VOICEMAIL_LENGTH = Bounds(low=5, high=3600, default=120)
DEFAULT_RECORDING = RecordingMode.FROM_ANSWER_DUAL.value
DEFAULT_CALLER_ID = CallerIdMode.CALLER.value
# Spoken with <Say>: Twilio takes thousands of characters, no caller sits through that many.
MESSAGE_MAX_LENGTH = 500
VOICEMAIL_PROMPT = (
    "Sorry, nobody can take your call right now. Please leave a message after the tone."
)
UNAVAILABLE_MESSAGE = "Sorry, we cannot take your call right now. Goodbye."
