"""HubSpot deals as outcomes. Two shapes, one list or object at a time:

- a webhook event, as HubSpot's Webhooks API sends them in batches (a JSON list):
  `{"objectId", "propertyName": "dealstage", "propertyValue", "occurredAt" (epoch ms),
  "subscriptionType": "deal.propertyChange" | "object.propertyChange", "objectTypeId": "0-3",
  ...}` (https://developers.hubspot.com/docs/api/webhooks). Only `dealstage` changes are
  outcomes; events of other properties are ignored. A relay may add `amount`, `phone`, `email`,
  `deal_currency_code` to an event;
- a deal object, as a workflow's "Send a webhook" action posts it (the object as the CRM API
  returns it): `{"objectId" | "id", "properties": {"dealstage", "amount", "deal_currency_code",
  "hs_lastmodifieddate", ...}}`, each property a plain value or `{"value": ...}` (the v1 shape).

Deal stages are pipeline stage ids: the default pipeline's are mapped below; an account maps its
own pipelines' ids (numbers such as `12345678`) with `/api/v1/crm-stages/`, and HubSpot's
`hs_is_closed_won` / `hs_is_closed` flags decide a closed stage nobody mapped."""

from datetime import datetime

from attribution.outcomes.adapters import (
    Event,
    each,
    fail,
    first,
    ignore,
    keep_latest,
    moment,
    optional,
    records,
    truthy,
)

CRM = "hubspot"
# The default sales pipeline's stage ids.
DEFAULT_STAGES = {
    "appointmentscheduled": "lead",
    "qualifiedtobuy": "qualified",
    "presentationscheduled": "qualified",
    "decisionmakerboughtin": "qualified",
    "contractsent": "qualified",
    "closedwon": "won",
    "closedlost": "lost",
}
DEAL_TYPE_ID = "0-3"  # objectTypeId of deals in the generic `object.*` events


def read(payload, *, stages: dict[str, str], now: datetime) -> tuple[list[Event], bool]:
    """One Event per webhook event or deal object sent, and whether the payload was a list."""
    objects, many = records(payload, what="HubSpot webhook events or a deal object")
    events = each(objects, lambda obj: _read_one(obj, stages, now))
    return keep_latest(events), many


def _properties(raw) -> dict:
    """Deal properties, flattened: `{"amount": {"value": "10"}}` and `{"amount": "10"}` alike."""
    if not isinstance(raw, dict):
        return {}
    return {
        name: value.get("value") if isinstance(value, dict) else value
        for name, value in raw.items()
    }


def _read_one(obj: dict, stages: dict[str, str], now: datetime) -> Event:
    props = _properties(obj.get("properties"))
    if "propertyName" in obj or "subscriptionType" in obj:
        subscription = str(obj.get("subscriptionType", ""))
        if subscription.startswith("object.") and str(obj.get("objectTypeId")) != DEAL_TYPE_ID:
            return ignore(f"Not a deal (objectTypeId {obj.get('objectTypeId')!r}).")
        if subscription and not subscription.startswith(("deal.", "object.")):
            return ignore(f"Not a deal event ({subscription}).")
        if obj.get("propertyName") != "dealstage":
            return ignore(f"Only dealstage changes are outcomes, not {obj.get('propertyName')!r}.")
        crm_stage, occurred_at = obj.get("propertyValue"), moment(obj.get("occurredAt"))
    else:
        crm_stage = props.get("dealstage")
        occurred_at = moment(first(props.get("hs_lastmodifieddate"), obj.get("updatedAt")))
    deal_id = first(obj.get("objectId"), obj.get("id"), props.get("hs_object_id"))
    if deal_id is None:
        return fail("objectId", "The deal's id is missing (objectId).")
    if not crm_stage:
        return fail("dealstage", "The deal's stage is missing (dealstage).")
    stage = _stage(str(crm_stage), props, stages)
    if stage is None:
        return fail(
            "dealstage",
            f"HubSpot stage '{crm_stage}' is not mapped to an outcome stage: map it with "
            'POST /api/v1/crm-stages/ {"crm": "hubspot", "crm_stage": '
            f'"{crm_stage}", "stage": "lead|qualified|won|lost"}}.',
        )
    item = {
        "crm": CRM,
        "external_id": str(deal_id),
        "stage": stage,
        "occurred_at": occurred_at or now,
    }
    return Event(
        item=optional(
            item,
            value=first(obj.get("amount"), props.get("amount")),
            currency=first(obj.get("deal_currency_code"), props.get("deal_currency_code")),
            caller_number=first(obj.get("phone"), props.get("phone"), props.get("mobilephone")),
            email=first(obj.get("email"), props.get("email")),
            call=first(obj.get("callpath_call_id"), props.get("callpath_call_id")),
        )
    )


def _stage(crm_stage: str, props: dict, stages: dict[str, str]) -> str | None:
    """The account's mapping, then the default pipeline's, then HubSpot's closed flags."""
    if crm_stage in stages:
        return stages[crm_stage]
    if crm_stage in DEFAULT_STAGES:
        return DEFAULT_STAGES[crm_stage]
    if truthy(props.get("hs_is_closed_won")):
        return "won"
    if truthy(props.get("hs_is_closed")):
        return "lost"
    return None
