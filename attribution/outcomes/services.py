"""Writes of CRM outcomes: the one upsert every source goes through (the REST API and the HubSpot
and Salesforce adapters), a person's edit in the admin, and the account's CRM stage mappings."""

import operator
from dataclasses import dataclass
from functools import reduce

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from attribution.conversions import services as conversions
from attribution.models import MatchMethod, Outcome, OutcomeChange
from attribution.outcomes import matching, rules
from campaigns.audit import services as audit
from campaigns.audit.models import AuditAction
from campaigns.errors import Invalid
from campaigns.models import Account, CrmStageMapping

# What a report may set; anything it leaves out keeps its stored value.
GIVEN = (
    "stage",
    "value",
    "currency",
    "occurred_at",
    "call",
    "call_external_id",
    "caller_e164",
    "caller_raw",
    "email",
)
BLANK = {
    "id": None,
    "stage": None,
    "value": None,
    "currency": "",
    "occurred_at": None,
    "call": None,
    "call_external_id": "",
    "caller_e164": "",
    "caller_raw": "",
    "email": "",
    "match_method": MatchMethod.UNMATCHED.value,
}
UNIQUE_KEY = "outcome_crm_external_unique"


@dataclass(frozen=True)
class Upserted:
    outcome: Outcome
    created: bool
    changed: bool


@dataclass
class _Plan:
    item: dict
    outcome: Outcome | None
    before: dict | None
    after: dict
    wanted: rules.Wanted | None


def currency_error(account: Account, currency: str) -> str | None:
    """The message for a currency other than the account's (PRODUCT.md: money is in the
    account's currency; a value in another one is rejected, never converted)."""
    if currency and currency != account.currency:
        return (
            f"This account reports in {account.currency}; got {currency}. "
            "Convert the value before sending it."
        )
    return None


@transaction.atomic
def upsert_outcomes(*, account: Account, items: list[dict], actor: str) -> list[Upserted]:
    """Insert or update outcomes keyed on (crm, external_id); results in input order.

    Each item has `crm, external_id, stage, occurred_at` and any of `value, currency, call` (a
    Call of the account, or None), `call_external_id, caller_e164, caller_raw, email`; a field
    left out keeps its stored value. Keys are distinct within `items` (the API checks).

    Idempotent: a report that changes nothing writes nothing, and one about an earlier moment
    than the stored one (`rules.is_stale`) changes nothing either. Each outcome that changes gets
    one `OutcomeChange` by `actor` with every changed field, its call included: an outcome is
    matched again when it has no call or what it is matched by changed (`rules.plan_match`). A
    named call loses its automatic spam mark. Raises `Invalid` for another currency."""
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _upsert(account, items, actor, respect_order=True)
        except IntegrityError as exc:
            # Two first reports of one deal raced: the loser's insert broke the unique key.
            # Once more, and the winner's row is there to update.
            constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
            if attempt or constraint != UNIQUE_KEY:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def update_outcome(*, account: Account, outcome: Outcome, actor: str, **fields) -> Outcome:
    """A person's edit (the admin): the rules of a report, except that it is never stale. Naming
    a call ties the outcome to it; clearing the call lets matching find one again."""
    item = {"crm": outcome.crm, "external_id": outcome.external_id, **fields}
    [result] = _upsert(account, [item], actor, respect_order=False)
    return result.outcome


def _upsert(account: Account, items: list[dict], actor: str, *, respect_order: bool):
    items = [_normalise(account, item) for item in items]
    stored = _lock(account, items)
    plans = [
        _plan(item, stored.get((item["crm"], item["external_id"])), respect_order) for item in items
    ]
    wanted = [plan.wanted for plan in plans if plan.wanted is not None]
    matches = iter(matching.decide_all(account=account, wanted=wanted))
    for plan in plans:
        if plan.wanted is not None:
            match = next(matches)
            plan.after["call"], plan.after["match_method"] = match.call_id, match.method
    return _write(account, plans, actor)


def _normalise(account: Account, item: dict) -> dict:
    item = dict(item)
    if "call" in item:
        item["call"] = getattr(item["call"], "pk", item["call"])
    if "email" in item:
        item["email"] = (item["email"] or "").strip().lower()
    if item.get("value") is not None and not item.get("currency"):
        item["currency"] = account.currency
    if "currency" in item:
        item["currency"] = (item["currency"] or "").upper()
        message = currency_error(account, item["currency"])
        if message:
            raise Invalid(message, fields={"currency": [message]})
    return item


def _lock(account: Account, items: list[dict]) -> dict[tuple[str, str], Outcome]:
    keys = {(item["crm"], item["external_id"]) for item in items}
    if not keys:
        return {}
    match = reduce(operator.or_, (Q(crm=crm, external_id=ext) for crm, ext in keys))
    rows = Outcome.objects.select_for_update().filter(match, account=account).order_by("pk")
    return {(o.crm, o.external_id): o for o in rows}


def _snapshot(outcome: Outcome) -> dict:
    return {
        "id": outcome.pk,
        **{name: getattr(outcome, name) for name in rules.TRACKED if name != "call"},
        "call": outcome.call_id,
    }


def _plan(item: dict, outcome: Outcome | None, respect_order: bool) -> _Plan:
    before = _snapshot(outcome) if outcome is not None else None
    if (
        before is not None
        and respect_order
        and rules.is_stale(stored=before["occurred_at"], incoming=item["occurred_at"])
    ):
        return _Plan(item, outcome, before, dict(before), None)
    given = {name: item[name] for name in GIVEN if name in item}
    after = {**(before or BLANK), **given}
    return _Plan(
        item, outcome, before, after, rules.plan_match(before=before, after=after, given=given)
    )


def _fields(after: dict) -> dict:
    values = {name: after[name] for name in rules.TRACKED if name != "call"}
    return {**values, "call_id": after["call"]}


def _write(account: Account, plans: list[_Plan], actor: str) -> list[Upserted]:
    now = timezone.now()
    new = [
        Outcome(
            account=account,
            crm=p.item["crm"],
            external_id=p.item["external_id"],
            **_fields(p.after),
        )
        for p in plans
        if p.outcome is None
    ]
    Outcome.objects.bulk_create(new)
    created = iter(new)
    results, changed, columns, history = [], [], {"updated_at"}, []
    for plan in plans:
        changes = rules.diff(plan.before, plan.after)
        outcome = plan.outcome if plan.outcome is not None else next(created)
        if plan.outcome is not None and changes:
            for name, value in _fields(plan.after).items():
                setattr(outcome, name, value)
            outcome.updated_at = now
            changed.append(outcome)
            columns |= changes.keys()
        if changes:
            history.append(
                OutcomeChange(outcome=outcome, changed_at=now, actor=actor, changes=changes)
            )
        results.append(Upserted(outcome, plan.outcome is None, bool(changes)))
    if changed:
        Outcome.objects.bulk_update(changed, sorted(columns))
    OutcomeChange.objects.bulk_create(history)
    matching.clear_automatic_spam(
        account=account,
        call_ids=(p.after["call"] for p in plans if p.after["match_method"] == MatchMethod.CALL),
    )
    # Offline conversions of outcomes that changed: outbox rows in this same transaction.
    conversions.enqueue_for_outcomes(
        account=account, outcome_ids=[r.outcome.pk for r in results if r.changed]
    )
    return results


# CRM stage mappings: an account's own pipeline stages onto outcome stages.


def _save_mapping(mapping: CrmStageMapping) -> CrmStageMapping:
    try:
        with transaction.atomic():
            mapping.save()
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
        if constraint != "crm_stage_mapping_unique":
            raise
        message = f"This account already maps {mapping.crm} stage '{mapping.crm_stage}'."
        raise Invalid(message, fields={"crm_stage": [message]}) from exc
    return mapping


@transaction.atomic
def create_stage_mapping(*, account: Account, **fields) -> CrmStageMapping:
    mapping = _save_mapping(CrmStageMapping(account=account, **fields))
    _audit_mapping(account, mapping, AuditAction.CREATE, sorted(fields))
    return mapping


@transaction.atomic
def update_stage_mapping(
    *, account: Account, mapping: CrmStageMapping, **fields
) -> CrmStageMapping:
    changed = audit.changed_fields(mapping, fields)
    for name, value in fields.items():
        setattr(mapping, name, value)
    mapping = _save_mapping(mapping)
    if changed:
        _audit_mapping(account, mapping, AuditAction.UPDATE, changed)
    return mapping


def _audit_mapping(
    account: Account, mapping: CrmStageMapping, action: str, fields: list[str]
) -> None:
    audit.record_change(
        account=account,
        action=action,
        resource="crm_stages",
        object_id=mapping.pk,
        detail={"fields": fields, "crm": mapping.crm},
    )
