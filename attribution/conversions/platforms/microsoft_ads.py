"""Microsoft Advertising offline conversions (Bing Ads API v13, Campaign Management, SOAP).

https://learn.microsoft.com/advertising/campaign-management-service/applyofflineconversions

Items are the elements of an `OfflineConversion` (or, for a restated value, an
`OfflineConversionAdjustment`) as a dict; `send` writes them in the WSDL's element order (a JSON
column does not keep key order, and the service requires sequence order). Conversions and
adjustments are different operations, so `group_key` is "conversion" or "adjustment".
"""

from __future__ import annotations

import datetime as dt
import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterable

import httpx

from attribution.conversions.platforms import base, hashing, oauth

logger = logging.getLogger(__name__)

KIND = "microsoft_ads"
BATCH_LIMIT = 1000  # ApplyOfflineConversions: at most 1,000 per request
SUPPORTS_RESTATEMENT = True
__getattr__ = base.default_base_url_getattr(KIND)

PATH = "/Api/Advertiser/CampaignManagement/v13/CampaignManagementService.svc"
NS = "https://bingads.microsoft.com/CampaignManagement/v13"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
ADAPI = "https://adapi.microsoft.com"
# xs:sequence order of each type in the WSDL (bingads 13.0.30.1 campaignmanagement_service.xml).
CONVERSION_FIELDS = (
    "ConversionCurrencyCode",
    "ConversionName",
    "ConversionTime",
    "ConversionValue",
    "ExternalAttributionCredit",
    "ExternalAttributionModel",
    "HashedEmailAddress",
    "HashedPhoneNumber",
    "MicrosoftClickId",
)
ADJUSTMENT_FIELDS = (
    "AdjustmentCurrencyCode",
    "AdjustmentTime",
    "AdjustmentType",
    "AdjustmentValue",
    "ConversionName",
    "ConversionTime",
    "HashedEmailAddress",
    "HashedPhoneNumber",
    "MicrosoftClickId",
)
# (operation, request array, element, field order) per group.
OPERATIONS = {
    "conversion": (
        "ApplyOfflineConversions",
        "OfflineConversions",
        "OfflineConversion",
        CONVERSION_FIELDS,
    ),
    "adjustment": (
        "ApplyOfflineConversionAdjustments",
        "OfflineConversionAdjustments",
        "OfflineConversionAdjustment",
        ADJUSTMENT_FIELDS,
    ),
}
# Microsoft ignores a repeated (MicrosoftClickId, ConversionTime) silently; should it ever answer
# with an error for one, that is as good as accepted. The codes are UNVERIFIED (not in the
# documented list we checked): any ErrorCode naming a duplicate counts.
DUPLICATE_MARKERS = ("Duplicate", "AlreadyExists")
# Operation error codes 105 InvalidCredentials, 106 UserIsNotAuthorized, 109
# AuthenticationTokenExpired. https://learn.microsoft.com/advertising/guides/operation-error-codes
AUTH_CODES = frozenset({"105", "106", "109"})


def group_key(item: dict) -> str:
    return "adjustment" if "AdjustmentType" in item else "conversion"


def build(facts: base.Facts, target: base.Target) -> dict | base.Skip:
    identifiers = {}
    if facts.msclkid and base.click_in_window(facts, target):
        identifiers["MicrosoftClickId"] = facts.msclkid
    if email := hashing.microsoft_hashed_email(facts.email):
        identifiers["HashedEmailAddress"] = email
    if phone := hashing.microsoft_hashed_phone(facts.caller_e164):
        identifiers["HashedPhoneNumber"] = phone
    if not identifiers:
        if facts.msclkid:
            return base.Skip(base.stale_click_reason(facts, target))
        return base.Skip(base.SKIP_NO_IDENTIFIER)
    when = xs_datetime(facts.occurred_at)
    if facts.restatement:
        # Restate names the original by goal, time and click; the new value replaces the old
        # from AdjustmentTime, which is now (when the correction was decided), never earlier
        # than the conversion.
        adjusted = xs_datetime(max(_now(), facts.occurred_at))
        kind = "Retract" if facts.retraction else "Restate"
        item = {"AdjustmentType": kind, "AdjustmentTime": adjusted}
        item |= {"ConversionName": facts.action, "ConversionTime": when}
        if facts.value is not None and not facts.retraction:
            item["AdjustmentValue"] = float(facts.value)
            item["AdjustmentCurrencyCode"] = facts.currency
        return item | identifiers
    item = {"ConversionName": facts.action, "ConversionTime": when}
    if facts.value is not None:
        item["ConversionValue"] = float(facts.value)
        item["ConversionCurrencyCode"] = facts.currency
    return item | identifiers


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def xs_datetime(moment: dt.datetime) -> str:
    # UTC with Z: UNVERIFIED as Microsoft's preference, but unambiguous (PROTOCOLS §4.1).
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(target: base.Target, token: str, group: str, items: list[dict]) -> bytes:
    """The SOAP request, built with ElementTree so every value is escaped."""
    operation, array, element, fields = OPERATIONS[group]
    root = ET.Element(f"{{{SOAP}}}Envelope")
    header = ET.SubElement(root, f"{{{SOAP}}}Header")
    for name, value in (
        ("AuthenticationToken", token),
        ("CustomerAccountId", target.config.get("account_id", "")),
        ("CustomerId", target.config.get("customer_id", "")),
        ("DeveloperToken", target.credentials.get("developer_token", "")),
    ):
        ET.SubElement(header, f"{{{NS}}}{name}").text = str(value)
    request = ET.SubElement(ET.SubElement(root, f"{{{SOAP}}}Body"), f"{{{NS}}}{operation}Request")
    container = ET.SubElement(request, f"{{{NS}}}{array}")
    for item in items:
        node = ET.SubElement(container, f"{{{NS}}}{element}")
        for name in fields:
            if item.get(name) is not None:
                ET.SubElement(node, f"{{{NS}}}{name}").text = _text(item[name])
    ET.register_namespace("s", SOAP)
    ET.register_namespace("", NS)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _text(value: object) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def send(target: base.Target, items: list[dict], http: base.Http) -> list[base.Result]:
    return base.by_group(items, group_key, lambda group: _send_one(target, group, http))


def _send_one(target: base.Target, items: list[dict], http: base.Http) -> list[base.Result]:
    group = group_key(items[0])
    operation = OPERATIONS[group][0]
    url = f"{target.base_url}{PATH}"

    def request(token: str) -> httpx.Response:
        return http.post(
            url,
            content=envelope(target, token, group, items),
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": operation},
        )

    return oauth.results(
        target, http, oauth.MICROSOFT, request, interpret, len(items), unauthorized=_auth_fault
    )


ACCEPTED = base.Result("accepted")
NOT_APPLIED = base.Result("retry", "BATCH_REJECTED", "another item of the request was invalid")


def interpret(target: base.Target, response: httpx.Response, n: int) -> list[base.Result]:
    root = _parse(response)
    if response.status_code == 200 and root is not None:
        return _apply_batch_errors(target, root.iter(f"{{{NS}}}BatchError"), n, ACCEPTED)
    if response.status_code == 429 or root is None:
        failure = base.transient(response)
        return base.all_items(n, failure or base.Result("retry", f"HTTP_{response.status_code}"))
    if root.find(f".//{{{SOAP}}}Fault") is not None:
        batch_errors = list(root.iter(f"{{{NS}}}BatchError"))
        if batch_errors:
            # A fault naming items: those are refused, the rest were not applied: retry them.
            return _apply_batch_errors(target, batch_errors, n, NOT_APPLIED)
        code, message = _fault(target, root)
        logger.info("Microsoft Ads fault for destination %s: %s", target.id, code)
        return base.all_items(n, base.Result("retry", code, message, base.retry_after(response)))
    return base.all_items(
        n, base.transient(response) or base.Result("retry", f"HTTP_{response.status_code}")
    )


def _apply_batch_errors(
    target: base.Target, batch_errors: Iterable[ET.Element], n: int, others: base.Result
) -> list[base.Result]:
    """One Result per item: the BatchError at its Index, else `others`."""
    results = [others] * n
    seen: set[int] = set()
    for error in batch_errors:
        raw = _child(error, "Index")
        index = int(raw) if raw.isdigit() else -1
        if not 0 <= index < n or index in seen:
            continue
        seen.add(index)
        code = _child(error, "ErrorCode") or _child(error, "Code")
        message = base.scrub(_child(error, "Message"), target)
        duplicate = any(marker in code for marker in DUPLICATE_MARKERS)
        results[index] = base.Result("accepted" if duplicate else "rejected", code, message)
    return results


def _auth_fault(response: httpx.Response) -> bool:
    if response.status_code == 401:
        return True
    root = _parse(response)
    fault = root.find(f".//{{{SOAP}}}Fault") if root is not None else None
    if fault is None:
        return False
    codes = {(node.text or "").strip() for node in fault.iter() if node.tag.endswith("}Code")}
    return bool(codes & AUTH_CODES)


def _fault(target: base.Target, root: ET.Element) -> tuple[str, str]:
    for node in root.iter():
        if node.tag in (f"{{{ADAPI}}}AdApiError", f"{{{NS}}}OperationError"):
            return _child(node, "ErrorCode") or _child(node, "Code"), base.scrub(
                _child(node, "Message"), target
            )
    return "SOAP_FAULT", base.scrub(root.findtext(".//faultstring") or "", target)


def _child(node: ET.Element, name: str) -> str:
    for child in node:
        if child.tag.rsplit("}", 1)[-1] == name:
            return (child.text or "").strip()
    return ""


def _parse(response: httpx.Response) -> ET.Element | None:
    try:
        return ET.fromstring(response.content)
    except ET.ParseError:
        return None
