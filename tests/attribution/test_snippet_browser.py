"""The snippet in a real browser: headless Chromium (Debian's package) driven by Playwright.

The API and the snippet come from pytest-django's live server; the landing page from a second
origin (a small `http.server` on 127.0.0.1), listed in the account's allowed origins, so every
request is a real cross-origin one. No browser is ever downloaded: Playwright only drives
/usr/bin/chromium.
"""

import http.server
import json
import os
import threading
import time

import pytest
from django.core.cache import cache

from attribution.dni import config
from tests.conftest import IN_CI
from tests.factories import AccountFactory, CampaignFactory, PoolFactory, PoolNumberFactory

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
POOL = ["+13125550141", "+13125550142", "+13125550143"]
SESSIONS = "**/dni/v1/sessions"
SET_VISIBILITY = """state => {
    Object.defineProperty(document, "visibilityState", {value: state, configurable: true});
    document.dispatchEvent(new Event("visibilitychange"));
}"""

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Acme Plumbing</title>
<script src="{snippet}"{attributes}></script></head>
<body>
<p id="paren">Call (212) 555-0100 today.</p>
<p id="dashes">Or 1-212-555-0100, 24/7.</p>
<p id="other">Order 2125550199, office 212.555.0199.</p>
<a id="tel" href="tel:+12125550100">Call now</a>
<p id="ignored" data-callpath-ignore>Fax: <b>(212) 555-0100</b></p>
</body></html>
"""
ORIGINAL = {
    "paren": "Call (212) 555-0100 today.",
    "dashes": "Or 1-212-555-0100, 24/7.",
    "other": "Order 2125550199, office 212.555.0199.",
    "ignored": "Fax: (212) 555-0100",
}


def _need(message: str):
    if IN_CI:
        pytest.fail(message)
    pytest.skip(f"SKIPPED, NEEDS CHROMIUM: {message}")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Chromium and Playwright, or a loud skip (a failure in CI: `make test` installs both)."""
    if not os.path.exists(CHROMIUM):
        _need(f"{CHROMIUM} is missing; `apt-get install chromium` (make test does it as root).")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _need("Playwright for Python is missing; `pip install -e '.[dev]'`.")
    return CHROMIUM


@pytest.fixture
def browser(chromium, landing):
    """A headless Chromium for one test, started after `landing` wrote its rows.

    Playwright's sync API keeps an event loop running in this thread, and Django refuses ORM
    calls while one runs; so tests make their rows first and assert on the page only."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class _Site(http.server.ThreadingHTTPServer):
    daemon_threads = True
    pages: dict[str, str]
    slow_posts: int = 0


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Site

    def do_GET(self):
        page = self.server.pages.get(self.path.split("?")[0])
        body = (page or "not found").encode()
        self.send_response(200 if page else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        # `/slow`: a DNI API that answers, correctly, but only after 2.5 s.
        self.server.slow_posts += 1
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(2.5)
        body = json.dumps(_answer("00000000-0000-4000-8000-000000000001", "+13125550199"))
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format, *args):
        pass


@pytest.fixture
def site():
    """The advertiser's website, on its own origin."""
    server = _Site(("127.0.0.1", 0), _Handler)
    server.pages = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.origin = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def landing(live_server, site, settings):
    """The landing page's URL: an account allowing the site's origin, with a default pool of
    three numbers, and the page with its snippet tag (listing the business number)."""
    settings.PUBLIC_BASE_URL = ""
    cache.clear()  # rate limits
    config.clear()
    account = AccountFactory(allowed_origins=[site.origin])
    campaign = CampaignFactory(account=account, channel="direct")
    pool = PoolFactory(campaign=campaign, is_default=True)
    for e164 in POOL:
        PoolNumberFactory(pool=pool, e164=e164)
    snippet = f"{live_server.url}/dni/v1/{account.public_key}.js"
    site.pages["/"] = PAGE.format(
        snippet=snippet, attributes=' data-callpath-numbers="(212) 555-0100, 800-555-0199"'
    )
    site.pages["/any"] = PAGE.format(snippet=snippet, attributes="")
    return f"{site.origin}/"


@pytest.fixture
def context(browser):
    context = browser.new_context()
    yield context
    context.close()


def _answer(session_id: str, e164: str | None) -> dict:
    number = {"e164": e164, "display": _formats(e164)["paren"]} if e164 else None
    return {
        "session_id": session_id,
        "visitor_id": "visitor-from-test",
        "number": number,
        "campaign": None,
        "expires_at": "2099-01-01T00:00:00Z",
    }


def _formats(e164: str) -> dict[str, str]:
    area, exchange, line = e164[2:5], e164[5:8], e164[8:]
    return {
        "paren": f"({area}) {exchange}-{line}",
        "dashes": f"1-{area}-{exchange}-{line}",
        "dots": f"{area}.{exchange}.{line}",
        "tel": f"tel:+1{area}{exchange}{line}",
    }


def _tracking_number(page) -> dict:
    page.wait_for_function("() => window.Callpath && Callpath.number()", timeout=10_000)
    return page.evaluate("Callpath.number()")


def _texts(page) -> dict[str, str]:
    return {id_: page.inner_text(f"#{id_}") for id_ in ORIGINAL}


def test_the_page_shows_the_tracking_number_in_each_original_format_and_tel_link(context, landing):
    page = context.new_page()
    page.goto(landing)
    number = _tracking_number(page)

    assert number["e164"] in POOL
    shown = _formats(number["e164"])
    assert number["display"] == shown["paren"]
    assert _texts(page) == {
        "paren": f"Call {shown['paren']} today.",
        "dashes": f"Or {shown['dashes']}, 24/7.",
        "other": ORIGINAL["other"],  # not in data-callpath-numbers
        "ignored": ORIGINAL["ignored"],  # data-callpath-ignore
    }
    assert page.get_attribute("#tel", "href") == shown["tel"]


def test_without_a_number_list_every_formatted_us_number_is_replaced(context, landing):
    page = context.new_page()
    page.goto(landing + "any")
    shown = _formats(_tracking_number(page)["e164"])

    assert page.inner_text("#paren") == f"Call {shown['paren']} today."
    # A bare run of ten digits may be an order number: left alone without a list.
    assert page.inner_text("#other") == f"Order 2125550199, office {shown['dots']}."
    assert page.inner_text("#ignored") == ORIGINAL["ignored"]


def test_a_reload_renews_the_same_session_and_keeps_its_number(context, landing):
    page = context.new_page()
    page.goto(landing)
    first = _tracking_number(page)
    session_id = page.evaluate("Callpath.sessionId()")

    with page.expect_response(SESSIONS) as renewal:
        page.reload()
    assert renewal.value.status == 200
    assert json.loads(renewal.value.request.post_data)["session_id"] == session_id
    assert _tracking_number(page) == first
    assert page.evaluate("Callpath.sessionId()") == session_id
    assert page.inner_text("#paren") == f"Call {_formats(first['e164'])['paren']} today."


def test_two_visitors_get_two_different_numbers(browser, landing):
    numbers = []
    for _ in range(2):
        context = browser.new_context()
        page = context.new_page()
        page.goto(landing)
        numbers.append(_tracking_number(page)["e164"])
        context.close()
    assert numbers[0] != numbers[1]
    assert set(numbers) <= set(POOL)


def test_when_the_api_is_down_the_page_keeps_its_numbers(context, landing):
    page = context.new_page()
    page.route(SESSIONS, lambda route: route.abort())
    page.goto(landing)

    assert page.evaluate("Callpath.refresh()") is None
    assert page.evaluate("Callpath.sessionId()") is None
    assert _texts(page) == ORIGINAL
    assert page.get_attribute("#tel", "href") == "tel:+12125550100"


def test_a_session_outlives_a_failed_renewal_until_its_lease_ends(context, landing):
    page = context.new_page()
    page.clock.install()
    page.goto(landing)
    number = _tracking_number(page)
    page.route(SESSIONS, lambda route: route.abort())

    assert page.evaluate("Callpath.refresh()") == number  # the lease still runs: kept
    assert page.inner_text("#paren") == f"Call {_formats(number['e164'])['paren']} today."

    page.clock.fast_forward("31:00")  # past the pool's 30-minute idle timeout
    assert page.evaluate("Callpath.refresh()") is None
    assert _texts(page) == ORIGINAL
    assert page.get_attribute("#tel", "href") == "tel:+12125550100"


def test_an_api_slower_than_one_and_a_half_seconds_is_given_up(context, landing, site):
    page = context.new_page()
    page.route(SESSIONS, lambda route: route.continue_(url=f"{site.origin}/slow"))
    page.goto(landing)

    started = time.monotonic()
    assert page.evaluate("Callpath.refresh()") is None
    assert time.monotonic() - started < 2.4
    page.wait_for_timeout(2_000)  # past the moment the slow answer arrives
    assert site.slow_posts >= 1
    assert _texts(page) == ORIGINAL
    assert page.get_attribute("#tel", "href") == "tel:+12125550100"


def test_content_added_later_and_spa_navigation_are_handled(context, landing):
    page = context.new_page()
    page.goto(landing)
    shown = _formats(_tracking_number(page)["e164"])
    session_id = page.evaluate("Callpath.sessionId()")

    page.evaluate(
        "document.body.insertAdjacentHTML('beforeend', '<p id=late>Text 212.555.0100</p>')"
    )
    page.wait_for_function(
        f"document.getElementById('late').textContent.includes('{shown['dots']}')"
    )

    with page.expect_request(SESSIONS) as heartbeat:
        page.evaluate("history.pushState({}, '', '/pricing')")
    body = json.loads(heartbeat.value.post_data)
    assert body["session_id"] == session_id
    assert body["url"] == landing + "pricing"


def test_a_new_session_from_the_server_replaces_the_number_and_none_restores_the_page(
    context, landing, site
):
    page = context.new_page()
    page.goto(landing)
    _tracking_number(page)
    cors = {"Access-Control-Allow-Origin": site.origin}

    # The session expired: the server answers 201 with a new session and another number.
    new_session = "00000000-0000-4000-8000-0000000000aa"
    answer = json.dumps(_answer(new_session, "+13125550177"))
    page.route(SESSIONS, lambda route: route.fulfill(status=201, body=answer, headers=cors))
    assert page.evaluate("Callpath.refresh()")["e164"] == "+13125550177"
    assert page.evaluate("Callpath.sessionId()") == new_session
    assert page.inner_text("#dashes") == "Or 1-312-555-0177, 24/7."
    assert page.get_attribute("#tel", "href") == "tel:+13125550177"

    page.unroute(SESSIONS)
    no_number = json.dumps(_answer(new_session, None))
    page.route(SESSIONS, lambda route: route.fulfill(status=200, body=no_number, headers=cors))
    assert page.evaluate("Callpath.refresh()") is None
    assert _texts(page) == ORIGINAL
    assert page.get_attribute("#tel", "href") == "tel:+12125550100"


def test_the_visitor_id_is_stored_only_with_consent(browser, landing):
    consenting = browser.new_context()
    page = consenting.new_page()
    with page.expect_response(SESSIONS) as response:
        page.goto(landing)
    _tracking_number(page)
    visitor_id = response.value.json()["visitor_id"]
    assert page.evaluate("localStorage.getItem('callpath_vid')") == visitor_id
    with page.expect_request(SESSIONS) as again:
        page.reload()
    assert json.loads(again.value.post_data)["visitor_id"] == visitor_id
    consenting.close()

    refusing = browser.new_context()
    refusing.add_init_script("window.callpathConsent = false")
    page = refusing.new_page()
    with page.expect_request(SESSIONS) as request:
        page.goto(landing)
    _tracking_number(page)  # the number is still swapped
    assert "visitor_id" not in json.loads(request.value.post_data)
    assert page.evaluate("localStorage.getItem('callpath_vid')") is None
    assert page.evaluate("document.cookie") == ""
    refusing.close()


def test_heartbeats_run_every_minute_only_while_the_tab_is_visible(browser, landing):
    context = browser.new_context()
    page = context.new_page()
    page.clock.install()
    urls = []
    page.on("request", lambda request: urls.append(request.url))

    def posts() -> int:
        return sum(url.endswith("/dni/v1/sessions") for url in urls)

    page.goto(landing)
    _tracking_number(page)
    session_id = page.evaluate("Callpath.sessionId()")
    assert posts() == 1

    with page.expect_response(SESSIONS) as heartbeat:
        page.clock.run_for(60_000)
    assert heartbeat.value.status == 200
    assert json.loads(heartbeat.value.request.post_data)["session_id"] == session_id

    page.evaluate(SET_VISIBILITY, "hidden")
    page.clock.run_for(300_000)
    assert posts() == 2

    with page.expect_request(SESSIONS):
        page.evaluate(SET_VISIBILITY, "visible")  # at once, not a minute later
    assert posts() == 3
    context.close()
