"""Google Ads API v26 (REST) click and call conversion uploads, kept for allow-listed customers:
new adopters go through Data Manager (PROTOCOLS §0.1).

https://developers.google.com/google-ads/api/rest/reference/rest/v26/customers/uploadClickConversions

Click and call conversions are different requests, so `group_key` is "click" or "call" (from the
item itself: call conversions carry `callerId`). Requests use partial failure: each failing row
is named by index in `partialFailureError`, the rest are accepted.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import httpx

from attribution.conversions.platforms import base, google_data_manager, hashing, oauth

logger = logging.getLogger(__name__)

KIND = "google_ads"
API_VERSION = "v26"
BATCH_LIMIT = 2000  # TOO_MANY_CONVERSIONS_IN_REQUEST above 2000 (PROTOCOLS §2.6)
# A corrected value is a RESTATEMENT adjustment of the conversion by its orderId.
# https://developers.google.com/google-ads/api/docs/conversions/upload-adjustments
SUPPORTS_RESTATEMENT = True
__getattr__ = base.default_base_url_getattr(KIND)

# The same conversion is already there (a retry after a lost answer): as good as accepted.
ALREADY_THERE = frozenset(
    {
        "CLICK_CONVERSION_ALREADY_EXISTS",
        "CALL_CONVERSION_ALREADY_EXISTS",
        "ORDER_ID_ALREADY_IN_USE",
        "DUPLICATE_ORDER_ID",
        "RESTATEMENT_ALREADY_EXISTS",
    }
)
# "Try again later": the click, call or action is under 6 hours old (PROTOCOLS §2.5).
TOO_RECENT = frozenset(
    {
        "TOO_RECENT_EVENT",
        "TOO_RECENT_CALL",
        "TOO_RECENT_CONVERSION_ACTION",
        "TOO_RECENT_CONVERSION",  # an adjustment of a conversion Google has not processed yet
        "CONVERSION_NOT_FOUND",  # likewise: uploads take hours to be adjustable
    }
)
METHODS = {
    "click": ("uploadClickConversions", "conversions"),
    "call": ("uploadCallConversions", "conversions"),
    "adjustment": ("uploadConversionAdjustments", "conversionAdjustments"),
}
TOO_RECENT_WAIT = 6 * 3600.0
_CONSENT = {"granted": "GRANTED", "denied": "DENIED"}


def group_key(item: dict) -> str:
    if "adjustmentType" in item:
        return "adjustment"
    return "call" if "callerId" in item else "click"


def build(facts: base.Facts, target: base.Target) -> dict | base.Skip:
    customer_id = _digits(target.config["customer_id"])
    common: dict = {
        "conversionAction": f"customers/{customer_id}/conversionActions/{facts.action}",
        "conversionDateTime": account_datetime(facts.occurred_at, facts.time_zone),
    }
    if facts.value is not None:
        common["conversionValue"] = float(facts.value)
        common["currencyCode"] = facts.currency
    if consent := _CONSENT.get(str(target.config.get("ad_user_data", "granted")).lower()):
        common["consent"] = {"adUserData": consent}
    if facts.restatement:
        return _restatement(facts, common)
    if facts.upload == "call":
        return _call_conversion(facts, common)
    return _click_conversion(facts, target, common)


def _restatement(facts: base.Facts, common: dict) -> dict | base.Skip:
    if facts.upload == "call" or not facts.restates:
        return base.Skip("Google restates click conversions by order id only")
    adjusted = max(dt.datetime.now(dt.UTC), facts.occurred_at)
    item = {
        "conversionAction": common["conversionAction"],
        "orderId": facts.restates,
        "adjustmentType": "RETRACTION" if facts.retraction else "RESTATEMENT",
        "adjustmentDateTime": account_datetime(adjusted, facts.time_zone),
    }
    if facts.value is not None and not facts.retraction:
        item["restatementValue"] = {
            "adjustedValue": float(facts.value),
            "currencyCode": facts.currency,
        }
    return item


def _click_conversion(facts: base.Facts, target: base.Target, common: dict) -> dict | base.Skip:
    click = google_data_manager.click_identifier(facts, target)
    identifiers = []
    # One identifier per UserIdentifier object; with no click id this is an enhanced
    # conversion for leads. https://developers.google.com/google-ads/api/docs/conversions/enhanced-conversions/leads
    if phone := hashing.google_hashed_phone(facts.caller_e164):
        identifiers.append({"hashedPhoneNumber": phone, "userIdentifierSource": "FIRST_PARTY"})
    if email := hashing.google_hashed_email(facts.email):
        identifiers.append({"hashedEmail": email, "userIdentifierSource": "FIRST_PARTY"})
    if click is None and not identifiers:
        return base.Skip(google_data_manager.no_match_reason(facts, target))
    conversion = dict(common, orderId=facts.dedup_key)
    if click:
        conversion[click[0]] = click[1]
    if identifiers:
        conversion["userIdentifiers"] = identifiers
    return conversion


def _call_conversion(facts: base.Facts, common: dict) -> dict | base.Skip:
    # Call conversions credit Google call ads by caller and call time; there is no order id,
    # Google deduplicates on (caller, call start, action, conversion time).
    caller = hashing.google_phone(facts.caller_e164)
    if not caller or facts.call_started_at is None:
        return base.Skip("a call conversion needs the caller's number and the call's start time")
    return dict(
        common,
        callerId=caller,
        callStartDateTime=account_datetime(facts.call_started_at, facts.time_zone),
    )


def account_datetime(moment: dt.datetime, time_zone: str) -> str:
    """`yyyy-mm-dd hh:mm:ss+hh:mm` in the account's zone, as Google requires."""
    return moment.astimezone(ZoneInfo(time_zone)).isoformat(sep=" ", timespec="seconds")


def _digits(customer_id: str) -> str:
    return str(customer_id).replace("-", "")


def send(target: base.Target, items: list[dict], http: base.Http) -> list[base.Result]:
    return base.by_group(items, group_key, lambda group: _send_one(target, group, http))


def _send_one(target: base.Target, items: list[dict], http: base.Http) -> list[base.Result]:
    customer_id = _digits(target.config["customer_id"])
    method, field = METHODS[group_key(items[0])]
    url = f"{target.base_url}/{API_VERSION}/customers/{customer_id}:{method}"
    body = {field: [base.public(item) for item in items], "partialFailure": True}

    def request(token: str) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {token}",
            "developer-token": target.credentials.get("developer_token", ""),
        }
        if target.config.get("login_customer_id"):
            headers["login-customer-id"] = _digits(target.config["login_customer_id"])
        return http.post(url, json=body, headers=headers)

    return oauth.results(target, http, oauth.GOOGLE, request, interpret, len(items))


def interpret(target: base.Target, response: httpx.Response, n: int) -> list[base.Result]:
    if failure := base.transient(response):
        return base.all_items(n, failure)
    body = _json(response)
    if response.status_code != 200:
        return base.all_items(n, _request_failure(target, response, body))
    results = [base.Result("accepted")] * n
    failures: dict[int, base.Result] = {}
    for error in _errors(body.get("partialFailureError") or {}):
        index = _row(error)
        if index is not None and index < n and index not in failures:
            failures[index] = _row_result(target, error)
    for index, result in failures.items():
        results[index] = result
    return results


def _request_failure(target: base.Target, response: httpx.Response, body: dict) -> base.Result:
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    codes = [_code(e) for e in _errors(error)]
    code = codes[0] if codes else str(error.get("status") or f"HTTP_{response.status_code}")
    message = base.scrub(str(error.get("message") or response.text), target)
    logger.info("Google Ads refused a batch for destination %s: %s", target.id, code)
    if response.status_code in (401, 403):
        # Credentials, developer token or account access: not the rows' fault.
        return base.Result("retry", "AUTH_FAILED", f"{code}: {message}")
    return base.Result("rejected", code, message)


def _row_result(target: base.Target, error: dict) -> base.Result:
    code = _code(error)
    message = base.scrub(str(error.get("message", "")), target)
    if code in ALREADY_THERE:
        return base.Result("accepted", code, message)
    if code in TOO_RECENT:
        return base.Result("retry", code, message, TOO_RECENT_WAIT)
    return base.Result("rejected", code, message)


def _errors(status: dict) -> list[dict]:
    """GoogleAdsError objects from a google.rpc.Status's GoogleAdsFailure details."""
    return [
        error
        for detail in status.get("details") or []
        if isinstance(detail, dict)
        for error in detail.get("errors") or []
    ]


def _row(error: dict) -> int | None:
    for element in (error.get("location") or {}).get("fieldPathElements") or []:
        named = element.get("fieldName") in (
            "conversions",
            "conversion_adjustments",
            "conversionAdjustments",
        )
        if named and "index" in element:
            return int(element["index"])
    return None


def _code(error: dict) -> str:
    """The enum name of a GoogleAdsError's errorCode oneof (conversionUploadError, …)."""
    codes = error.get("errorCode") or {}
    return str(next(iter(codes.values()), "UNKNOWN")) if isinstance(codes, dict) else "UNKNOWN"


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
