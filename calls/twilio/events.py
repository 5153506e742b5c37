"""What each Twilio request tells us about a call, as our own statuses and durations.
Pure: no ORM, no settings, no I/O (PROTOCOLS.md §1.3–§1.7, PRODUCT.md "calls").

Every event is applied through `calls.services.record_calls`, where a status only moves up
(`rules.advance`) and durations only grow, so callbacks that arrive late, twice or out of order
converge to one final call. Events are therefore written so that order never matters:
- the parent completing with no answered dial says `abandoned`, which any dial result outranks;
- a recording made by our voicemail `<Record>` says `voicemail` by itself (`RecordingSource`
  `RecordVerb`), without looking at what the call is at when it arrives;
- the dialled (child) leg's own status callbacks only ever say "answered" or nothing.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from calls.models import CallStatus

# The parent call's CallStatus (incoming-call webhook and the number's StatusCallback).
# `completed` on the parent only says the caller's call ended: if nobody answered, the caller
# hung up first (abandoned); an answered dial result, arriving before or after, outranks it.
# `no-answer` on an inbound parent means Twilio never answered the caller's leg, which only
# happens with <Dial answerOnBridge> (our TwiML): the caller gave up while the business's
# phone rang. When the business let it ring out, the dial result (`no-answer` → missed)
# says so and outranks it.
PARENT_STATUS = {
    "queued": CallStatus.RINGING,
    "initiated": CallStatus.RINGING,
    "ringing": CallStatus.RINGING,
    "in-progress": CallStatus.IN_PROGRESS,
    "completed": CallStatus.ABANDONED,
    "busy": CallStatus.BUSY,
    "failed": CallStatus.FAILED,
    "no-answer": CallStatus.ABANDONED,
    "canceled": CallStatus.ABANDONED,
}
# The <Dial> action's DialCallStatus: the business's side of the call.
DIAL_STATUS = {
    "completed": CallStatus.ANSWERED,
    "answered": CallStatus.ANSWERED,
    "no-answer": CallStatus.MISSED,
    "busy": CallStatus.BUSY,
    "failed": CallStatus.FAILED,
    "canceled": CallStatus.ABANDONED,
}
# The child (dialled) leg's own CallStatus: `in-progress` is its `answered` event, and a child
# that `completed` was answered first. Its failures are left to DialCallStatus, which says the
# same thing on the parent; reading them here too would add nothing.
CHILD_ANSWERED = frozenset({"in-progress", "answered", "completed"})
UNANSWERED = frozenset(
    {CallStatus.MISSED, CallStatus.ABANDONED, CallStatus.BUSY, CallStatus.FAILED}
)
VOICEMAIL_SOURCE = "RecordVerb"  # RecordingSource of a <Record> recording; <Dial>'s is DialVerb


@dataclass(frozen=True)
class Event:
    """One request's news about a call. `started_at` is None when the request does not say."""

    status: str
    duration_seconds: int = 0
    talk_seconds: int | None = None
    recording_url: str = ""
    transferred: bool = False
    started_at: datetime | None = None


# The API's bound on a duration (calls.inputs.MAX_DURATION, a week): past it a number is not a
# call's length, and past 2^31 it does not fit the column (a 500 before this bound).
MAX_SECONDS = 7 * 24 * 3600


def seconds(value: str | None) -> int | None:
    """A whole number of seconds from 0 to a week, or None for anything else (Twilio's data is
    stored as it comes and never rejected)."""
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if 0 <= number <= MAX_SECONDS else None


def timestamp(value: str | None) -> datetime | None:
    """Twilio's RFC 2822 `Timestamp` (`Fri, 08 Jan 2016 17:18:38 +0000`) as an aware datetime."""
    try:
        moment = parsedate_to_datetime(value or "")
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def voice_event(params: Mapping[str, str]) -> Event:
    """The incoming-call webhook: the call is ringing (or already in progress)."""
    return Event(status=PARENT_STATUS.get(params.get("CallStatus", ""), CallStatus.RINGING))


def status_event(params: Mapping[str, str]) -> Event:
    """A StatusCallback: of the parent call, or of the dialled leg (it carries ParentCallSid)."""
    call_status = params.get("CallStatus", "")
    if params.get("ParentCallSid"):
        answered = call_status in CHILD_ANSWERED
        return Event(status=CallStatus.ANSWERED if answered else CallStatus.RINGING)
    duration = seconds(params.get("CallDuration")) or 0
    at = timestamp(params.get("Timestamp"))
    # A terminal event is stamped when the call ended: the call started `duration` earlier.
    started_at = at - timedelta(seconds=duration) if at else None
    return Event(
        status=PARENT_STATUS.get(call_status, CallStatus.RINGING),
        duration_seconds=duration,
        started_at=started_at,
    )


def dial_event(params: Mapping[str, str]) -> Event | None:
    """The <Dial> action: how the business's side ended. None when the request is not a dial
    result (our voicemail <Record> posts its own action here, without DialCallStatus).

    Twilio leaves DialCallDuration out when the dialled leg was redirected (a transfer) or
    was a conference, and we never dial a conference: answered without it is a transfer."""
    dial_status = params.get("DialCallStatus", "")
    if not dial_status:
        return None
    status = DIAL_STATUS.get(dial_status, CallStatus.RINGING)
    talk = seconds(params.get("DialCallDuration"))
    answered = status == CallStatus.ANSWERED
    if talk is None and answered:
        return Event(status=status, transferred=True)
    # The whole call lasted at least as long as its talk: keeps talk ≤ duration at every step,
    # whichever of this and the parent's CallDuration arrives first.
    return Event(status=status, duration_seconds=talk or 0, talk_seconds=talk if answered else None)


def recording_event(params: Mapping[str, str], *, current_status: str | None) -> Event:
    """A RecordingStatusCallback. A voicemail recording (our <Record>) makes the call
    `voicemail`; without RecordingSource, a recording on an unanswered call does."""
    done = params.get("RecordingStatus", "completed") == "completed"
    url = params.get("RecordingUrl", "") if done else ""
    source = params.get("RecordingSource", "")
    voicemail = source == VOICEMAIL_SOURCE or (not source and current_status in UNANSWERED)
    status = CallStatus.VOICEMAIL if done and url and voicemail else CallStatus.RINGING
    return Event(status=status, recording_url=url)
