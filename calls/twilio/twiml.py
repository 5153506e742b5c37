"""TwiML answers, built with ElementTree so every attribute and text is XML-escaped.
Pure: no ORM, no settings (PROTOCOLS.md §1.6, §1.8)."""

import xml.etree.ElementTree as ET
from dataclasses import dataclass

CONTENT_TYPE = "text/xml; charset=utf-8"
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
CHILD_EVENTS = "initiated ringing answered completed"


@dataclass(frozen=True)
class CallFlow:
    """How a forwarded call behaves. Per-campaign settings would fill this; until the models
    carry them every campaign gets the defaults."""

    timeout_seconds: int = 20
    record: str = "record-from-answer-dual"  # one of <Dial record>'s values
    voicemail: bool = True
    voicemail_max_seconds: int = 120
    voicemail_prompt: str = (
        "Sorry, nobody can take your call right now. Please leave a message after the tone."
    )
    unavailable_message: str = "Sorry, we cannot take your call right now. Goodbye."


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


def say_and_hangup(message: str) -> str:
    root = ET.Element("Response")
    ET.SubElement(root, "Say").text = message
    ET.SubElement(root, "Hangup")
    return _render(root)


def forward(*, number: str, caller_id: str, urls: Urls, flow: CallFlow = DEFAULT_FLOW) -> str:
    """Dial `number`; Twilio posts the result to `urls.dial`, the dialled leg's progress to
    `urls.status` and the recording to `urls.recording`."""
    root = ET.Element("Response")
    dial = ET.SubElement(
        root,
        "Dial",
        {
            "action": urls.dial,
            "method": "POST",
            "timeout": str(flow.timeout_seconds),
            "callerId": caller_id,
            "record": flow.record,
            "recordingStatusCallback": urls.recording,
        },
    )
    attrs = {"statusCallback": urls.status, "statusCallbackEvent": CHILD_EVENTS}
    ET.SubElement(dial, "Number", attrs).text = number
    return _render(root)


def voicemail(*, urls: Urls, flow: CallFlow = DEFAULT_FLOW) -> str:
    """Ask the caller for a message. <Record> posts its action to `urls.dial`, which answers
    <Hangup/> to it (a <Record> without an action would re-request the current document — the
    dial action — and prompt again); the recording itself arrives at `urls.recording`."""
    if not flow.voicemail:
        return say_and_hangup(flow.unavailable_message)
    root = ET.Element("Response")
    ET.SubElement(root, "Say").text = flow.voicemail_prompt
    attrs = {
        "action": urls.dial,
        "method": "POST",
        "maxLength": str(flow.voicemail_max_seconds),
        "playBeep": "true",
        "recordingStatusCallback": urls.recording,
    }
    ET.SubElement(root, "Record", attrs)
    return _render(root)
