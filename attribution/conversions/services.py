"""Writes of the offline-conversion outbox: rows written in the business transaction (an
outcome reaching a mapped stage, an answered call long enough), a person's retry, and the
OAuth tokens a delivery refreshed. Delivery itself is `delivery.py`."""

import logging
from collections.abc import Iterable
from dataclasses import replace

from django.db import transaction
from django.utils import timezone

from attribution.conversions import facts, rules, selectors
from attribution.conversions.platforms import adapter
from attribution.conversions.platforms.base import Facts, Skip
from attribution.models import (
    Conversion,
    ConversionRule,
    ConversionStatus,
    ConversionTrigger,
    Destination,
    Outcome,
    OutcomeStage,
)
from calls.models import Call, CallStatus
from campaigns.errors import Conflict
from campaigns.models import Account

logger = logging.getLogger(__name__)
S = ConversionStatus
# Rows not yet in the platform's hands, rebuilt in place when what they are about changes. A
# rejected row waits for a person's retry: the platform's reason is about its content.
REBUILT = (S.PENDING, S.RETRY, S.SKIPPED, S.DEAD)
DELIVERED = (S.SENT, S.ACCEPTED)


@transaction.atomic(savepoint=False)
def enqueue_for_outcomes(*, account: Account, outcome_ids: Iterable[int]) -> int:
    """Write (or bring up to date) the outbox rows of these outcomes, in the caller's
    transaction: one row per destination rule whose trigger is the outcome's stage.

    Idempotent: a row is keyed on (destination, dedup key), so a re-saved outcome never makes a
    second one. A row not yet sent is rebuilt from the outcome as it is now (a call matched
    later brings its click id); a delivered one whose value changed gets a restatement row
    where the platform takes one; an unsent `won` row of a deal since lost is skipped.
    Returns how many rows were written or changed."""
    ids = sorted(set(outcome_ids))
    wanted = selectors.active_rules(account=account, triggers=OutcomeStage.values)
    if not ids or not wanted:
        return 0
    outcomes = (
        Outcome.objects.filter(account=account, pk__in=ids)
        .select_related("call__session", "call__campaign", "call__keyword")
        .order_by("pk")
    )
    existing = _existing(
        Conversion.objects.filter(outcome_id__in=ids).select_related("rule", "destination")
    )
    plans = []
    for outcome in outcomes:
        for rule in wanted.get(outcome.stage, []):
            plans.append((facts.for_outcome(account=account, outcome=outcome, rule=rule), rule))
        if outcome.stage == OutcomeStage.LOST:
            _skip_lost_wins(existing, outcome)
            plans += _retractions(account, existing, outcome)
    return _apply(account, plans, existing, subject="outcome")


@transaction.atomic(savepoint=False)
def enqueue_for_calls(*, account: Account, call_ids: Iterable[int]) -> int:
    """The rows of answered calls at least a rule's `min_talk_seconds` long (spam left out),
    in the caller's transaction. Idempotent as `enqueue_for_outcomes`."""
    ids = sorted(set(call_ids))
    wanted = selectors.active_rules(account=account, triggers=[ConversionTrigger.ANSWERED_CALL])
    if not ids or not wanted:
        return 0
    calls = (
        Call.objects.filter(account=account, pk__in=ids, status=CallStatus.ANSWERED, spam=False)
        .select_related("session", "campaign", "keyword")
        .order_by("pk")
    )
    existing = _existing(Conversion.objects.filter(call_id__in=ids, outcome__isnull=True))
    plans = [
        (facts.for_call(account=account, call=call, rule=rule), rule)
        for call in calls
        for rule in wanted[ConversionTrigger.ANSWERED_CALL]
        if (call.talk_seconds or 0) >= rule.min_talk_seconds
    ]
    return _apply(account, plans, existing, subject="call")


@transaction.atomic(savepoint=False)
def follow_spam_marks(*, account: Account, call_ids: Iterable[int]) -> int:
    """After calls were marked or unmarked spam: an unsent answered-call row of a call now spam
    is skipped (spam is left out of every figure, and a spammer's call is no conversion); one of
    a call cleared again is built afresh. Returns the rows changed."""
    ids = sorted(set(call_ids))
    if not ids:
        return 0
    skipped = Conversion.objects.filter(
        account=account,
        call_id__in=ids,
        call__spam=True,
        outcome__isnull=True,
        status__in=(S.PENDING, S.RETRY),
    ).update(
        status=S.SKIPPED,
        next_attempt_at=None,
        skip_reason="The call was marked spam before this conversion was sent.",
    )
    cleared = Call.objects.filter(account=account, pk__in=ids, spam=False).values_list(
        "pk", flat=True
    )
    return skipped + enqueue_for_calls(account=account, call_ids=list(cleared))


def _existing(rows) -> dict[tuple[int, str], Conversion]:
    locked = rows.select_for_update(of=("self",)).order_by("pk")
    return {(row.destination_id, row.dedup_key): row for row in locked}


def _skip_lost_wins(existing: dict, outcome: Outcome) -> None:
    for row in existing.values():
        unsent_win = row.trigger == OutcomeStage.WON and row.status in (S.PENDING, S.RETRY)
        if row.outcome_id == outcome.pk and unsent_win:
            row.status, row.next_attempt_at = S.SKIPPED, None
            row.skip_reason = "The deal was lost before this conversion was sent."
            row.save(update_fields=["status", "next_attempt_at", "skip_reason", "updated_at"])


def _retractions(account: Account, existing: dict, outcome: Outcome) -> list:
    """A deal lost after its win was delivered: the win is withdrawn where the platform takes a
    retraction (Google Ads RETRACTION, Microsoft Retract, a webhook's `conversion.retracted`),
    as one more row keyed `<win's key>-x`, in the same transaction."""
    plans = []
    for row in list(existing.values()):
        delivered_win = row.trigger == OutcomeStage.WON and row.status in DELIVERED
        if row.outcome_id != outcome.pk or not delivered_win or row.restatement:
            continue
        if row.rule is None or not adapter(row.destination.kind).SUPPORTS_RESTATEMENT:
            continue
        fact = facts.for_outcome(account=account, outcome=outcome, rule=row.rule)
        withdrawn = replace(
            fact,
            dedup_key=rules.retraction_key(row.dedup_key),
            restatement=True,
            retraction=True,
            restates=row.dedup_key,
            occurred_at=row.occurred_at,
            value=None,
        )
        plans.append((withdrawn, row.rule))
    return plans


def _apply(account: Account, plans, existing: dict, *, subject: str) -> int:
    now = timezone.now()
    new, changed = [], []
    for fact, rule in plans:
        target = selectors.target(rule.destination)
        row = existing.get((rule.destination_id, fact.dedup_key))
        if row is None:
            new.append(_row(account, rule, fact, target, now))
        elif row.status in REBUILT:
            if _rebuild(account, row, rule, fact, target, now):
                changed.append(row)
        elif row.status in DELIVERED and row.value != fact.value and not fact.retraction:
            restated = _restatement(account, rule, fact, target, existing, now)
            if restated is not None:
                new.append(restated)
    Conversion.objects.bulk_create(new, ignore_conflicts=True)
    for row in changed:
        row.save()
    if new or changed:
        for destination_id in {row.destination_id for row in new + changed}:
            nudge_after_commit(destination_id)
    logger.debug("outbox: %s new, %s changed rows for %s rows", len(new), len(changed), subject)
    return len(new) + len(changed)


def _built(rule: ConversionRule, fact: Facts, target) -> tuple[dict, str]:
    item = adapter(rule.destination.kind).build(fact, target)
    if isinstance(item, Skip):
        return {}, item.reason
    return item, ""


def _row(account, rule, fact: Facts, target, now) -> Conversion:
    payload, skipped = _built(rule, fact, target)
    return Conversion(
        account=account,
        destination_id=rule.destination_id,
        rule=rule,
        outcome_id=fact.outcome_id,
        call_id=fact.call_id,
        trigger=rule.trigger,
        action=rule.action,
        restatement=fact.restatement,
        dedup_key=fact.dedup_key,
        status=S.SKIPPED if skipped else S.PENDING,
        skip_reason=skipped,
        value=fact.value,
        currency=fact.currency if fact.value is not None else "",
        occurred_at=fact.occurred_at,
        payload=payload,
        next_attempt_at=None if skipped else now,
    )


def _rebuild(account: Account, row: Conversion, rule, fact: Facts, target, now) -> bool:
    fresh = _row(account, rule, fact, target, now)
    fields = ("payload", "status", "skip_reason", "value", "currency", "occurred_at", "call_id")
    if all(getattr(row, name) == getattr(fresh, name) for name in fields):
        return False
    for name in fields:
        setattr(row, name, getattr(fresh, name))
    row.next_attempt_at = fresh.next_attempt_at
    if row.status == S.PENDING:
        row.attempts, row.last_error_code, row.last_error_message = 0, "", ""
    return True


def _restatement(account, rule, fact: Facts, target, existing: dict, now) -> Conversion | None:
    """A corrected value for a conversion the platform already has, where it takes one
    (Microsoft's Restate); elsewhere the platform keeps the first value (its dedup key is
    spent) and the row's value stays what was sent."""
    if not adapter(rule.destination.kind).SUPPORTS_RESTATEMENT:
        return None
    versions = [
        row
        for (destination_id, key), row in existing.items()
        if destination_id == rule.destination_id and key.startswith(fact.dedup_key)
    ]
    latest = max(versions, key=lambda row: row.pk)
    if latest.value == fact.value:
        return None
    key = rules.restatement_key(fact.dedup_key, len(versions) + 1)
    original = existing[(rule.destination_id, fact.dedup_key)]
    # The platform finds the conversion to restate by its original key and time, whatever
    # moment the CRM reported the correction for.
    restated = replace(
        fact,
        dedup_key=key,
        restatement=True,
        restates=fact.dedup_key,
        occurred_at=original.occurred_at,
    )
    row = _row(account, rule, restated, target, now)
    existing[(rule.destination_id, key)] = row
    return row


def nudge_after_commit(destination_id: int) -> None:
    """Ask a worker to deliver this destination's due rows once the transaction commits. Only a
    nudge: the row is the truth and the beat's sweeper finds it anyway, so a broker that is
    down costs latency, never the conversion (and never the request that wrote it)."""

    def nudge() -> None:
        from attribution.conversions.tasks import send_conversions_task

        try:
            send_conversions_task.apply_async((destination_id,), retry=False)
        except Exception:  # noqa: BLE001 - any broker failure; the sweeper is the fallback
            logger.warning(
                "outbox: could not queue destination %s; the sweeper will", destination_id
            )

    transaction.on_commit(nudge)


@transaction.atomic
def retry_conversion(*, account: Account, conversion: Conversion) -> Conversion:
    """A person's retry: the row is built again from what it is about now and made due, its
    attempts reset. Refused (Conflict) for a row the platform has or a worker is sending, and
    for one that still cannot be sent (its skip reason)."""
    row = Conversion.objects.select_for_update().get(pk=conversion.pk, account=account)
    if row.status in DELIVERED:
        raise Conflict(f"Conversion {row.pk} was already {row.status}; there is nothing to retry.")
    if row.status == S.SENDING and row.next_attempt_at and row.next_attempt_at > timezone.now():
        raise Conflict(f"Conversion {row.pk} is being sent right now.")
    fact = _current_facts(account, row)
    if fact is not None:
        target = selectors.target(row.destination)
        payload, skipped = _built(row.rule, fact, target)
        if skipped:
            raise Conflict(f"Conversion {row.pk} still cannot be sent: {skipped}")
        row.payload, row.value, row.occurred_at = payload, fact.value, fact.occurred_at
    elif row.status == S.SKIPPED:
        raise Conflict(f"Conversion {row.pk} still cannot be sent: {row.skip_reason}")
    row.status, row.next_attempt_at, row.attempts = S.PENDING, timezone.now(), 0
    row.last_error_code = row.last_error_message = row.skip_reason = ""
    row.save()
    nudge_after_commit(row.destination_id)
    return row


def _current_facts(account: Account, row: Conversion) -> Facts | None:
    if row.rule is None or row.restatement:
        return None
    if row.outcome_id is not None:
        outcome = Outcome.objects.select_related(
            "call__session", "call__campaign", "call__keyword"
        ).get(pk=row.outcome_id)
        return facts.for_outcome(account=account, outcome=outcome, rule=row.rule)
    if row.call_id is not None:
        call = Call.objects.select_related("session", "campaign", "keyword").get(pk=row.call_id)
        return facts.for_call(account=account, call=call, rule=row.rule)
    return None


def save_tokens(*, destination_id: int, values: dict) -> None:
    """Persist an OAuth token a delivery refreshed (its own short transaction: the refresh
    happened, whatever becomes of the batch)."""
    with transaction.atomic():
        destination = Destination.objects.select_for_update().get(pk=destination_id)
        destination.token_cache = {**destination.token_cache, **values}
        destination.save(update_fields=["token_cache", "updated_at"])
