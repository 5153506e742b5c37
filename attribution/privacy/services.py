"""Writes of the privacy package: erasing one person on request, and the retention sweep.

Both pseudonymise rather than delete (pseudonyms module): counts, revenue and distinct callers
stay exactly what they were, identities go. Both are idempotent in effect: a second erasure of
the same person finds nothing left to change; a retention run picks up exactly the rows that
still hold an identity, so a run cut short is finished by the next."""

import datetime as dt
import uuid
import zoneinfo
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from attribution.models import Outcome, VisitorSession
from attribution.privacy import pseudonyms, scrub, selectors
from attribution.reports import rollups
from calls.models import BlockedNumber, Call
from campaigns.audit.models import AuditAction
from campaigns.audit.services import record_event
from campaigns.models import Account, ApiKey

ERASED_REASON = "The person this conversion is about was erased at their request."
RETENTION_REASON = "Anonymised under the account's retention setting before it was sent."
RECORDINGS_NOTE = (
    "Recording URLs were removed here; the audio stays at the telephony provider until it is "
    "deleted there (Twilio: DELETE /Recordings/{sid})."
)


@dataclass
class ErasureReport:
    """What one erasure request touched (counts of rows changed; all 0 on a repeat)."""

    erasure_id: str
    calls: int = 0
    sessions: int = 0
    outcomes: int = 0
    outcome_changes: int = 0
    conversions: int = 0
    conversions_skipped: int = 0
    recordings: int = 0
    recordings_at_provider: list[str] = field(default_factory=list)
    stored_responses: int = 0
    blocklist_entries_kept: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


@transaction.atomic
def erase_person(
    *,
    account: Account,
    phone: str | None = None,
    email: str | None = None,
    api_key: ApiKey | None = None,
    user=None,
    path: str = "",
    ip: str | None = None,
) -> ErasureReport:
    """Erase one data subject of the account, by normalised E.164 number and/or lower-cased
    email, in one transaction: their calls, sessions, outcomes and outcome history, outbox
    payloads (unsent rows skipped), stored API answers and the rollups' caller rows, with
    the request recorded in the audit log by its hashes. A blocklist entry of the number is
    kept (the account's own decision about a caller, not data about their calls) and counted.

    Idempotent in effect: a repeat changes nothing and reports zeros (and is audited too)."""
    if not phone and not email:
        raise ValueError("erase_person needs a phone number or an email")
    email = email.strip().lower() if email else None
    report = ErasureReport(erasure_id=uuid.uuid4().hex)
    person = selectors.person_rows(account=account, phone=phone, email=email)
    # Held until commit: the rollups' refresh below must not interleave with the sweeper's.
    _lock_rollups(account)
    pz = pseudonyms.Pseudonymiser()
    replaced: dict[str, str] = {}
    if phone:
        replaced[phone] = pz.phone(phone)
    if email:
        replaced[email] = pz.email(email)
    done = scrub.calls(call_ids=person.call_ids, pz=pz)
    replaced |= done.replaced
    report.calls, report.recordings = done.changed, done.recordings
    report.recordings_at_provider = done.recording_sids
    report.sessions, found = scrub.sessions(session_ids=person.session_ids, pz=pz)
    replaced |= found
    report.outcomes, found = scrub.outcomes(outcome_ids=person.outcome_ids, pz=pz)
    replaced |= found
    report.outcome_changes = scrub.outcome_changes(
        outcome_ids=person.outcome_ids, replaced=replaced
    )
    report.conversions, report.conversions_skipped = scrub.conversions(
        account=account,
        call_ids=person.call_ids,
        outcome_ids=person.outcome_ids,
        tokens=_tokens(phone, email, replaced),
        reason=ERASED_REASON,
    )
    report.stored_responses = scrub.free_text(
        account=account,
        replaced=replaced,
        content_ids={Call: person.call_ids, VisitorSession: person.session_ids},
    )
    if phone:
        report.blocklist_entries_kept = BlockedNumber.objects.filter(
            account=account, e164=phone
        ).count()
    # The rollups keep callers as their numbers' digits: rolled up again now from the
    # pseudonymised calls (the triggers logged the days), so no old number outlives the commit.
    rollups.refresh_account(account_id=account.pk)
    secret = settings.SECRET_KEY.encode()
    record_event(
        account=account,
        action=AuditAction.ERASE,
        resource="privacy",
        api_key=api_key,
        user=user,
        object_id=report.erasure_id,
        method="POST" if path else "",
        path=path,
        ip=ip,
        detail={
            "phone_hmac": pseudonyms.request_digest("phone", phone, key=secret) if phone else None,
            "email_hmac": pseudonyms.request_digest("email", email, key=secret) if email else None,
            "touched": {k: v for k, v in report.as_dict().items() if isinstance(v, int)},
        },
    )
    return report


def _tokens(phone: str | None, email: str | None, replaced: dict[str, str]) -> set[str]:
    tokens = set(replaced)
    for e164 in {phone, *replaced} - {None}:
        if e164 and e164.startswith("+") and not pseudonyms.is_phone_pseudonym(e164):
            tokens |= pseudonyms.phone_tokens(e164)
    for address in {email, *(k for k in replaced if "@" in k)} - {None}:
        tokens |= pseudonyms.email_tokens(address)
    return {t for t in tokens if t}


def _lock_rollups(account: Account) -> None:
    with connection.cursor() as cursor:
        rollups._lock(cursor, account.pk, wait=True)  # noqa: SLF001 - the rollups' own lock


@dataclass
class RetentionReport:
    """What one retention run changed."""

    run_id: str
    calls: int = 0
    sessions: int = 0
    outcomes: int = 0
    conversions: int = 0
    conversions_skipped: int = 0
    recordings: int = 0
    batches: int = 0


def retention_cutoff(*, account: Account, now: dt.datetime | None = None) -> dt.datetime | None:
    """The start of the local day `retention_days` ago in the account's time zone (None: the
    account keeps everything). A whole local day, so a day's figures are never half-done."""
    if account.retention_days is None:
        return None
    zone = zoneinfo.ZoneInfo(account.time_zone)
    today = (now or timezone.now()).astimezone(zone).date()
    day = today - dt.timedelta(days=account.retention_days)
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


def anonymise_older_than(
    *, account: Account, cutoff: dt.datetime, batch_size: int = 1000
) -> RetentionReport:
    """Anonymise the account's calls started before `cutoff` (with their outcomes and outbox
    rows), outcomes with no call that occurred before it, and sessions started before
    `cutoff` − `lookback_days`: a session stays while a call after the cutoff may still count
    it as a touchpoint, so no retained call's journey changes. One transaction per batch,
    each audited as `anonymise` by the system; a run cut short leaves whole batches done and
    the next run finishes (it picks the rows that still hold an identity). Not for erasure:
    the rollups are left to the sweeper, a minute later."""
    report = RetentionReport(run_id=uuid.uuid4().hex)
    # One salt per run: a caller's calls done in one run share one pseudonym (distinct callers
    # stay exact within it); the salt dies with the run.
    pz = pseudonyms.Pseudonymiser()
    after: tuple[dt.datetime, int] | None = None
    while ids := selectors.calls_to_anonymise(
        account=account, cutoff=cutoff, after=after, limit=batch_size
    ):
        last = Call.objects.values_list("started_at", "pk").get(pk=ids[-1])
        _retention_batch(account, report, pz, cutoff, call_ids=ids)
        after = last
    while ids := selectors.outcomes_to_anonymise(account=account, cutoff=cutoff, limit=batch_size):
        _retention_batch(account, report, pz, cutoff, outcome_ids=ids)
    sessions_before = cutoff - dt.timedelta(days=account.lookback_days)
    while ids := selectors.sessions_to_anonymise(
        account=account, cutoff=sessions_before, limit=batch_size
    ):
        _retention_batch(account, report, pz, cutoff, session_ids=ids)
    return report


@transaction.atomic
def _retention_batch(
    account: Account,
    report: RetentionReport,
    pz: pseudonyms.Pseudonymiser,
    cutoff: dt.datetime,
    *,
    call_ids=(),
    outcome_ids=(),
    session_ids=(),
) -> None:
    outcome_ids = set(outcome_ids) | set(
        Outcome.objects.filter(call_id__in=call_ids).values_list("pk", flat=True)
    )
    tokens = scrub.click_ids(call_ids=call_ids)
    done = scrub.calls(call_ids=call_ids, pz=pz)
    changed_outcomes, found = scrub.outcomes(outcome_ids=outcome_ids, pz=pz)
    replaced = done.replaced | found
    scrub.outcome_changes(outcome_ids=outcome_ids, replaced=replaced)
    sessions, found = scrub.sessions(session_ids=session_ids, pz=pz)
    replaced |= found
    conversions, skipped = scrub.conversions(
        account=account,
        call_ids=call_ids,
        outcome_ids=outcome_ids,
        tokens=_tokens(None, None, replaced) | tokens,
        reason=RETENTION_REASON,
        search=False,
    )
    scrub.admin_log(
        content_ids={Call: call_ids, Outcome: outcome_ids, VisitorSession: session_ids},
        replaced=replaced,
    )
    counts = {
        "calls": done.changed,
        "sessions": sessions,
        "outcomes": changed_outcomes,
        "conversions": conversions,
        "conversions_skipped": skipped,
        "recordings": done.recordings,
    }
    for name, value in counts.items():
        setattr(report, name, getattr(report, name) + value)
    report.batches += 1
    record_event(
        account=account,
        action=AuditAction.ANONYMISE,
        resource="retention",
        object_id=report.run_id,
        detail={"cutoff": cutoff.isoformat(), "batch": report.batches, "touched": counts},
    )
