"""Writes of the calls app: ingesting calls from any provider, attributing them, spam.

`record_calls` is the one path every source goes through (the REST API, Twilio's webhooks, the
CSV backfill), so validation, attribution and the spam rules are the same everywhere."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q

from attribution import selectors as attribution_selectors
from calls import rules
from calls.models import BlockedNumber, Call, Confidence, SpamReason
from campaigns.models import Account, TrackingNumber


@dataclass
class CallInput:
    """One call as a provider reports it; numbers already parsed to E.164 (or "")."""

    provider: str
    external_id: str
    tracking_e164: str
    caller_e164: str
    caller_raw: str
    started_at: datetime
    status: str
    duration_seconds: int = 0
    talk_seconds: int | None = None
    recording_url: str = ""
    agent: str = ""
    transferred: bool = False


@dataclass(frozen=True)
class Attribution:
    session_id: object | None
    campaign_id: int | None
    keyword_id: int | None
    confidence: str


NONE = Attribution(None, None, None, Confidence.NONE)


def attribute(*, number: TrackingNumber | None, at: datetime) -> Attribution:
    """Last-touch attribution of a call to `number` starting `at` (PRODUCT.md, "Attribution of
    a call"). Works from the lease history, so a call ingested long after it happened is joined
    to the session that held the number then."""
    if number is None:
        return NONE
    if number.kind == TrackingNumber.Kind.STATIC:
        return Attribution(None, number.campaign_id, None, Confidence.STATIC)
    leases = attribution_selectors.leases_covering(number_id=number.pk, at=at)
    if not leases:
        return Attribution(None, number.campaign_id, None, Confidence.SOURCE)
    # Shared (overflow) leases make the answer a guess: the most recently active session.
    session = max((lease.session for lease in leases), key=lambda s: (s.last_seen_at, s.pk))
    confidence = Confidence.AMBIGUOUS if len(leases) > 1 else Confidence.EXACT
    return Attribution(
        session.pk, session.campaign_id or number.campaign_id, session.keyword_id, confidence
    )


# No savepoint when nested (the Twilio webhook's transaction): a failure here fails the whole
# webhook anyway, and two round trips fewer matter on this path.
@transaction.atomic(savepoint=False)
def record_calls(*, account: Account, items: list[CallInput]) -> list[tuple[Call, bool]]:
    """Insert or update calls, keyed on (provider, external_id): safe to retry and to replay.

    A status never moves backwards (`rules.advance`); durations only grow; a recording URL or
    agent, once known, is kept unless replaced. Each call is attributed from the lease history
    and checked against the blocklist and the short-call rule. Returns (call, created) pairs
    in input order."""
    numbers = {
        n.e164: n
        for n in TrackingNumber.objects.filter(
            account=account, e164__in={item.tracking_e164 for item in items}
        )
    }
    results = [_record_one(account, item, numbers.get(item.tracking_e164)) for item in items]
    _apply_spam_rules(account=account, calls=[call for call, _ in results])
    return results


def _record_one(account: Account, item: CallInput, number: TrackingNumber | None):
    key = {"account": account, "provider": item.provider, "external_id": item.external_id}
    call = Call.objects.select_for_update().filter(**key).first()
    created = call is None
    if created:
        # Two first reports of one call can race: the loser's insert does nothing, and both
        # then update the one row under its lock.
        Call.objects.bulk_create(
            [
                Call(
                    **key,
                    status=item.status,
                    started_at=item.started_at,
                    tracking_e164=item.tracking_e164,
                )
            ],
            ignore_conflicts=True,
        )
        call = Call.objects.select_for_update().get(**key)
    call.status = rules.advance(call.status, item.status)
    if item.tracking_e164:
        call.tracking_number, call.tracking_e164 = number, item.tracking_e164
    if item.caller_e164 or item.caller_raw:
        call.caller_e164, call.caller_raw = item.caller_e164, item.caller_raw
    call.started_at = min(call.started_at, item.started_at)
    call.duration_seconds = max(call.duration_seconds, item.duration_seconds)
    if item.talk_seconds is not None:
        call.talk_seconds = max(call.talk_seconds or 0, item.talk_seconds)
    call.recording_url = item.recording_url or call.recording_url
    call.agent = item.agent or call.agent
    call.transferred = call.transferred or item.transferred
    link = attribute(number=call.tracking_number, at=call.started_at)
    call.session_id, call.campaign_id = link.session_id, link.campaign_id
    call.keyword_id, call.confidence = link.keyword_id, link.confidence
    call.save()
    return call, created


def _apply_spam_rules(*, account: Account, calls: list[Call]) -> None:
    """Blocklisted callers are spam; so are bursts of short calls (PRODUCT.md, "Spam").
    A user's decision (marked or cleared) is never overridden."""
    callers = {call.caller_e164 for call in calls if call.caller_e164}
    if not callers:
        return
    blocked = set(
        BlockedNumber.objects.filter(account=account, e164__in=callers).values_list(
            "e164", flat=True
        )
    )
    automatic = Q(spam_reason="") | Q(spam_reason=SpamReason.AUTO)
    Call.objects.filter(account=account, caller_e164__in=blocked).filter(automatic).update(
        spam=True, spam_reason=SpamReason.BLOCKLIST
    )
    for caller in callers - blocked:
        # Only a short call can start a burst, and only a call already marked by the rule can
        # leave one (its real duration arrived): any other call leaves the marks as they are.
        own = [call for call in calls if call.caller_e164 == caller]
        if any(
            rules.is_short(call.status, call.duration_seconds)
            or call.spam_reason == SpamReason.AUTO
            for call in own
        ):
            _mark_bursts(account=account, caller=caller, calls=calls)


def _mark_bursts(*, account: Account, caller: str, calls: list[Call]) -> None:
    """Mark the bursts of short calls around these calls, and lift automatic marks that no
    longer hold: a call reported as finished with no duration yet looks short until its real
    duration arrives."""
    moments = [call.started_at for call in calls if call.caller_e164 == caller]
    # Look two windows out, so a burst reaching past the edge of one window is seen whole.
    since, until = min(moments) - 2 * rules.BURST_WINDOW, max(moments) + 2 * rules.BURST_WINDOW
    near = Call.objects.filter(
        account=account,
        caller_e164=caller,
        started_at__gte=since,
        started_at__lte=until,
        status__in=rules.FINISHED,
        duration_seconds__lt=rules.SHORT_CALL_SECONDS,
    )
    stamps = [rules.CallStamp(c.pk, c.started_at) for c in near.only("pk", "started_at")]
    burst = rules.burst_members(stamps)
    Call.objects.filter(pk__in=burst, spam_reason="").update(spam=True, spam_reason=SpamReason.AUTO)
    Call.objects.filter(
        account=account,
        caller_e164=caller,
        spam_reason=SpamReason.AUTO,
        started_at__gte=min(moments) - rules.BURST_WINDOW,
        started_at__lte=max(moments) + rules.BURST_WINDOW,
    ).exclude(pk__in=burst).update(spam=False, spam_reason="")


@transaction.atomic
def update_call(*, account: Account, call: Call, **fields) -> Call:
    """A user's or integrator's change: `spam` (their word beats the automatic rule, both
    ways) and `agent`."""
    if "spam" in fields:
        call.spam = fields.pop("spam")
        call.spam_reason = SpamReason.USER if call.spam else SpamReason.CLEARED
    for name, value in fields.items():
        setattr(call, name, value)
    call.save()
    return call


@transaction.atomic
def block_number(*, account: Account, e164: str, reason: str = "") -> tuple[BlockedNumber, bool]:
    """Add a caller to the blocklist and mark their calls spam (a user's own decisions stay)."""
    blocked, created = BlockedNumber.objects.get_or_create(
        account=account, e164=e164, defaults={"reason": reason}
    )
    Call.objects.filter(account=account, caller_e164=e164).filter(
        Q(spam_reason="") | Q(spam_reason=SpamReason.AUTO)
    ).update(spam=True, spam_reason=SpamReason.BLOCKLIST)
    return blocked, created


@transaction.atomic
def unblock_number(*, account: Account, blocked: BlockedNumber) -> None:
    """Remove a caller from the blocklist; calls spam only because of it are counted again."""
    Call.objects.filter(
        account=account, caller_e164=blocked.e164, spam_reason=SpamReason.BLOCKLIST
    ).update(spam=False, spam_reason="")
    blocked.delete()
