"""The snippet's consent mode in real headless Chromium (fixtures: test_snippet_browser.py).

With `data-callpath-consent="required"` nothing may be stored on the device before consent,
and the server may store no visitor id: checked in the page's storage, in the requests and in
the database (read from another thread: Django refuses ORM calls in the thread where
Playwright's event loop runs)."""

# The browser fixtures are imported from test_snippet_browser, so tests "redefine" them.
# ruff: noqa: F811

import json
import re
import threading

from django.db import connection

from attribution.models import VisitorSession
from tests.attribution.test_snippet_browser import (  # noqa: F401 (fixtures)
    ORIGINAL,
    PAGE,
    POOL,
    SESSIONS,
    _formats,
    _texts,
    _tracking_number,
    browser,
    chromium,
    context,
    landing,
    site,
)

REQUIRED = ' data-callpath-numbers="(212) 555-0100" data-callpath-consent="required"'
ANONYMOUS = REQUIRED + ' data-callpath-consent-swap="anonymous"'
STORED = "[document.cookie, localStorage.length, sessionStorage.length]"
GTAG = """window.dataLayer = window.dataLayer || [];
window.gtag = function () { dataLayer.push(arguments); };
gtag("consent", "default", {ad_storage: "denied", analytics_storage: "denied"});"""


def _page_with(site, landing: str, path: str, attributes: str) -> str:
    snippet = re.search(r'<script src="([^"]+)"', site.pages["/"]).group(1)
    site.pages[path] = PAGE.format(snippet=snippet, attributes=attributes)
    return landing.rstrip("/") + path


def _visitor_ids() -> list[str | None]:
    """The visitor ids of every session, oldest first, read in a thread of its own."""
    found: list[str | None] = []

    def read():
        try:
            rows = VisitorSession.objects.order_by("started_at", "id")
            found.extend(rows.values_list("visitor_id", flat=True))
        finally:
            connection.close()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    return found


def _posts(page) -> list[dict]:
    bodies: list[dict] = []
    page.on(
        "request",
        lambda r: bodies.append(json.loads(r.post_data)) if r.url.endswith("/sessions") else None,
    )
    return bodies


def test_required_consent_not_given_stores_nothing_asks_nothing_and_keeps_the_number(
    context, landing, site
):
    page = context.new_page()
    bodies = _posts(page)
    page.goto(_page_with(site, landing, "/required", REQUIRED))

    assert page.evaluate("Callpath.refresh()") is None
    assert page.evaluate("Callpath.sessionId()") is None
    assert bodies == []
    assert page.evaluate(STORED) == ["", 0, 0]
    assert _texts(page) == ORIGINAL
    assert page.get_attribute("#tel", "href") == "tel:+12125550100"
    assert _visitor_ids() == []


def test_anonymous_swap_keeps_the_session_in_page_memory_only_and_no_visitor_anywhere(
    context, landing, site
):
    page = context.new_page()
    bodies = _posts(page)
    with page.expect_response(SESSIONS) as answer:
        page.goto(_page_with(site, landing, "/anonymous", ANONYMOUS))
    number = _tracking_number(page)

    assert number["e164"] in POOL
    assert page.inner_text("#paren") == f"Call {_formats(number['e164'])['paren']} today."
    assert answer.value.json()["visitor_id"] is None
    assert bodies[0]["consent"] is False
    assert "visitor_id" not in bodies[0]
    assert page.evaluate(STORED) == ["", 0, 0]

    first = page.evaluate("Callpath.sessionId()")
    with page.expect_response(SESSIONS) as again:
        page.reload()
    assert again.value.status == 201  # a reload is a new session: nothing remembered it
    assert "session_id" not in bodies[-1]
    assert _tracking_number(page)
    assert page.evaluate("Callpath.sessionId()") not in (None, first)
    assert page.evaluate(STORED) == ["", 0, 0]
    assert _visitor_ids() == [None, None]


def test_consent_granted_later_stores_the_visitor_and_a_reload_keeps_the_journey(
    context, landing, site
):
    page = context.new_page()
    bodies = _posts(page)
    page.goto(_page_with(site, landing, "/anonymous", ANONYMOUS))
    number = _tracking_number(page)
    session_id = page.evaluate("Callpath.sessionId()")

    with page.expect_response(SESSIONS) as granted:
        page.evaluate("window.callpathConsent = true")
    visitor_id = granted.value.json()["visitor_id"]
    assert granted.value.status == 200  # the same session, now with a visitor
    assert bodies[-1]["session_id"] == session_id
    assert "consent" not in bodies[-1]
    assert len(visitor_id) == 32
    assert page.evaluate("localStorage.getItem('callpath_vid')") == visitor_id
    assert json.loads(page.evaluate("sessionStorage.getItem('callpath_sid')"))["id"] == session_id

    # The consent platform remembers the choice and says so again on every page.
    context.add_init_script("window.callpathConsent = true")
    with page.expect_response(SESSIONS) as renewal:
        page.reload()
    assert renewal.value.status == 200
    assert {k: bodies[-1].get(k) for k in ("session_id", "visitor_id", "consent")} == {
        "session_id": session_id,
        "visitor_id": visitor_id,
        "consent": None,
    }
    assert _tracking_number(page) == number
    assert _visitor_ids() == [visitor_id]


def test_consent_withdrawn_removes_the_stored_ids_and_stops_sending_the_visitor(context, landing):
    page = context.new_page()
    bodies = _posts(page)
    page.goto(landing)  # no consent attribute: consent is assumed until a signal denies it
    number = _tracking_number(page)
    assert page.evaluate("localStorage.getItem('callpath_vid')")

    with page.expect_request(SESSIONS):
        page.evaluate("window.dispatchEvent(new CustomEvent('callpath:consent', {detail: false}))")
    assert page.evaluate(STORED) == ["", 0, 0]
    assert bodies[-1]["consent"] is False
    assert "visitor_id" not in bodies[-1]
    assert bodies[-1]["session_id"] == page.evaluate("Callpath.sessionId()")
    assert _tracking_number(page) == number  # without the attribute, swapping goes on


def test_google_consent_mode_grants_and_denies_consent(context, landing, site):
    context.add_init_script(GTAG)
    page = context.new_page()
    bodies = _posts(page)
    page.goto(_page_with(site, landing, "/required", REQUIRED))
    assert page.evaluate("Callpath.refresh()") is None
    assert bodies == []

    with page.expect_response(SESSIONS) as granted:
        page.evaluate("gtag('consent', 'update', {analytics_storage: 'granted'})")
    shown = _formats(_tracking_number(page)["e164"])
    assert page.inner_text("#paren") == f"Call {shown['paren']} today."
    visitor_id = granted.value.json()["visitor_id"]
    assert page.evaluate("localStorage.getItem('callpath_vid')") == visitor_id

    page.evaluate("gtag('consent', 'update', {analytics_storage: 'denied'})")
    assert page.evaluate(STORED) == ["", 0, 0]
    assert page.evaluate("Callpath.number()") is None
    assert _texts(page) == ORIGINAL  # no anonymous swap: the page's own number is back
    assert _visitor_ids() == [visitor_id]
