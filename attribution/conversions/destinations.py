"""Writes of destinations and their rules: what the API and the admin call."""

from django.db import IntegrityError, transaction

from attribution.conversions import rules
from attribution.models import Conversion, ConversionRule, Destination
from campaigns.audit import services as audit
from campaigns.audit.models import AuditAction
from campaigns.errors import Conflict, Invalid
from campaigns.models import Account


def _save(destination: Destination, rule_items: list[dict] | None) -> Destination:
    errors = rules.missing_settings(
        kind=destination.kind, config=destination.config, credentials=destination.credentials
    )
    if errors:
        raise Invalid("The destination is missing settings.", fields=errors)
    try:
        with transaction.atomic():
            destination.save()
            if rule_items is not None:
                _replace_rules(destination, rule_items)
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
        if constraint == "destination_name_unique":
            message = f"This account already has a destination named '{destination.name}'."
            raise Invalid(message, fields={"name": [message]}) from exc
        if constraint == "conversion_rule_unique":
            message = "Two rules have the same trigger and action."
            raise Invalid(message, fields={"rules": [message]}) from exc
        raise
    return destination


def _replace_rules(destination: Destination, items: list[dict]) -> None:
    """The rules become exactly `items`; a rule kept (same trigger and action) keeps its id, so
    its outbox rows stay linked to it."""
    kept = {(rule.trigger, rule.action): rule for rule in destination.rules.all()}
    wanted = set()
    for item in items:
        key = (item["trigger"], item["action"])
        wanted.add(key)
        rule = kept.get(key) or ConversionRule(destination=destination)
        for name, value in item.items():
            setattr(rule, name, value)
        rule.save()
    for key, rule in kept.items():
        if key not in wanted:
            rule.delete()


@transaction.atomic
def create_destination(
    *, account: Account, rules: list[dict] | None = None, **fields
) -> Destination:
    destination = _save(Destination(account=account, **fields), rules or [])
    _audit(
        account,
        destination,
        AuditAction.CREATE,
        fields=sorted(fields),
        credentials=fields.get("credentials"),
        rules=rules,
    )
    return destination


def _audit(
    account: Account,
    destination: Destination,
    action: str,
    *,
    fields: list[str],
    credentials: dict | None,
    rules: list[dict] | None,
) -> None:
    """One audit event in the write's transaction: the changed field names and the names of
    the credential keys written or removed, never a credential's value."""
    detail: dict = {
        "fields": [name for name in fields if name != "credentials"],
        "kind": destination.kind,
    }
    if credentials is not None:
        detail["credentials"] = sorted(credentials)
    if rules is not None:
        detail["rules"] = len(rules)
    audit.record_change(
        account=account,
        action=action,
        resource="destinations",
        object_id=destination.pk,
        detail=detail,
    )


@transaction.atomic
def update_destination(
    *,
    account: Account,
    destination: Destination,
    rules: list[dict] | None = None,
    credentials: dict | None = None,
    **fields,
) -> Destination:
    """Change a destination. `credentials` are merged key by key (a key given empty or null is
    removed), so a PATCH that rotates one secret need not resend the others; changed
    credentials drop the cached OAuth token. `rules`, when given, replace the rules."""
    destination = Destination.objects.select_for_update().get(pk=destination.pk, account=account)
    changed = audit.changed_fields(destination, fields)
    for name, value in fields.items():
        setattr(destination, name, value)
    if credentials is not None:
        merged = {**destination.credentials, **credentials}
        destination.credentials = {key: value for key, value in merged.items() if value}
        destination.token_cache = {}
    destination = _save(destination, rules)
    _audit(
        account,
        destination,
        AuditAction.UPDATE,
        fields=changed,
        credentials=credentials,
        rules=rules,
    )
    return destination


@transaction.atomic
def delete_destination(*, account: Account, destination: Destination) -> None:
    """Only a destination with no outbox rows: its rows are history (disable it instead)."""
    if Conversion.objects.filter(destination=destination).exists():
        raise Conflict(f"Destination {destination.pk} has conversions; set enabled=false instead.")
    audit.record_change(
        account=account,
        action=AuditAction.DELETE,
        resource="destinations",
        object_id=destination.pk,
        detail={"kind": destination.kind},
    )
    destination.delete()
