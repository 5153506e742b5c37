"""Writes of the calls app: ingesting calls from any provider, attributing them, spam.

`record_calls` is the one path every source goes through (the REST API, Twilio's webhooks, the
CSV backfill), so validation, attribution and the spam rules are the same everywhere."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q

from attribution import selectors as attribution_selectors
from attribution.conversions.services import enqueue_for_calls, follow_spam_marks
from attribution.credits.tasks import recompute_account_credits_task, recompute_credits_task
from attribution.outcomes.matching import match_waiting_outcomes
from calls import rules
from calls.models import BlockedNumber, Call, CallStatus, Confidence, SpamReason
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


# What a report can change on a stored call (`_merge`), and the attribution derived from it.
MERGED = (
    "status",
    "tracking_number_id",
    "tracking_e164",
    "caller_e164",
    "caller_raw",
    "started_at",
    "duration_seconds",
    "talk_seconds",
    "recording_url",
    "agent",
    "transferred",
    "session_id",
    "campaign_id",
    "keyword_id",
    "confidence",
)
# A change to any of these can start or end a burst of short calls.
BURST_INPUTS = frozenset({"status", "caller_e164", "started_at", "duration_seconds"})
# ... and to these can make the call the one a waiting outcome belongs to.
MATCH_INPUTS = frozenset({"caller_e164", "started_at"})
# ... and to these change the call's touchpoints, so its attribution credits.
CONVERSION_INPUTS = frozenset({"status", "talk_seconds"})
CREDIT_INPUTS = frozenset({"session_id", "started_at", "campaign_id", "keyword_id"})
# From this many calls on, recomputing the whole account beats recomputing them one by one.
WHOLE_ACCOUNT_CALLS = 50_000


@dataclass(frozen=True)
class Recorded:
    call: Call
    created: bool
    changed: frozenset[str]


# No savepoint when nested (the Twilio webhook's transaction): a failure here fails the whole
# webhook anyway, and two round trips fewer matter on this path.
@transaction.atomic(savepoint=False)
def record_calls(
    *,
    account: Account,
    items: list[CallInput],
    locked: Sequence[Call] = (),
    numbers: Sequence[TrackingNumber] = (),
) -> list[tuple[Call, bool]]:
    """Insert or update calls, keyed on (provider, external_id): safe to retry and to replay.

    A status never moves backwards (`rules.advance`); durations only grow; a recording URL or
    agent, once known, is kept unless replaced. Each call is attributed from the lease history
    and checked against the blocklist and the short-call rule. A report that changes nothing
    writes nothing. Returns (call, created) pairs in input order.

    `locked` are calls the caller already holds `select_for_update` in this transaction (with
    `tracking_number` loaded), `numbers` tracking numbers it already read: both only save
    round trips (a Twilio callback is four statements, not seven)."""
    held = {(call.provider, call.external_id): call for call in locked}
    known = {number.e164: number for number in numbers}
    for call in locked:
        if call.tracking_number_id and Call.tracking_number.is_cached(call):
            known[call.tracking_e164] = call.tracking_number
    missing = {item.tracking_e164 for item in items} - known.keys() - {""}
    if missing:
        known.update(
            (n.e164, n) for n in TrackingNumber.objects.filter(account=account, e164__in=missing)
        )
    results = [
        _record_one(
            account,
            item,
            known.get(item.tracking_e164),
            held.get((item.provider, item.external_id)),
        )
        for item in items
    ]
    _apply_spam_rules(account=account, results=results)
    # Outcomes can arrive before their call (PRODUCT.md, "Outcome to call"): a new call, or one
    # whose caller or start moved, may be the one an outcome is waiting for.
    arrived = [r.call.pk for r in results if r.created or r.changed & MATCH_INPUTS]
    if arrived:
        match_waiting_outcomes(account=account, call_ids=arrived)
    # An answered call long enough is a conversion for destinations that want one (the outbox
    # row in this transaction). Only a call whose status or talk time moved can newly qualify.
    ended = [
        r.call.pk
        for r in results
        if r.call.status == CallStatus.ANSWERED and (r.created or r.changed & CONVERSION_INPUTS)
    ]
    if ended:
        enqueue_for_calls(account=account, call_ids=ended)
    moved = [r.call.pk for r in results if r.created or r.changed & CREDIT_INPUTS]
    if moved:
        recompute_credits_after_commit(account=account, call_ids=moved)
    return [(result.call, result.created) for result in results]


def recompute_credits_after_commit(*, account: Account, call_ids: list[int]) -> None:
    """Queue the attribution credits of these calls once the transaction commits: on a worker
    when there is a broker (a webhook never waits for the account's credits lock), in-process
    after the commit otherwise. A big batch recomputes the whole account (one set-based pass
    is cheaper than its share of per-call work)."""
    account_id, ids = account.pk, sorted(call_ids)

    def queue_credits() -> None:
        if len(ids) >= WHOLE_ACCOUNT_CALLS:
            recompute_account_credits_task.delay(account_id)
        else:
            recompute_credits_task.delay(account_id, ids)

    # Robust: the calls are committed whatever becomes of the nudge. With the broker down the
    # publish fails (logged) and the nightly recompute brings these credits up to date.
    transaction.on_commit(queue_credits, robust=True)


def _locked_or_new(account: Account, item: CallInput) -> tuple[Call, bool]:
    key = {"account": account, "provider": item.provider, "external_id": item.external_id}
    call = Call.objects.select_for_update().filter(**key).first()
    if call is not None:
        return call, False
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
    return Call.objects.select_for_update().get(**key), True


def _record_one(
    account: Account, item: CallInput, number: TrackingNumber | None, call: Call | None
) -> Recorded:
    created = False
    if call is None:
        call, created = _locked_or_new(account, item)
    before = {name: getattr(call, name) for name in MERGED}
    _merge(call, item, number)
    # The lease history covering one instant of one number does not change once the call has
    # happened, so the answer only needs working out again when the number or the start
    # moved. Except a shared number: "the most recently active" sharer can still change.
    if (
        created
        or call.tracking_number_id != before["tracking_number_id"]
        or call.started_at != before["started_at"]
        or call.confidence == Confidence.AMBIGUOUS
    ):
        link = attribute(number=call.tracking_number, at=call.started_at)
        call.session_id, call.campaign_id = link.session_id, link.campaign_id
        call.keyword_id, call.confidence = link.keyword_id, link.confidence
    changed = frozenset(name for name in MERGED if getattr(call, name) != before[name])
    if changed or created:
        call.save(update_fields=[*sorted(changed), "updated_at"])
    return Recorded(call, created, changed)


def _merge(call: Call, item: CallInput, number: TrackingNumber | None) -> None:
    """How a report changes a stored call (mirrored, set-based, by `backfill_sql._MERGE`)."""
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


def _apply_spam_rules(*, account: Account, results: list[Recorded]) -> None:
    """Blocklisted callers are spam; so are bursts of short calls (PRODUCT.md, "Spam").
    A user's decision (marked or cleared) is never overridden. Only calls whose caller, status,
    start or duration changed are looked at: `block_number` marks a caller's existing calls
    itself, so a report that changes none of these cannot change a spam mark."""
    calls = [r.call for r in results if r.created or r.changed & BURST_INPUTS]
    callers = {call.caller_e164 for call in calls if call.caller_e164}
    if not callers:
        return
    # A caller already stored on the call was checked then (and `block_number` marks the
    # calls of a caller blocked later): only a new call or a new caller is looked up.
    newcomers = {
        r.call.caller_e164
        for r in results
        if r.call.caller_e164 and (r.created or "caller_e164" in r.changed)
    }
    blocked = (
        set(
            BlockedNumber.objects.filter(account=account, e164__in=newcomers).values_list(
                "e164", flat=True
            )
        )
        if newcomers
        else set()
    )
    automatic = Q(spam_reason="") | Q(spam_reason=SpamReason.AUTO)
    if blocked:
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
    duration arrives. One read; a write only when a mark changes."""
    moments = [call.started_at for call in calls if call.caller_e164 == caller]
    first, last = min(moments), max(moments)
    # Look two windows out, so a burst reaching past the edge of one window is seen whole.
    short = Q(status__in=rules.FINISHED, duration_seconds__lt=rules.SHORT_CALL_SECONDS)
    near = Call.objects.filter(
        Q(short) | Q(spam_reason=SpamReason.AUTO),
        account=account,
        caller_e164=caller,
        started_at__gte=first - 2 * rules.BURST_WINDOW,
        started_at__lte=last + 2 * rules.BURST_WINDOW,
    ).values_list("pk", "started_at", "status", "duration_seconds", "spam_reason")
    rows = list(near)
    burst = rules.burst_members(
        rules.CallStamp(pk, at)
        for pk, at, status, duration, _ in rows
        if rules.is_short(status, duration)
    )
    mark = [pk for pk, _, _, _, reason in rows if pk in burst and reason == ""]
    # Marks are lifted only within one window of these calls: further out, a call's burst
    # may reach beyond what was read.
    lift = [
        pk
        for pk, at, _, _, reason in rows
        if reason == SpamReason.AUTO
        and pk not in burst
        and first - rules.BURST_WINDOW <= at <= last + rules.BURST_WINDOW
    ]
    if mark:
        Call.objects.filter(pk__in=mark).update(spam=True, spam_reason=SpamReason.AUTO)
    if lift:
        Call.objects.filter(pk__in=lift).update(spam=False, spam_reason="")


@transaction.atomic
def update_call(*, account: Account, call: Call, **fields) -> Call:
    """A user's or integrator's change: `spam` (their word beats the automatic rule, both
    ways) and `agent`."""
    spam_changed = "spam" in fields and fields["spam"] != call.spam
    if "spam" in fields:
        call.spam = fields.pop("spam")
        call.spam_reason = SpamReason.USER if call.spam else SpamReason.CLEARED
    for name, value in fields.items():
        setattr(call, name, value)
    call.save()
    if spam_changed:
        follow_spam_marks(account=account, call_ids=[call.pk])
    return call


@transaction.atomic
def block_number(*, account: Account, e164: str, reason: str = "") -> tuple[BlockedNumber, bool]:
    """Add a caller to the blocklist and mark their calls spam (a user's own decisions stay)."""
    blocked, created = BlockedNumber.objects.get_or_create(
        account=account, e164=e164, defaults={"reason": reason}
    )
    marked = Call.objects.filter(account=account, caller_e164=e164).filter(
        Q(spam_reason="") | Q(spam_reason=SpamReason.AUTO)
    )
    ids = list(marked.values_list("pk", flat=True))
    marked.update(spam=True, spam_reason=SpamReason.BLOCKLIST)
    follow_spam_marks(account=account, call_ids=ids)
    return blocked, created


@transaction.atomic
def unblock_number(*, account: Account, blocked: BlockedNumber) -> None:
    """Remove a caller from the blocklist; calls spam only because of it are counted again."""
    cleared = Call.objects.filter(
        account=account, caller_e164=blocked.e164, spam_reason=SpamReason.BLOCKLIST
    )
    ids = list(cleared.values_list("pk", flat=True))
    cleared.update(spam=False, spam_reason="")
    follow_spam_marks(account=account, call_ids=ids)
    blocked.delete()
