"""What the outbox knows about a conversion, read from the outcome or call behind it and put
into the platform-neutral `Facts` the adapters build their items from."""

import datetime as dt
from decimal import Decimal

from attribution.conversions import rules
from attribution.conversions.platforms.base import Facts
from attribution.models import ConversionRule, Outcome
from calls.models import Call
from campaigns.models import Account


def _identifiers(call: Call | None) -> dict:
    session = call.session if call is not None else None
    if session is None or session.is_bot:
        return {}
    return {
        "gclid": session.gclid,
        "gbraid": session.gbraid,
        "wbraid": session.wbraid,
        "msclkid": session.msclkid,
        "fbclid": session.fbclid,
        "session_started_at": session.started_at,
        "email": (session.email or "").strip().lower(),
    }


def _about(call: Call | None) -> dict:
    if call is None:
        return {}
    return {
        "call_id": call.pk,
        "call_started_at": call.started_at,
        "call_external_id": call.external_id,
        "campaign_id": call.campaign_id,
        "campaign_name": call.campaign.name if call.campaign_id else "",
        "keyword_text": call.keyword.text if call.keyword_id else "",
    }


def for_outcome(*, account: Account, outcome: Outcome, rule: ConversionRule) -> Facts:
    """An outcome's conversion: its call's session for click ids, the outcome's (else the
    call's) caller number and email. Expects `call__session`, `call__campaign` and
    `call__keyword` loaded."""
    call = outcome.call
    found = {**_identifiers(call), **_about(call)}
    session_email = found.pop("email", "")
    return Facts(
        dedup_key=rules.dedup_key(
            trigger=rule.trigger, action=rule.action, outcome_id=outcome.pk, call_id=None
        ),
        action=rule.action,
        upload=rule.upload,
        occurred_at=outcome.occurred_at,
        value=_value(rule, outcome.value),
        currency=account.currency,
        time_zone=account.time_zone,
        caller_e164=outcome.caller_e164 or (call.caller_e164 if call is not None else ""),
        email=outcome.email or session_email,
        trigger=rule.trigger,
        outcome_id=outcome.pk,
        outcome_crm=outcome.crm,
        outcome_external_id=outcome.external_id,
        **found,
    )


def for_call(*, account: Account, call: Call, rule: ConversionRule) -> Facts:
    """An answered call's conversion, happening when the call ended."""
    found = {**_identifiers(call), **_about(call)}
    ended = call.started_at + dt.timedelta(seconds=call.duration_seconds)
    return Facts(
        dedup_key=rules.dedup_key(
            trigger=rule.trigger, action=rule.action, outcome_id=None, call_id=call.pk
        ),
        action=rule.action,
        upload=rule.upload,
        occurred_at=ended,
        value=_value(rule, None),
        currency=account.currency,
        time_zone=account.time_zone,
        caller_e164=call.caller_e164,
        trigger=rule.trigger,
        **found,
    )


def _value(rule: ConversionRule, outcome_value: Decimal | None) -> Decimal | None:
    return rules.rule_value(
        value_rule=rule.value, fixed_value=rule.fixed_value, outcome_value=outcome_value
    )
