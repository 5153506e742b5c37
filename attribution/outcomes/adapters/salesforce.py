"""Salesforce Opportunities as outcomes, as JSON: one record, a list of them, or a query result
`{"records": [...]}` — the shape of the REST API and of Apex's `JSON.serialize(opportunity)`,
which a Flow's HTTP callout or an Apex trigger sends:

    {"attributes": {"type": "Opportunity"}, "Id": "006…", "StageName": "Closed Won",
     "Amount": 1200.0, "CloseDate": "2026-11-30", "IsWon": true, "IsClosed": true,
     "LastModifiedDate": "2026-11-30T10:04:05.000+0000", "CurrencyIsoCode": "USD",
     "Account": {"Phone": "(415) 555-2671"}, "Contact": {"Email": "ada@example.com"}}

(Outbound messages are SOAP and cannot carry an `Authorization` header: docs/crm.md.)

The stage: the account's mapping of `StageName` (`/api/v1/crm-stages/`), else the
Opportunity's own `IsWon` / `IsClosed` flags for a closed one, else the standard picklist below.
`occurred_at` is `LastModifiedDate` (`SystemModstamp`), not `CloseDate`: a close date is a day,
often the expected one, and a call later that day would fall outside the match."""

from datetime import datetime

from attribution.outcomes.adapters import (
    Event,
    PayloadError,
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

CRM = "salesforce"
# The standard Opportunity StageName picklist.
DEFAULT_STAGES = {
    "Prospecting": "lead",
    "Qualification": "qualified",
    "Needs Analysis": "qualified",
    "Value Proposition": "qualified",
    "Id. Decision Makers": "qualified",
    "Perception Analysis": "qualified",
    "Proposal/Price Quote": "qualified",
    "Negotiation/Review": "qualified",
    "Closed Won": "won",
    "Closed Lost": "lost",
}


def read(payload, *, stages: dict[str, str], now: datetime) -> tuple[list[Event], bool]:
    """One Event per Opportunity record sent, and whether the payload was a list."""
    if isinstance(payload, dict) and "records" in payload:
        if not isinstance(payload["records"], list):
            raise PayloadError("`records` must be a list of Opportunity records.")
        objects, many = payload["records"], True
    else:
        objects, many = records(payload, what="Opportunity records")
    events = each(objects, lambda obj: _read_one(obj, stages, now))
    return keep_latest(events), many


def _related(obj: dict, name: str) -> dict:
    value = obj.get(name)
    return value if isinstance(value, dict) else {}


def _read_one(obj: dict, stages: dict[str, str], now: datetime) -> Event:
    kind = _related(obj, "attributes").get("type")
    if kind is not None and kind != "Opportunity":
        return ignore(f"Not an Opportunity ({kind}).")
    if not obj.get("Id"):
        return fail("Id", "The Opportunity's Id is missing.")
    stage = _stage(obj, stages)
    if stage is None:
        name = obj.get("StageName")
        if not name:
            return fail("StageName", "The Opportunity's StageName is missing.")
        return fail(
            "StageName",
            f"Salesforce stage '{name}' is not mapped to an outcome stage: map it with "
            'POST /api/v1/crm-stages/ {"crm": "salesforce", "crm_stage": '
            f'"{name}", "stage": "lead|qualified|won|lost"}}.',
        )
    account, contact = _related(obj, "Account"), _related(obj, "Contact")
    item = {
        "crm": CRM,
        "external_id": str(obj["Id"]),
        "stage": stage,
        "occurred_at": moment(first(obj.get("LastModifiedDate"), obj.get("SystemModstamp"))) or now,
    }
    return Event(
        item=optional(
            item,
            value=obj.get("Amount"),
            currency=obj.get("CurrencyIsoCode"),
            caller_number=first(
                obj.get("Phone"),
                contact.get("Phone"),
                contact.get("MobilePhone"),
                account.get("Phone"),
            ),
            email=first(obj.get("Email"), contact.get("Email")),
            call=obj.get("Callpath_Call_Id__c"),
        )
    )


def _stage(obj: dict, stages: dict[str, str]) -> str | None:
    name = obj.get("StageName")
    if name in stages:
        return stages[name]
    if truthy(obj.get("IsWon")):
        return "won"
    if truthy(obj.get("IsClosed")):
        return "lost"
    return DEFAULT_STAGES.get(name) if isinstance(name, str) else None
