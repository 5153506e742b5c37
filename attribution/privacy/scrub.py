"""The writes that take identities out of rows, shared by erasure and retention. Each runs in
the caller's transaction and takes ids plus a `Pseudonymiser`; none decides whose rows they
are (selectors do). Set-based: one statement per table, whatever the number of rows."""

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from attribution.models import (
    Conversion,
    ConversionStatus,
    Outcome,
    OutcomeChange,
    VisitorSession,
)
from attribution.privacy import pseudonyms
from calls.models import Call
from campaigns.audit.models import AuditEvent
from campaigns.models import Account, IdempotencyKey

S = ConversionStatus
# Rows a platform has not taken yet: they are never sent once their person is erased. A
# `sending` row's worker finds it changed and drops its result (delivery.RECORD only writes a
# row still `sending`); what it had already put on the wire is at the platform.
UNSENT = (S.PENDING, S.RETRY, S.SENDING, S.DEAD, S.REJECTED)
# Twilio's recording SID, in the recording URL we store.
RECORDING_SID = re.compile(r"RE[0-9a-f]{32}")

CALLS_SQL = """
UPDATE calls_call AS c
   SET caller_e164 = v.caller, caller_raw = '', recording_url = '', updated_at = %(now)s
  FROM unnest(%(ids)s::bigint[], %(callers)s::text[]) AS v(id, caller)
 WHERE c.id = v.id
"""


@dataclass
class CallsDone:
    changed: int = 0
    recordings: int = 0  # calls whose recording URL was removed
    recording_sids: list[str] = field(default_factory=list)  # Twilio's, audio still there
    replaced: dict[str, str] = field(default_factory=dict)  # raw text and numbers → pseudonym


def calls(*, call_ids, pz: pseudonyms.Pseudonymiser) -> CallsDone:
    """Caller number → pseudonym, raw caller ID and recording URL cleared."""
    rows = list(
        Call.objects.filter(pk__in=call_ids).values_list(
            "pk", "caller_e164", "caller_raw", "recording_url"
        )
    )
    replaced: dict[str, str] = {}
    for _, e164, raw, _ in rows:
        if e164 and not pseudonyms.is_phone_pseudonym(e164):
            replaced[e164] = pz.phone(e164)
        if raw and raw != e164:
            replaced[raw] = pz.phone(e164) if e164 else ""
    recordings = [url for *_, url in rows if url]
    sids = sorted({sid for url in recordings for sid in RECORDING_SID.findall(url)})
    if rows:
        with connection.cursor() as cursor:
            cursor.execute(
                CALLS_SQL,
                {
                    "ids": [pk for pk, *_ in rows],
                    "callers": [pz.phone(e164) for _, e164, *_ in rows],
                    "now": timezone.now(),
                },
            )
    return CallsDone(len(rows), len(recordings), sids, replaced)


def strip_url(url: str) -> str:
    """Scheme, host and path: a query string or fragment may carry an email, a phone number or
    a click id; the campaign classification they fed is already stored in its own columns."""
    if not url:
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def sessions(*, session_ids, pz: pseudonyms.Pseudonymiser) -> tuple[int, dict[str, str]]:
    """Visitor id → pseudonym (one per visitor, so a journey stays one journey for the credits),
    email → pseudonym, IP, user agent and click ids cleared, URLs stripped to their path.
    Returns the sessions changed and the identifiers replaced."""
    found = list(VisitorSession.objects.filter(pk__in=session_ids))
    replaced: dict[str, str] = {}
    for session in found:
        for name in ("gclid", "gbraid", "wbraid", "msclkid", "fbclid", "user_agent"):
            if getattr(session, name):
                replaced[getattr(session, name)] = ""
            setattr(session, name, "")
        if session.visitor_id and session.visitor_id != pz.visitor(session.visitor_id):
            replaced[session.visitor_id] = pz.visitor(session.visitor_id)
        if session.email and session.email != pz.email(session.email):
            replaced[session.email.strip().lower()] = pz.email(session.email)
        if session.ip:
            replaced[str(session.ip)] = ""
        session.visitor_id = pz.visitor(session.visitor_id)
        session.email = pz.email(session.email)
        session.ip = None
        session.landing_url = strip_url(session.landing_url)
        session.referrer = strip_url(session.referrer)
    VisitorSession.objects.bulk_update(
        found,
        [
            "visitor_id",
            "email",
            "ip",
            "user_agent",
            "landing_url",
            "referrer",
            "gclid",
            "gbraid",
            "wbraid",
            "msclkid",
            "fbclid",
        ],
        batch_size=1000,
    )
    return len(found), replaced


def outcomes(*, outcome_ids, pz: pseudonyms.Pseudonymiser) -> tuple[int, dict[str, str]]:
    """Number and email → the same pseudonyms as their calls and sessions (a re-match finds
    the same call), raw caller ID cleared; their change history scrubbed alike."""
    found = list(Outcome.objects.filter(pk__in=outcome_ids))
    replaced: dict[str, str] = {}
    for outcome in found:
        if outcome.caller_e164 and not pseudonyms.is_phone_pseudonym(outcome.caller_e164):
            replaced[outcome.caller_e164] = pz.phone(outcome.caller_e164)
        if outcome.caller_raw and outcome.caller_raw != outcome.caller_e164:
            replaced[outcome.caller_raw] = pz.phone(outcome.caller_e164)
        if outcome.email and outcome.email != pz.email(outcome.email):
            replaced[outcome.email.strip().lower()] = pz.email(outcome.email)
        outcome.caller_e164 = pz.phone(outcome.caller_e164)
        outcome.caller_raw = ""
        outcome.email = pz.email(outcome.email)
    Outcome.objects.bulk_update(found, ["caller_e164", "caller_raw", "email"], batch_size=1000)
    return len(found), replaced


def outcome_changes(*, outcome_ids, replaced: dict[str, str]) -> int:
    """Each change row of the outcomes with every replaced identifier replaced in its JSON."""
    changed = []
    for row in OutcomeChange.objects.filter(outcome_id__in=outcome_ids):
        text = json.dumps(row.changes)
        new = pseudonyms.replace_all(text, _json_escaped(replaced))
        if new != text:
            row.changes = json.loads(new)
            changed.append(row)
    OutcomeChange.objects.bulk_update(changed, ["changes"], batch_size=1000)
    return len(changed)


def conversions(
    *, account: Account, call_ids, outcome_ids, tokens: set[str], reason: str, search: bool = True
) -> tuple[int, int]:
    """The outbox rows of these calls and outcomes, and any other of the account's rows whose
    payload holds one of `tokens` (a row whose outcome was deleted): payloads scrubbed of the
    identifiers and their hashes, rows not yet taken by a platform skipped with `reason`.
    `search=False` (retention: thousands of identifiers per batch) looks at the linked rows
    only. Returns (rows scrubbed, rows skipped)."""
    linked = Q(call_id__in=call_ids) | Q(outcome_id__in=outcome_ids)
    needles = pseudonyms.searchable(tokens)
    mentioned = Q(pk__in=[])
    for needle in needles if search else ():
        mentioned |= Q(payload__icontains=needle) | Q(last_error_message__icontains=needle)
    rows = list(Conversion.objects.filter(Q(account=account) & (linked | mentioned)))
    skipped = 0
    now = timezone.now()
    for row in rows:
        row.payload = pseudonyms.scrub_json(row.payload, tokens)
        row.last_error_message = pseudonyms.replace_all(
            row.last_error_message, dict.fromkeys(needles, "")
        )
        row.updated_at = now
        if row.status in UNSENT:
            row.status, row.next_attempt_at, row.skip_reason = S.SKIPPED, None, reason
            skipped += 1
    Conversion.objects.bulk_update(
        rows,
        ["payload", "last_error_message", "status", "next_attempt_at", "skip_reason", "updated_at"],
        batch_size=1000,
    )
    return len(rows), skipped


def click_ids(*, call_ids) -> set[str]:
    """The click ids of these calls' sessions: what an outbox payload may carry of them."""
    rows = VisitorSession.objects.filter(calls__pk__in=call_ids).values_list(
        "gclid", "gbraid", "wbraid", "msclkid", "fbclid"
    )
    return {value for row in rows for value in row if value}


def admin_log(*, content_ids: dict, replaced: dict[str, str]) -> int:
    """The admin's change log of these rows (its `object_repr` is a call's `str()`, its
    number) with every replaced identifier replaced. Returns the entries changed."""
    changed = 0
    escaped = _json_escaped(replaced)
    for model, ids in content_ids.items():
        entries = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(model),
            object_id__in=[str(pk) for pk in ids],
        )
        for entry in entries:
            entry.object_repr = pseudonyms.replace_all(entry.object_repr, replaced)[:200]
            entry.change_message = pseudonyms.replace_all(entry.change_message, escaped)
            entry.save(update_fields=["object_repr", "change_message"])
            changed += 1
    return changed


def free_text(*, account: Account, replaced: dict[str, str], content_ids: dict) -> int:
    """Stored answers replayed to Idempotency-Key retries, audit paths and details, and the
    admin's change log of these rows: every replaced identifier replaced. Returns the rows
    changed."""
    escaped = _json_escaped(replaced)
    needles = pseudonyms.searchable(escaped)
    if not needles:
        return 0
    changed = 0
    keys = IdempotencyKey.objects.filter(account=account)
    events = AuditEvent.objects.filter(account=account)
    hit_keys, hit_events = Q(pk__in=[]), Q(pk__in=[])
    for needle in needles:
        hit_keys |= Q(response_body__icontains=needle) | Q(path__icontains=needle)
        hit_events |= Q(path__icontains=needle) | Q(detail__icontains=needle)
    for key in keys.filter(hit_keys):
        key.response_body = pseudonyms.replace_all(key.response_body, escaped)
        key.path = pseudonyms.replace_all(key.path, replaced)
        key.save(update_fields=["response_body", "path"])
        changed += 1
    for event in events.filter(hit_events):
        event.path = pseudonyms.replace_all(event.path, replaced)
        event.detail = json.loads(pseudonyms.replace_all(json.dumps(event.detail), escaped))
        event.save(update_fields=["path", "detail"])
        changed += 1
    return changed + admin_log(content_ids=content_ids, replaced=replaced)


def _json_escaped(replaced: dict[str, str]) -> dict[str, str]:
    """The replacements as they appear inside JSON text (quotes or backslashes escaped)."""
    out = dict(replaced)
    for key, value in replaced.items():
        out[json.dumps(key)[1:-1]] = json.dumps(value)[1:-1]
    return {k: v for k, v in out.items() if k}
