"""The ROI dashboard in a real browser: headless Chromium (Debian's package) driven by
Playwright against pytest-django's live server, as the snippet's browser tests do.

A staff user logs into the admin, opens the dashboard for a range with known data under the
linear model (fractional credits), and every figure of the table is the API's for the same
range and model; the live panel picks up a call posted through the API while the page is
open; a screenshot lands in tests/artifacts/ (not committed).
"""

import datetime as dt
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from attribution.reports import rollups
from campaigns import services
from campaigns.models import Role
from tests.attribution import test_snippet_browser as snippet_browser
from tests.factories import (
    AccountFactory,
    CallFactory,
    CampaignFactory,
    CostFactory,
    KeywordFactory,
    OutcomeFactory,
    TouchpointFactory,
)

# The same Chromium, flags and loud skip (a failure in CI) as the snippet's browser tests.
chromium = snippet_browser.chromium

NY = ZoneInfo("America/New_York")
START, END = "2026-03-02", "2026-03-06"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
FIGURES = ["calls", "answered_calls", "unique_callers", "qualified_calls", "conversions",
           "revenue", "cost", "conversion_rate", "cost_per_call", "cost_per_answered_call",
           "cpa", "roi", "roas"]  # fmt: skip
PASSWORD = "correct horse battery staple"


def at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=NY)


# Linear shares as the credits store them (15 places, the last touch takes the remainder).
LINEAR = {
    1: [Decimal(1)],
    2: [Decimal("0.5"), Decimal("0.5")],
    3: [Decimal("0.333333333333333"), Decimal("0.333333333333333"), Decimal("0.333333333333334")],
}


def journey(account, day: int, hour: int, touches: list, **call):
    """A call whose journey went through `touches` (campaigns, first to last): each 1/n of it
    under linear, all of it to the last touch under the other models."""
    made = CallFactory(account=account, campaign=touches[-1], started_at=at(day, hour), **call)
    for position, campaign in enumerate(touches):
        last = Decimal(position == len(touches) - 1)
        TouchpointFactory(
            call=made, position=position, campaign=campaign, last_touch=last,
            first_touch=Decimal(position == 0), linear=LINEAR[len(touches)][position],
            time_decay=last, position_based=last, data_driven=last,
        )  # fmt: skip
    return made


@pytest.fixture
def dashboard(live_server, django_user_model):
    """A week of an account's calls, spend and deals, today's first calls, a staff user of
    the account, and API keys; the rollups brought up to date."""
    account = AccountFactory(name="Acme Plumbing", time_zone="America/New_York")
    search = CampaignFactory(account=account, name="Search — brand", channel="paid_search")
    social = CampaignFactory(account=account, name="Social retargeting", channel="paid_social")
    mail = CampaignFactory(account=account, name="Spring newsletter", channel="email")
    display = CampaignFactory(account=account, name="Display prospecting", channel="display")
    KeywordFactory(campaign=search, text="emergency plumber")
    for day, amount in [(2, "120.00"), (3, "80.50"), (4, "99.99"), (5, "60.00"), (6, "45.25")]:
        CostFactory(campaign=search, date=dt.date(2026, 3, day), amount=Decimal(amount))
        CostFactory(campaign=social, date=dt.date(2026, 3, day), amount=Decimal("33.33"))
    CostFactory(campaign=display, date=dt.date(2026, 3, 4), amount=Decimal("250.00"))
    deals = [("900.00", [search]), ("450.00", [social, search]),
             ("1200.00", [mail, social, search]), ("75.50", [mail]),
             ("310.00", [social])]  # fmt: skip
    for n, (value, touches) in enumerate(deals):
        call = journey(account, 2 + n, 9 + n, touches, caller_e164=f"+1415555{1000 + n}")
        OutcomeFactory(account=account, call=call, stage="won", value=Decimal(value),
                       currency="USD")  # fmt: skip
    for n in range(6):
        journey(account, 2 + n % 5, 14 + n, [search], status="missed",
                caller_e164=f"+1415555{2000 + n}")  # fmt: skip
    CallFactory(account=account, started_at=at(4, 16), caller_e164="+14155553000")
    for _ in range(2):
        CallFactory(account=account, campaign=search, started_at=timezone.now())
    rollups.rebuild_account(account=account)

    user = django_user_model.objects.create_user("maria", password=PASSWORD, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_call", "view_outcome", "view_campaign"])
    )
    services.add_member(account=account, user=user)
    _, reporting = services.issue_api_key(account=account, role=Role.REPORTING)
    _, integration = services.issue_api_key(account=account, role=Role.INTEGRATION)
    return {"account": account, "url": live_server.url, "reporting": reporting,
            "integration": integration, "search": search.pk}  # fmt: skip


@pytest.fixture
def page(chromium, dashboard):
    """A logged-in admin page; started after `dashboard` wrote its rows (Playwright's event
    loop in this thread makes Django refuse ORM calls)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=snippet_browser.CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.goto(f"{dashboard['url']}/admin/login/?next=/admin/")
        page.fill("#id_username", "maria")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/")
        yield page
        context.close()
        browser.close()


def page_table(page) -> dict[str, list[str]]:
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#roi-table tr[data-row]')]
            .map(tr => [tr.dataset.row, [...tr.querySelectorAll('th, td')]
                .map(cell => cell.innerText.trim())]))"""
    )


def api_table(answer: dict) -> dict[str, list[str]]:
    """The API's answer as the page shows it: every figure's string, "—" for null."""

    def cells(name: str, figures: dict) -> list[str]:
        return [name, *("—" if figures[f] is None else str(figures[f]) for f in FIGURES)]

    rows = {
        "unattributed" if row["campaign"] is None else str(row["campaign"]): cells(
            row["campaign_name"], row
        )
        for row in answer["rows"]
    }
    rows["total"] = cells("Total", answer["totals"])
    return rows


def test_the_dashboard_shows_the_apis_figures_and_a_live_panel_that_refreshes(page, dashboard):
    account = dashboard["account"]
    page.click("#content-main >> text=ROI by campaign")  # the index's link
    page.wait_for_url("**/admin/attribution/roi/")
    page.fill("input[name=start]", START)
    page.fill("input[name=end]", END)
    page.select_option("select[name=model]", "linear")
    page.click("input[type=submit][value=Apply]")
    page.wait_for_url("**model=linear**")

    api = page.request.get(
        f"{dashboard['url']}/api/v1/reports/roi/?start={START}&end={END}&model=linear",
        headers={"Authorization": f"Bearer {dashboard['reporting']}"},
    )
    assert api.ok
    answer = api.json()
    assert answer["model"] == "linear"
    shown = page_table(page)
    assert shown == api_table(answer)
    assert len(shown) == 6  # four campaigns, Unattributed, Total
    assert shown["total"][1] == "12.0000"  # every call of the range, credits summing to 1
    assert answer["account"] == account.pk
    assert page.locator("svg.roi-chart").count() == 4

    # The live panel: two calls so far today; a third arrives through the API.
    panel = page.locator("#live-today")
    assert page.inner_text("[data-live=calls]") == "2"
    panel.evaluate("panel => { panel.dataset.interval = '500'; }")
    posted = page.request.post(
        f"{dashboard['url']}/api/v1/calls/",
        headers={"Authorization": f"Bearer {dashboard['integration']}"},
        data={
            "provider": "twilio",
            "external_id": "CA-live-panel",
            "tracking_number": "+12125550100",
            "caller_number": "+14155559999",
            "started_at": timezone.now().isoformat(),
            "duration_seconds": 60,
            "status": "answered",
        },
    )
    assert posted.status == 201, posted.text()
    page.wait_for_function(
        "() => document.querySelector('[data-live=calls]').innerText === '3'", timeout=10_000
    )
    assert int(panel.get_attribute("data-updates")) >= 1
    assert panel.get_attribute("data-error") is None
    assert page.inner_text("[data-live=answered]") == "3"

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    # Drill down: the campaign's keywords, its total as the campaign row has it.
    page.click("#roi-table >> text=Search — brand")
    page.wait_for_selector("#keyword-table")
    total = page.evaluate(
        """() => [...document.querySelectorAll('#keyword-table tr[data-row=total] th, '
                + '#keyword-table tr[data-row=total] td')].map(cell => cell.innerText.trim())"""
    )
    assert total == ["Campaign", *shown[str(dashboard["search"])][1:]]
    assert page.locator("#credited-calls tbody tr").count() == 9
    page.screenshot(path=str(ARTIFACTS / "dashboard-campaign.png"), full_page=True)
