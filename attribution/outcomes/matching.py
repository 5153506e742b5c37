"""Which call each outcome belongs to: the candidate calls read set-based, the decision taken by
`rules.decide`.

`match_waiting_outcomes` is the other half of "calls and outcomes arrive in either order": the
call ingestion path runs it for the calls it stored, so an outcome that found no call finds it
as soon as the call is in."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from attribution.conversions import services as conversions
from attribution.models import MatchMethod, Outcome, OutcomeChange
from attribution.outcomes import rules
from calls.models import Call, SpamReason
from campaigns.models import Account

SYSTEM = "system"
CALL_COLUMNS = ("pk", "started_at", "spam", "external_id", "caller_e164")


def candidates(*, account: Account, wanted: list[rules.Wanted]) -> list[rules.Candidate]:
    """Every call that could be the answer for any of `wanted`: the calls they name by external
    id, and the non-spam calls of their callers and emails in the span of their windows. At most
    four statements, whatever the size of the batch."""
    open_ = [w for w in wanted if w.call_id is None]
    if not open_:
        return []
    external_ids = {w.call_external_id for w in open_ if w.call_external_id}
    callers = {w.caller_e164 for w in open_ if w.caller_e164}
    emails = {w.email for w in open_ if w.email}
    earliest = rules.window_start(min(w.occurred_at for w in open_), account.match_window_days)
    latest = max(w.occurred_at for w in open_)
    span = Q(started_at__gte=earliest, started_at__lte=latest, spam=False)
    calls = Call.objects.filter(account=account)
    found: dict[int, dict] = {}
    if external_ids:
        found.update(_rows(calls.filter(external_id__in=external_ids)))
    if callers:
        found.update(_rows(calls.filter(span, caller_e164__in=callers)))
    outcome_emails: dict[int, set[tuple[int, str]]] = defaultdict(set)
    if emails:
        found.update(
            _rows(
                calls.alias(email=Lower("session__email")).filter(span, email__in=emails),
            )
        )
        # Calls that another outcome carrying the email was matched to.
        matched = Outcome.objects.filter(
            account=account,
            email__in=emails,
            call__spam=False,
            call__started_at__gte=earliest,
            call__started_at__lte=latest,
        ).values_list("pk", "email", "call_id")
        for outcome_id, email, call_id in matched:
            outcome_emails[call_id].add((outcome_id, email))
        missing = outcome_emails.keys() - found.keys()
        if missing:
            found.update(_rows(calls.filter(pk__in=missing)))
    return [
        rules.Candidate(
            call_id=pk,
            started_at=row["started_at"],
            spam=row["spam"],
            external_id=row["external_id"],
            caller_e164=row["caller_e164"],
            session_email=(row["session_email"] or ""),
            outcome_emails=frozenset(outcome_emails.get(pk, ())),
        )
        for pk, row in found.items()
    ]


def _rows(queryset) -> dict[int, dict]:
    rows = queryset.values(*CALL_COLUMNS, session_email=Lower("session__email"))
    return {row["pk"]: row for row in rows}


def decide_all(*, account: Account, wanted: list[rules.Wanted]) -> list[rules.Match]:
    """`rules.decide` for each of `wanted`, over candidates read once for the whole batch."""
    pool = candidates(account=account, wanted=wanted)
    by_caller: dict[str, list[rules.Candidate]] = defaultdict(list)
    by_external: dict[str, list[rules.Candidate]] = defaultdict(list)
    by_email: dict[str, list[rules.Candidate]] = defaultdict(list)
    for candidate in pool:
        by_caller[candidate.caller_e164].append(candidate)
        by_external[candidate.external_id].append(candidate)
        for email in {candidate.session_email} | {e for _, e in candidate.outcome_emails}:
            if email:
                by_email[email].append(candidate)
    return [
        rules.decide(
            w,
            {
                *by_external.get(w.call_external_id, ()),
                *by_caller.get(w.caller_e164, ()),
                *by_email.get(w.email, ()),
            },
            window_days=account.match_window_days,
        )
        for w in wanted
    ]


def clear_automatic_spam(*, account: Account, call_ids: Iterable[int]) -> int:
    """An outcome naming a call clears the call's automatic spam mark (PRODUCT.md, "Spam": a
    caller who buys is no spammer). `cleared` keeps the burst rule from marking it again; a
    user's own mark and the blocklist stay."""
    ids = set(call_ids)
    if not ids:
        return 0
    return Call.objects.filter(account=account, pk__in=ids, spam_reason=SpamReason.AUTO).update(
        spam=False, spam_reason=SpamReason.CLEARED
    )


# No savepoint when nested (the call ingestion's transaction, the usual caller): a failure here
# fails the ingestion anyway, and the path is hot.
@transaction.atomic(savepoint=False)
def match_waiting_outcomes(*, account: Account, call_ids: Iterable[int]) -> int:
    """Match the outcomes these newly stored (or changed) calls may belong to. Run it after the
    calls' spam marks are set, in the same transaction.

    Looks at the outcomes that did not name their call and could take one of these calls: the
    ones naming a call's external id, and those of its caller or its session's email whose
    `occurred_at` lies in the call's window. Each is decided again over every call it could
    take, so a late call that is the most recent before the outcome wins, as the rule says.
    Set-based: a handful of statements for a batch of calls. Idempotent: a second run changes
    nothing. Each change is an `OutcomeChange` by `system`. Returns how many outcomes changed."""
    call_ids = set(call_ids)
    if not call_ids:
        return 0
    rows = list(
        Call.objects.filter(account=account, pk__in=call_ids).values(
            "external_id", "caller_e164", "started_at", "spam", email=Lower("session__email")
        )
    )
    if not rows:
        return 0
    window = timedelta(days=account.match_window_days)
    span = Q(
        occurred_at__gte=min(r["started_at"] for r in rows),
        occurred_at__lte=max(r["started_at"] for r in rows) + window,
    )
    reachable = Q(call_external_id__in={r["external_id"] for r in rows})
    callers = {r["caller_e164"] for r in rows if r["caller_e164"] and not r["spam"]}
    emails = {r["email"] for r in rows if r["email"] and not r["spam"]}
    if callers:
        reachable |= span & Q(caller_e164__in=callers)
    if emails:
        reachable |= span & Q(email__in=emails)
    waiting = list(
        Outcome.objects.select_for_update()
        .filter(reachable, account=account)
        .exclude(match_method=MatchMethod.CALL)
        .order_by("pk")  # one lock order for every writer
    )
    if not waiting:
        return 0
    wanted = [
        rules.Wanted(
            occurred_at=o.occurred_at,
            outcome_id=o.pk,
            call_external_id=o.call_external_id,
            caller_e164=o.caller_e164,
            email=o.email,
        )
        for o in waiting
    ]
    matches = decide_all(account=account, wanted=wanted)
    return _apply(account, waiting, matches)


def _apply(account: Account, outcomes: list[Outcome], matches: list[rules.Match]) -> int:
    now = timezone.now()
    changed, history = [], []
    for outcome, match in zip(outcomes, matches, strict=True):
        before = {"call": outcome.call_id, "match_method": outcome.match_method}
        after = {"call": match.call_id, "match_method": match.method}
        if before == after:
            continue
        outcome.call_id, outcome.match_method, outcome.updated_at = match.call_id, match.method, now
        changed.append(outcome)
        changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
        history.append(
            OutcomeChange(outcome=outcome, changed_at=now, actor=SYSTEM, changes=changes)
        )
    if changed:
        Outcome.objects.bulk_update(changed, ["call", "match_method", "updated_at"])
        OutcomeChange.objects.bulk_create(history)
        clear_automatic_spam(
            account=account,
            call_ids=(o.call_id for o in changed if o.match_method == MatchMethod.CALL),
        )
        # An outcome's call (so its click id) changed: its unsent conversions are rebuilt.
        conversions.enqueue_for_outcomes(account=account, outcome_ids=[o.pk for o in changed])
    return len(changed)
