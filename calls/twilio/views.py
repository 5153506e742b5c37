"""Twilio's voice webhooks (PRODUCT.md, "The public contract"; PROTOCOLS.md §1).

Each request: find the account it can belong to (the dialled number, or the call its CallSid
names), verify `X-Twilio-Signature` with that account's auth token (403 otherwise), apply the
event through `record_calls`, answer TwiML. Each runs in one transaction and does nothing slow:
Twilio gives up after 15 s and a voice webhook's latency is dead air for the caller.

A caller ID never causes a 4xx: withheld, identity (`client:…`) or garbage callers are stored
as no number with the raw text kept.
"""

import json
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils.encoding import escape_uri_path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from calls.models import Call
from calls.twilio import events, flow, selectors, services, signature, twiml
from campaigns import phones
from campaigns.models import Account

SIGNATURE_HEADER = "HTTP_X_TWILIO_SIGNATURE"


@dataclass(frozen=True)
class Hook:
    """One Twilio request, as needed to verify it and read it."""

    params: QueryDict  # what Twilio sent: the form body, or the query string of a GET
    signed_params: QueryDict | None  # what the signature covers beside the URL
    body: bytes | None  # the raw body of a JSON request (signed through bodySHA256)
    url: str
    signature: str | None

    def get(self, name: str) -> str:
        return (self.params.get(name) or "").strip()

    def verifies(self, account: Account) -> bool:
        return signature.is_valid(
            token=account.twilio_auth_token,
            url=self.url,
            signature=self.signature,
            params=self.signed_params,
            body=self.body,
        )


def _public_url(request: HttpRequest) -> str:
    """The URL Twilio requested and signed. Behind a proxy the request's own URL may name an
    internal host or http://, so PUBLIC_BASE_URL (when set) replaces scheme and host; the query
    string is kept byte for byte, as it was signed."""
    if not settings.PUBLIC_BASE_URL:
        return request.build_absolute_uri()
    query = request.META.get("QUERY_STRING", "")
    path = escape_uri_path(request.path)
    return settings.PUBLIC_BASE_URL + path + (f"?{query}" if query else "")


def _absolute(request: HttpRequest, name: str) -> str:
    path = reverse(name)
    return (
        settings.PUBLIC_BASE_URL + path
        if settings.PUBLIC_BASE_URL
        else request.build_absolute_uri(path)
    )


def _urls(request: HttpRequest) -> twiml.Urls:
    return twiml.Urls(
        dial=_absolute(request, "twilio-dial"),
        status=_absolute(request, "twilio-status"),
        recording=_absolute(request, "twilio-recording"),
    )


def _json_params(body: bytes) -> QueryDict:
    params = QueryDict(mutable=True)
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        data = {}
    for key, value in data.items() if isinstance(data, dict) else ():
        params[str(key)] = "" if value is None else str(value)
    return params


def _without_nul(params: QueryDict) -> QueryDict:
    """The parameters with NUL characters dropped: PostgreSQL text cannot hold them, and no
    Twilio value has one. The signature is checked over what was sent, not over this."""
    clean = QueryDict(mutable=True)
    for key, values in params.lists():
        clean.setlist(key.replace("\x00", ""), [value.replace("\x00", "") for value in values])
    return clean


def _hook(request: HttpRequest) -> Hook:
    url, header = _public_url(request), request.META.get(SIGNATURE_HEADER)
    if request.method == "GET":  # the parameters are in the signed URL itself
        return Hook(_without_nul(request.GET), None, None, url, header)
    if request.content_type == "application/json":
        return Hook(_without_nul(_json_params(request.body)), None, request.body, url, header)
    return Hook(_without_nul(request.POST), request.POST, None, url, header)


def _xml(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type=twiml.CONTENT_TYPE)


FORBIDDEN = "Twilio signature missing or invalid."


def _forbidden() -> HttpResponse:
    return HttpResponse(FORBIDDEN, status=403, content_type="text/plain; charset=utf-8")


def _dialled(hook: Hook) -> str:
    """The dialled number in E.164. Twilio sends To in E.164; anything else ("ZZ": no region
    to read a national number in) names no number."""
    return phones.parse_caller_id(hook.get("To"), region="ZZ", strict=False).e164


# ---------------------------------------------------------------------------- incoming call


@csrf_exempt
@require_http_methods(["GET", "POST"])
@transaction.atomic
def voice(request: HttpRequest) -> HttpResponse:
    """A call to one of our numbers: record it, answer TwiML forwarding it. An unknown or
    inactive number has no token to verify with: it gets a polite goodbye and nothing is stored."""
    hook = _hook(request)
    number = selectors.number_for(e164=_dialled(hook))
    if number is None:
        return _xml(twiml.say_and_hangup(twiml.NOT_IN_SERVICE))
    if not hook.verifies(number.account):
        return _forbidden()
    call = services.record_event(
        account=number.account,
        call_sid=hook.get("CallSid"),
        event=events.voice_event(hook.params),
        caller=hook.get("From"),
        tracking_e164=number.e164,
        number=number,
    )
    campaign = number.campaign
    call_flow = flow.flow_for(campaign)
    if not campaign.forward_to or call is None:
        return _xml(twiml.say_and_hangup(call_flow.unavailable_message))
    caller_id = twiml.caller_id(
        flow=call_flow, caller_e164=call.caller_e164, tracking_e164=number.e164
    )
    whisper_url = ""
    if call_flow.whisper:  # the URL names the campaign; Twilio signs it, query string included
        whisper_url = f"{_absolute(request, 'twilio-whisper')}?campaign={campaign.pk}"
    answer = twiml.forward(
        number=campaign.forward_to,
        caller_id=caller_id,
        urls=_urls(request),
        flow=call_flow,
        whisper_url=whisper_url,
    )
    return _xml(answer)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whisper(request: HttpRequest) -> HttpResponse:
    """<Number url>: what the business hears on answering, before the caller is connected.
    The campaign named in the URL's query gives the account whose token must verify the
    request (403 otherwise) and the message, read now. Only reads. A campaign that no longer
    exists or says nothing gets an empty answer: the call is connected without a whisper."""
    hook = _hook(request)
    campaign = selectors.campaign_for_whisper(campaign_id=request.GET.get("campaign", ""))
    if campaign is None:
        return _xml(twiml.empty())
    if not hook.verifies(campaign.account):
        return _forbidden()
    return _xml(twiml.whisper(campaign.whisper_message))


# ---------------------------------------------------------------------------- callbacks


@dataclass(frozen=True)
class Target:
    account: Account
    call: Call | None
    call_sid: str


def _target(hook: Hook, *, call_sid: str, may_create: bool) -> Target | HttpResponse | None:
    """The account and call a callback is about, or a 403 when none of the candidate accounts'
    tokens verifies it, or None when no account can be named (nothing to verify with or store).

    Candidates: the accounts holding the CallSid; for a CallSid never seen (the voice webhook
    was lost) and a callback that may create the call, the owner of the dialled number."""
    calls = selectors.calls_for_update(call_sid=call_sid)
    candidates: list[tuple[Account, Call | None]] = [(c.account, c) for c in calls]
    if may_create and not calls:
        number = selectors.number_for(e164=_dialled(hook), active_only=False)
        if number is not None:
            candidates.append((number.account, None))
    if not candidates:
        return None
    for account, call in candidates:
        if hook.verifies(account):
            return Target(account, call, call_sid)
    return _forbidden()


def _apply(hook: Hook, target: Target, event: events.Event) -> Call | None:
    return services.record_event(
        account=target.account,
        call_sid=target.call_sid,
        event=event,
        call=target.call,
        caller=hook.get("From"),
        tracking_e164=_dialled(hook),
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
@transaction.atomic
def status(request: HttpRequest) -> HttpResponse:
    """StatusCallback of the parent call (the number's setting) or of the dialled leg (our
    <Number statusCallback>, carrying ParentCallSid): both are applied to the parent call. A
    dialled leg's event for a call we do not know is dropped: its numbers are not the call's."""
    hook = _hook(request)
    parent_sid = hook.get("ParentCallSid")
    call_sid = parent_sid or hook.get("CallSid")
    target = _target(hook, call_sid=call_sid, may_create=not parent_sid)
    if isinstance(target, HttpResponse):
        return target
    if target is not None:
        _apply(hook, target, events.status_event(hook.params))
    return _xml(twiml.empty())


@csrf_exempt
@require_http_methods(["GET", "POST"])
@transaction.atomic
def dial(request: HttpRequest) -> HttpResponse:
    """The <Dial> action: the business answered (hang up when they are done) or did not (offer
    voicemail). Also the action of our voicemail <Record>, answered with <Hangup/>."""
    hook = _hook(request)
    target = _target(hook, call_sid=hook.get("CallSid"), may_create=True)
    if isinstance(target, HttpResponse):
        return target
    event = events.dial_event(hook.params)
    if target is None or event is None:
        return _xml(twiml.hangup())
    call = _apply(hook, target, event)
    if event.status in events.UNANSWERED:
        call_flow = flow.flow_for(selectors.forwarding_campaign(call=call))
        return _xml(twiml.voicemail(urls=_urls(request), flow=call_flow))
    return _xml(twiml.hangup())


@csrf_exempt
@require_http_methods(["GET", "POST"])
@transaction.atomic
def recording(request: HttpRequest) -> HttpResponse:
    """RecordingStatusCallback (its CallSid is always the parent's): the recording URL, and
    voicemail when the recording is a message left after an unanswered dial."""
    hook = _hook(request)
    target = _target(hook, call_sid=hook.get("CallSid"), may_create=True)
    if isinstance(target, HttpResponse):
        return target
    if target is not None:
        current = target.call.status if target.call else None
        _apply(hook, target, events.recording_event(hook.params, current_status=current))
    return _xml(twiml.empty())
