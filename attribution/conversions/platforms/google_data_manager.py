"""Google through the Data Manager API (`events:ingest`), Google's path for offline conversions
since the Google Ads API stopped taking new adopters (PROTOCOLS §0.1, §2.10).

https://developers.google.com/data-manager/api/reference/rest/v1/events/ingest

One request names one conversion action (its `destinations` entry), so items carry their
action under the private `_action` key and `group_key` returns it: the delivery code batches per
(destination, group_key), and `send` splits a mixed batch anyway. Data Manager validates a
request as a whole ("fail fast") and processes accepted events asynchronously: a 200 means
`sent`, with no per-event verdict.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

import httpx

from attribution.conversions.platforms import base, hashing, oauth

logger = logging.getLogger(__name__)

KIND = "google_data_manager"
BATCH_LIMIT = 2000  # IngestEventsRequest.events, ≤ 2000 (PROTOCOLS §2.10)
SUPPORTS_RESTATEMENT = False
__getattr__ = base.default_base_url_getattr(KIND)

_CONSENT = {"granted": "CONSENT_GRANTED", "denied": "CONSENT_DENIED"}
_EVENT_INDEX = re.compile(r"events\[(\d+)\]")


def group_key(item: dict) -> str:
    return item.get("_action", "")


def click_identifier(facts: base.Facts, target: base.Target) -> tuple[str, str] | None:
    """(field, value) of the one Google click id to send: gclid, else gbraid, else wbraid.
    Google refuses gbraid and wbraid together (GBRAID_WBRAID_BOTH_SET), and a click outside
    the window can only fail (EXPIRED_EVENT), so it is left out."""
    if not base.click_in_window(facts, target):
        return None
    for name in ("gclid", "gbraid", "wbraid"):
        value = getattr(facts, name)
        if value:
            return name, value
    return None


def no_match_reason(facts: base.Facts, target: base.Target) -> str:
    has_click = bool(facts.gclid or facts.gbraid or facts.wbraid)
    if has_click and not base.click_in_window(facts, target):
        return base.stale_click_reason(facts, target)
    return base.SKIP_NO_IDENTIFIER


def build(facts: base.Facts, target: base.Target) -> dict | base.Skip:
    click = click_identifier(facts, target)
    identifiers = []
    if phone := hashing.google_hashed_phone(facts.caller_e164):
        identifiers.append({"phoneNumber": phone})
    if email := hashing.google_hashed_email(facts.email):
        identifiers.append({"emailAddress": email})
    if click is None and not identifiers:
        return base.Skip(no_match_reason(facts, target))
    event: dict = {
        "_action": facts.action,
        "transactionId": facts.dedup_key,
        "eventTimestamp": rfc3339(facts.occurred_at),
        # Release notes: required for offline conversions and enhanced conversions for leads.
        "eventSource": "PHONE",
    }
    if click:
        event["adIdentifiers"] = {click[0]: click[1]}
    if identifiers:
        event["userData"] = {"userIdentifiers": identifiers}
    if facts.value is not None:
        event["conversionValue"] = float(facts.value)
        event["currency"] = facts.currency
    return event


def rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def request_body(target: base.Target, items: list[dict]) -> dict:
    config = target.config
    destination = {
        "operatingAccount": _account(config["customer_id"]),
        "productDestinationId": items[0]["_action"],
    }
    if config.get("login_customer_id"):
        destination["loginAccount"] = _account(config["login_customer_id"])
    body = {
        "destinations": [destination],
        "events": [base.public(item) for item in items],
        "encoding": "HEX",
    }
    if consent := _consent(config):
        body["consent"] = consent
    return body


def _consent(config: dict) -> dict:
    """Request consent from the destination's settings. adUserData defaults to granted: an
    account connects a destination to send its customers' data (EEA accounts set what their
    consent banner collected); adPersonalization is sent only when configured."""
    consent = {"adUserData": _CONSENT.get(str(config.get("ad_user_data", "granted")).lower())}
    if personalization := _CONSENT.get(str(config.get("ad_personalization", "")).lower()):
        consent["adPersonalization"] = personalization
    return {key: value for key, value in consent.items() if value}


def _account(customer_id: str) -> dict:
    # Customer ids are 10 digits without dashes (the UI shows 123-456-7890).
    return {"accountType": "GOOGLE_ADS", "accountId": str(customer_id).replace("-", "")}


def send(target: base.Target, items: list[dict], http: base.Http) -> list[base.Result]:
    return base.by_group(items, group_key, lambda group: _send_one(target, group, http))


def _send_one(target: base.Target, items: list[dict], http: base.Http) -> list[base.Result]:
    body = request_body(target, items)
    url = f"{target.base_url}/v1/events:ingest"

    def request(token: str) -> httpx.Response:
        return http.post(url, json=body, headers={"Authorization": f"Bearer {token}"})

    return oauth.results(target, http, oauth.GOOGLE, request, interpret, len(items))


def interpret(target: base.Target, response: httpx.Response, n: int) -> list[base.Result]:
    if 200 <= response.status_code < 300:
        return base.all_items(n, base.Result("sent"))
    if failure := base.transient(response):
        return base.all_items(n, failure)
    error = _error(response)
    status = str(error.get("status") or f"HTTP_{response.status_code}")
    message = base.scrub(str(error.get("message") or response.text), target)
    if response.status_code == 403:
        return base.all_items(n, base.Result("retry", "AUTH_FAILED", f"{status}: {message}"))
    logger.info("Data Manager refused a batch for destination %s: %s", target.id, status)
    bad = _bad_events(error, n)
    if not bad:
        return base.all_items(n, base.Result("rejected", status, message))
    # Fail fast: nothing in the request was processed, so the good events go again without
    # the bad ones.
    others = base.Result("retry", "BATCH_REJECTED", "another event of the request was invalid")
    return [
        base.Result("rejected", status, base.scrub(bad[i], target)) if i in bad else others
        for i in range(n)
    ]


def _error(response: httpx.Response) -> dict:
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        return {}
    return error if isinstance(error, dict) else {}


def _bad_events(error: dict, n: int) -> dict[int, str]:
    """Event index -> description from google.rpc.BadRequest fieldViolations such as
    `events[3].ad_identifiers.gclid`. (The path format is Google's standard AIP-193 error model;
    Data Manager's exact paths are UNVERIFIED here.)"""
    bad: dict[int, str] = {}
    for detail in error.get("details") or []:
        for violation in detail.get("fieldViolations") or []:
            match = _EVENT_INDEX.search(str(violation.get("field", "")))
            if match and int(match.group(1)) < n:
                description = str(violation.get("description") or violation.get("field"))
                bad.setdefault(int(match.group(1)), description[:300])
    return bad
