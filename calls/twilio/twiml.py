"""TwiML answers, built with ElementTree so every attribute and text is XML-escaped.
Pure: no ORM, no settings (PROTOCOLS.md §1.6, §1.8)."""

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from campaigns import call_flow

CONTENT_TYPE = "text/xml; charset=utf-8"
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
CHILD_EVENTS = "initiated ringing answered completed"


@dataclass(frozen=True)
class CallFlow:
    """How a forwarded call behaves: a campaign's settings (calls.twilio.flow.flow_for), or
    these defaults, a campaign's own, for a call without one."""

    timeout_seconds: int = call_flow.RING_TIMEOUT.default
    record: str = call_flow.DEFAULT_RECORDING  # one of <Dial record>'s values
    caller_id_mode: str = call_flow.DEFAULT_CALLER_ID
    whisper: str = ""  # said to the business when it answers; empty: none
    voicemail: bool = True
    voicemail_max_seconds: int = call_flow.VOICEMAIL_LENGTH.default
    voicemail_prompt: str = call_flow.VOICEMAIL_PROMPT  # empty: the beep alone
    unavailable_message: str = call_flow.UNAVAILABLE_MESSAGE  # empty: hang up in silence


DEFAULT_FLOW = CallFlow()
NOT_IN_SERVICE = "Sorry, the number you have called is not in service. Goodbye."


@dataclass(frozen=True)
class Urls:
    """Absolute callback URLs, as Twilio must request them."""

    dial: str
    status: str
    recording: str


def _render(root: ET.Element) -> str:
    return DECLARATION + ET.tostring(root, encoding="unicode")


def empty() -> str:
    """An answer for asynchronous callbacks, which Twilio does not execute."""
    return _render(ET.Element("Response"))


def hangup() -> str:
    root = ET.Element("Response")
    ET.SubElement(root, "Hangup")
    return _render(root)


def _say(root: ET.Element, message: str) -> None:
    if message:  # an empty <Say> is an error in Twilio's debugger, and silence anyway
        ET.SubElement(root, "Say").text = message


def say_and_hangup(message: str) -> str:
    root = ET.Element("Response")
    _say(root, message)
    ET.SubElement(root, "Hangup")
    return _render(root)


def whisper(message: str) -> str:
    """What the business hears on answering, before the caller is connected (<Number url>)."""
    root = ET.Element("Response")
    _say(root, message)
    return _render(root)


def caller_id(*, flow: CallFlow, caller_e164: str, tracking_e164: str) -> str:
    """The number the business's phone shows: the caller's, or the tracking number dialled
    when the flow says so or the caller has none to show (withheld). Twilio accepts either:
    they are the request's own From and To (PROTOCOLS.md §1.8)."""
    if flow.caller_id_mode == call_flow.CallerIdMode.TRACKING:
        return tracking_e164
    return caller_e164 or tracking_e164


def forward(
    *,
    number: str,
    caller_id: str,
    urls: Urls,
    flow: CallFlow = DEFAULT_FLOW,
    whisper_url: str = "",
) -> str:
    """Dial `number`; Twilio posts the result to `urls.dial`, the dialled leg's progress to
    `urls.status`, the recording (unless the flow records nothing) to `urls.recording`, and
    asks `whisper_url`, when given, what to tell the business once it answers.

    answerOnBridge: the caller hears ringing, not silence, until the business answers (and has
    heard the whisper); Twilio answers the caller's call only then, or to play voicemail."""
    root = ET.Element("Response")
    attrs = {
        "action": urls.dial,
        "method": "POST",
        "timeout": str(flow.timeout_seconds),
        "answerOnBridge": "true",
        "callerId": caller_id,
        "record": flow.record,
    }
    if flow.record != call_flow.RecordingMode.DO_NOT_RECORD:
        attrs["recordingStatusCallback"] = urls.recording
    dial = ET.SubElement(root, "Dial", attrs)
    attrs = {"statusCallback": urls.status, "statusCallbackEvent": CHILD_EVENTS}
    if whisper_url:
        attrs |= {"url": whisper_url, "method": "POST"}
    ET.SubElement(dial, "Number", attrs).text = number
    return _render(root)


def voicemail(*, urls: Urls, flow: CallFlow = DEFAULT_FLOW) -> str:
    """Ask the caller for a message. <Record> posts its action to `urls.dial`, which answers
    <Hangup/> to it (a <Record> without an action would re-request the current document — the
    dial action — and prompt again); the recording itself arrives at `urls.recording`."""
    if not flow.voicemail:
        return say_and_hangup(flow.unavailable_message)
    root = ET.Element("Response")
    _say(root, flow.voicemail_prompt)
    attrs = {
        "action": urls.dial,
        "method": "POST",
        "maxLength": str(flow.voicemail_max_seconds),
        "playBeep": "true",
        "recordingStatusCallback": urls.recording,
    }
    ET.SubElement(root, "Record", attrs)
    return _render(root)
