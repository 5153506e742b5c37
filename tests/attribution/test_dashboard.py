"""The ROI dashboard in the admin: its figures are the report selectors' (rounded as shown),
its links open the records behind them, its exports are the API's files, and a staff user
reads only their own account's figures through every one of its views."""

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from attribution.dashboard import charts, tables
from attribution.models import Outcome
from attribution.reports import selectors
from campaigns import services
from campaigns.models import Role
from tests.factories import (
    AccountFactory,
    CallFactory,
    CampaignFactory,
    CostFactory,
    KeywordFactory,
    OutcomeFactory,
    TouchpointFactory,
)

NY = ZoneInfo("America/New_York")
START, END = dt.date(2026, 3, 2), dt.date(2026, 3, 4)
RANGE = {"start": "2026-03-02", "end": "2026-03-04"}
FROZEN = dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC)
ROI = reverse("admin:attribution_roi")
LIVE = reverse("admin:attribution_roi_live")
EXPORT = reverse("admin:attribution_roi_export")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=NY)


@pytest.fixture
def shop(account):
    """Hand-computed under last touch (America/New_York days, 2026-03-02 … 03-04):

    Alpha: cost 100 + 50; a won call (300.00) and a missed one, two callers; a spam call.
    Beta: no spend; one answered call, qualified. Gamma: 20.00 of spend, no calls.
    Unattributed: one answered call. A call on 03-05 00:30 local is outside the range."""
    account.time_zone = "America/New_York"
    account.save()
    alpha = CampaignFactory(account=account, name="Alpha", channel="paid_search")
    beta = CampaignFactory(account=account, name="Beta", channel="email")
    gamma = CampaignFactory(account=account, name="Gamma", channel="display")
    brand = KeywordFactory(campaign=alpha, text="brand plumber")
    CostFactory(campaign=alpha, date=START, amount=Decimal("100.00"))
    CostFactory(campaign=alpha, date=START + dt.timedelta(days=1), amount=Decimal("50.00"))
    CostFactory(campaign=gamma, date=END, amount=Decimal("20.00"))
    won = CallFactory(
        account=account, campaign=alpha, keyword=brand, started_at=at(2, 10),
        caller_e164="+14155550101",
    )  # fmt: skip
    missed = CallFactory(
        account=account, campaign=alpha, started_at=at(3, 23, 30), status="missed",
        caller_e164="+14155550102",
    )  # fmt: skip
    spam = CallFactory(
        account=account, campaign=alpha, started_at=at(3, 12), spam=True,
        caller_e164="+14155550109",
    )  # fmt: skip
    qualified = CallFactory(
        account=account, campaign=beta, started_at=at(4, 9), caller_e164="+14155550101"
    )
    walk_in = CallFactory(account=account, started_at=at(4, 15), caller_e164="+14155550103")
    outside = CallFactory(account=account, campaign=alpha, started_at=at(5, 0, 30))
    OutcomeFactory(account=account, call=won, stage="won", value=Decimal("300.00"), currency="USD")
    OutcomeFactory(account=account, call=qualified, stage="qualified")
    return {
        "alpha": alpha, "beta": beta, "gamma": gamma, "brand": brand, "won": won,
        "missed": missed, "spam": spam, "qualified": qualified, "walk_in": walk_in,
        "outside": outside,
    }  # fmt: skip


def member(django_user_model, name: str, *accounts, perms=("view_call", "view_outcome")):
    user = django_user_model.objects.create_user(name, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=perms))
    for account in accounts:
        services.add_member(account=account, user=user)
    return user


@pytest.fixture
def staff_client(client, django_user_model, account):
    client.force_login(member(django_user_model, "carol", account))
    return client


def table(html: str, table_id: str = "roi-table") -> dict[str, list[str]]:
    """{row key: [name, every figure's text]} of a dashboard table."""
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = {}
    for key, row in re.findall(r'<tr data-row="([^"]+)">(.*?)</tr>', body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows[key] = [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]
    return rows


ALPHA = ["Alpha", "2.0000", "1.0000", "2", "1.0000", "1.0000", "300.00", "150.00",
         "0.5000", "75.00", "150.00", "150.00", "1.0000", "2.0000"]  # fmt: skip
BETA = ["Beta", "1.0000", "1.0000", "1", "1.0000", "0.0000", "0.00", "0.00",
        "0.0000", "0.00", "0.00", "—", "—", "—"]  # fmt: skip
GAMMA = ["Gamma", "0.0000", "0.0000", "0", "0.0000", "0.0000", "0.00", "20.00",
         "—", "—", "—", "—", "-1.0000", "0.0000"]  # fmt: skip
UNATTRIBUTED = ["Unattributed", "1.0000", "1.0000", "1", "0.0000", "0.0000", "0.00", "0.00",
                "0.0000", "0.00", "0.00", "—", "—", "—"]  # fmt: skip
TOTAL = ["Total", "4.0000", "3.0000", "3", "2.0000", "1.0000", "300.00", "170.00",
         "0.2500", "42.50", "56.67", "170.00", "0.7647", "1.7647"]  # fmt: skip


def test_the_page_shows_every_figure_of_each_campaign_rounded_with_a_dash_for_null(
    staff_client, shop
):
    response = staff_client.get(ROI, RANGE)

    assert response.status_code == 200
    rows = table(response.content.decode())
    assert rows == {
        str(shop["alpha"].pk): ALPHA,
        str(shop["beta"].pk): BETA,
        str(shop["gamma"].pk): GAMMA,
        "unattributed": UNATTRIBUTED,
        "total": TOTAL,
    }
    # Most revenue first, then by name.
    assert list(rows) == [str(shop[n].pk) for n in ("alpha", "beta", "gamma")] + [
        "unattributed",
        "total",
    ]


def test_the_page_shows_what_the_roi_selector_answers_under_each_model(staff_client, account, shop):
    # A journey Alpha → Beta: Beta gets the call under last touch, each half under linear.
    journey = CallFactory(account=account, campaign=shop["beta"], started_at=at(4, 11))
    TouchpointFactory(
        call=journey, position=0, campaign=shop["alpha"], last_touch=0, first_touch=1,
        linear=Decimal("0.5"), time_decay=Decimal("0.4"), position_based=Decimal("0.5"),
        data_driven=Decimal("0.25"),
    )  # fmt: skip
    TouchpointFactory(
        call=journey, position=1, campaign=shop["beta"], last_touch=1, first_touch=0,
        linear=Decimal("0.5"), time_decay=Decimal("0.6"), position_based=Decimal("0.5"),
        data_driven=Decimal("0.75"),
    )  # fmt: skip
    for model in ("last_touch", "linear", "position_based", "time_decay", "data_driven"):
        html = staff_client.get(ROI, {**RANGE, "model": model}).content.decode()
        report = selectors.roi(account=account, start=START, end=END, model=model)
        expected = {
            key_of(row.group["campaign"]): [
                row.group["campaign_name"],
                *(tables.text(row.shown()[name]) for name in tables.FIGURES),
            ]
            for row in report.rows
        }
        totals = report.totals.shown()
        expected["total"] = ["Total", *(tables.text(totals[name]) for name in tables.FIGURES)]
        assert table(html) == expected, model
    linear = table(staff_client.get(ROI, {**RANGE, "model": "linear"}).content.decode())
    assert linear[str(shop["alpha"].pk)][1] == "2.5000"
    assert linear[str(shop["beta"].pk)][1] == "1.5000"


def key_of(campaign: int | None) -> str:
    return "unattributed" if campaign is None else str(campaign)


def test_a_heading_sorts_the_rows_with_nulls_last_either_way(staff_client, shop):
    ids = {str(shop[name].pk): name for name in ("alpha", "beta", "gamma")}
    ids["unattributed"] = "none"

    def order(sort: str) -> list[str]:
        html = staff_client.get(ROI, {**RANGE, "o": sort}).content.decode()
        return [ids[key] for key in table(html) if key != "total"]

    assert order("roi") == ["gamma", "alpha", "beta", "none"]
    assert order("-roi") == ["alpha", "gamma", "beta", "none"]
    assert order("name") == ["alpha", "beta", "gamma", "none"]
    assert order("-cost") == ["alpha", "gamma", "beta", "none"]
    html = staff_client.get(ROI, {**RANGE, "o": "-roi"}).content.decode()
    assert 'aria-sort="descending"' in html
    assert "o=roi" in html  # the current column's link sorts the other way


def test_the_calls_link_lists_the_campaigns_non_spam_calls_of_the_ranges_local_days(
    staff_client, shop
):
    html = staff_client.get(ROI, RANGE).content.decode()
    row = html.split(f'data-row="{shop["alpha"].pk}"', 1)[1].split("</tr>", 1)[0]
    calls_link, answered_link = re.findall(r'href="([^"]*/calls/call/[^"]*)"', row)[:2]

    calls = staff_client.get(calls_link.replace("&amp;", "&"))
    answered = staff_client.get(answered_link.replace("&amp;", "&"))

    assert calls.status_code == 200
    assert {c.pk for c in calls.context["cl"].result_list} == {
        shop["won"].pk,
        shop["missed"].pk,
    }
    assert [c.pk for c in answered.context["cl"].result_list] == [shop["won"].pk]


def test_a_campaign_opens_its_keywords_and_the_calls_and_outcomes_behind_it(staff_client, shop):
    page = reverse("admin:attribution_roi_campaign", args=[shop["alpha"].pk])

    response = staff_client.get(page, RANGE)

    assert response.status_code == 200
    html = response.content.decode()
    assert table(html, "keyword-table") == {
        "none": ["(no keyword)", "1.0000", "0.0000", "1", "0.0000", "0.0000", "0.00", "150.00",
                 "0.0000", "150.00", "—", "—", "-1.0000", "0.0000"],
        str(shop["brand"].pk): ["brand plumber", "1.0000", "1.0000", "1", "1.0000", "1.0000",
                                "300.00", "0.00", "1.0000", "0.00", "0.00", "0.00", "—", "—"],
        "total": ["Campaign", *ALPHA[1:]],
    }  # fmt: skip
    listed = [call.pk for call in response.context["calls"]]
    assert listed == [shop["missed"].pk, shop["won"].pk]
    outcome = Outcome.objects.get(call=shop["won"])
    assert reverse("admin:attribution_outcome_change", args=[outcome.pk]) in html
    assert reverse("admin:calls_call_change", args=[shop["won"].pk]) in html
    assert "Started (America/New_York)" in html
    assert "2026-03-02 10:00</a>" in html  # the account's time, not UTC's 15:00


def test_the_unattributed_page_lists_the_calls_of_no_campaign(staff_client, shop):
    response = staff_client.get(reverse("admin:attribution_roi_unattributed"), RANGE)

    assert response.status_code == 200
    assert [call.pk for call in response.context["calls"]] == [shop["walk_in"].pk]
    assert table(response.content.decode(), "keyword-table") == {"total": UNATTRIBUTED}


def test_the_index_links_the_dashboard_under_attribution(staff_client):
    html = staff_client.get(reverse("admin:index")).content.decode()

    attribution = html.split('class="app-attribution', 1)[1].split("</table>", 1)[0]
    assert f'<a href="{ROI}">ROI by campaign</a>' in attribution


def test_staff_without_the_view_permissions_get_no_link_and_a_403(
    client, django_user_model, account, shop
):
    client.force_login(member(django_user_model, "dan", account, perms=("view_call",)))

    assert ROI not in client.get(reverse("admin:index")).content.decode()
    assert client.get(ROI, RANGE).status_code == 403
    assert client.get(LIVE).status_code == 403
    assert client.get(EXPORT, {**RANGE, "format": "csv"}).status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(ROI)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.fixture
def theirs(other_account):
    campaign = CampaignFactory(account=other_account, name="Secret Roofing Push")
    CostFactory(campaign=campaign, date=START, amount=Decimal("999.00"))
    CallFactory(account=other_account, campaign=campaign, started_at=at(2, 12))
    return campaign


def test_staff_of_one_account_cannot_read_anothers_figures_through_any_view(
    staff_client, shop, other_account, theirs
):
    other = {**RANGE, "account": other_account.pk}

    page = staff_client.get(ROI, other)
    keywords = staff_client.get(reverse("admin:attribution_roi_campaign", args=[theirs.pk]), other)
    through_mine = staff_client.get(
        reverse("admin:attribution_roi_campaign", args=[theirs.pk]), RANGE
    )
    unattributed = staff_client.get(reverse("admin:attribution_roi_unattributed"), other)
    live = staff_client.get(LIVE, {"account": other_account.pk})
    csv = staff_client.get(EXPORT, {**other, "format": "csv"})
    xlsx = staff_client.get(EXPORT, {**other, "format": "xlsx"})

    for response in (page, keywords, unattributed):
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
    assert through_mine.status_code == 404
    assert live.status_code == 400
    assert live.json()["errors"]["account"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert (csv.status_code, xlsx.status_code) == (400, 400)
    for response in (page, keywords, through_mine, unattributed, live, csv, xlsx):
        body = response.content.decode()
        assert "Secret Roofing Push" not in body
        assert "999.00" not in body
        assert "Bob Roofing" not in body
    # The picker offers only their own account.
    assert "Bob Roofing" not in staff_client.get(ROI).content.decode()


def test_a_member_of_two_accounts_picks_one_and_sees_the_first_by_name_by_default(
    client, django_user_model, account, other_account, shop, theirs
):
    client.force_login(member(django_user_model, "erin", account, other_account))

    default = client.get(ROI, RANGE)
    picked = client.get(ROI, {**RANGE, "account": other_account.pk})

    assert default.context["filters"].account == account  # "Alice Plumbing" < "Bob Roofing"
    assert '<select name="account"' in default.content.decode()
    assert list(table(picked.content.decode())) == [str(theirs.pk), "total"]


def test_a_superuser_picks_any_account(admin_client, other_account, theirs):
    response = admin_client.get(ROI, {**RANGE, "account": other_account.pk})

    assert response.status_code == 200
    assert table(response.content.decode())[str(theirs.pk)][7] == "999.00"


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"start": "yesterday"}, "start", "Enter a valid date."),
        ({"end": "2026-02-30"}, "end", "Enter a valid date."),
        ({"start": "2026-03-04", "end": "2026-03-02"}, "end", "end (2026-03-02) is before start"),
        ({"start": "2024-01-01", "end": "2026-03-02"}, "end", "a report covers at most 2 years"),
        ({"model": "u_shaped"}, "model", "Select a valid choice."),
        ({"o": "-profit"}, "o", "Select a valid choice."),
        ({"account": "abc"}, "account", "Select a valid choice."),
    ],
)
def test_bad_parameters_are_a_form_error_not_a_500(staff_client, shop, params, field, message):
    page = staff_client.get(ROI, params)
    live = staff_client.get(LIVE, params)
    export = staff_client.get(EXPORT, {**params, "format": "csv"})

    assert page.status_code == 200
    assert message in page.content.decode()
    assert f'data-field="{field}"' in page.content.decode()
    assert 'id="roi-table"' not in page.content.decode()
    assert live.status_code == 400
    assert field in live.json()["errors"]
    assert export.status_code == 400
    assert message in export.content.decode()


def test_an_export_with_an_unknown_format_or_grouping_is_a_form_error(staff_client, shop):
    assert staff_client.get(EXPORT, {**RANGE, "format": "pdf"}).status_code == 400
    response = staff_client.get(EXPORT, {**RANGE, "format": "csv", "group_by": "keyword"})
    assert response.status_code == 400
    assert 'data-field="group_by"' in response.content.decode()


@pytest.fixture
def frozen_freshness(monkeypatch):
    """The stamp's data freshness is "now" when nothing waits: one instant for both files."""
    monkeypatch.setattr(selectors, "data_freshness", lambda **_: FROZEN)


STAMP = ("X-Report-Account", "X-Report-Currency", "X-Report-Time-Zone", "X-Report-Range",
         "X-Report-Model", "X-Report-Data-Freshness", "Content-Type",
         "Content-Disposition")  # fmt: skip


@pytest.mark.parametrize("group_by", ["campaign", "day", "month"])
@pytest.mark.parametrize("model", ["last_touch", "linear"])
def test_the_csv_export_is_the_apis_file_for_the_same_filters(
    staff_client, api_for, account, shop, frozen_freshness, group_by, model
):
    params = {**RANGE, "model": model, "group_by": group_by, "format": "csv"}

    mine = staff_client.get(EXPORT, {**params, "account": account.pk})
    api = api_for(account, Role.FINANCE).get("/api/v1/reports/cost-per-call/", params)

    assert (mine.status_code, api.status_code) == (200, 200)
    assert mine.content == api.content
    assert {h: mine[h] for h in STAMP} == {h: api[h] for h in STAMP}


def test_the_csv_export_holds_the_hand_computed_figures(staff_client, shop):
    response = staff_client.get(EXPORT, {**RANGE, "format": "csv"})

    assert response.content.decode().splitlines() == [
        "period,campaign,channel,cost,calls,answered_calls,cost_per_call,"
        "cost_per_answered_call,conversions,revenue,cpa,roi",
        "2026-03-02/2026-03-04,Alpha,paid_search,150.00,2.0000,1.0000,75.00,150.00,1.0000,"
        "300.00,150.00,1.0000",
        "2026-03-02/2026-03-04,Beta,email,0.00,1.0000,1.0000,0.00,0.00,0.0000,0.00,,",
        "2026-03-02/2026-03-04,Gamma,display,20.00,0.0000,0.0000,,,0.0000,0.00,,-1.0000",
        "2026-03-02/2026-03-04,Unattributed,,0.00,1.0000,1.0000,0.00,0.00,0.0000,0.00,,",
        "Total,,,170.00,4.0000,3.0000,42.50,56.67,1.0000,300.00,170.00,0.7647",
    ]


def test_the_xlsx_export_is_the_apis_file_but_for_its_creation_time(
    staff_client, api_for, account, shop, frozen_freshness
):
    params = {**RANGE, "model": "linear", "group_by": "day", "format": "xlsx"}

    mine = staff_client.get(EXPORT, params)
    api = api_for(account, Role.FINANCE).get("/api/v1/reports/cost-per-call/", params)

    assert (mine.status_code, api.status_code) == (200, 200)
    assert {h: mine[h] for h in STAMP} == {h: api[h] for h in STAMP}
    # openpyxl stamps the time of writing in docProps/core.xml and in each zip entry's header.
    assert members(mine.content) == members(api.content)
    assert "xl/worksheets/sheet1.xml" in members(mine.content)


def members(xlsx: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        return {
            name: archive.read(name) for name in archive.namelist() if name != "docProps/core.xml"
        }


def test_the_live_json_counts_today_so_far_in_the_accounts_time_zone(
    staff_client, account, monkeypatch
):
    account.time_zone = "America/New_York"
    account.save()
    now = dt.datetime(2026, 3, 5, 3, 30, tzinfo=dt.UTC)  # 22:30 on the 4th in New York
    monkeypatch.setattr(timezone, "now", lambda: now)
    campaign = CampaignFactory(account=account)
    today = CallFactory(account=account, campaign=campaign, started_at=at(4, 0, 10))
    CallFactory(account=account, started_at=at(4, 21), status="missed")
    CallFactory(account=account, started_at=at(4, 20), spam=True)
    CallFactory(account=account, started_at=at(3, 23, 59))  # yesterday, local
    OutcomeFactory(account=account, call=today, stage="won", value=Decimal("80.5"), currency="USD")

    response = staff_client.get(LIVE)

    assert response.status_code == 200
    assert response.json() == {
        "account": account.pk,
        "day": "2026-03-04",
        "calls": 2,
        "answered": 1,
        "conversions": 1,
        "revenue": "80.50",
        "as_of": "2026-03-05T03:30:00Z",
    }


def test_the_page_draws_the_four_charts_from_the_selectors(staff_client, shop):
    response = staff_client.get(ROI, RANGE)
    html = response.content.decode()
    charts = response.context["charts"]

    assert html.count('<svg class="roi-chart') == 4
    assert charts["period"] == "day"
    money = {series.css: [p.title for p in series.points] for series in charts["money"].series}
    assert money == {
        "cost": ["2026-03-02 Cost: 100.00", "2026-03-03 Cost: 50.00", "2026-03-04 Cost: 20.00"],
        "revenue": [
            "2026-03-02 Revenue: 300.00",
            "2026-03-03 Revenue: 0.00",
            "2026-03-04 Revenue: 0.00",
        ],
    }
    assert [(bar.label, bar.text) for bar in charts["roi"].bars] == [
        ("Alpha", "1.0000"),
        ("Gamma", "-1.0000"),
        ("Beta", "—"),
        ("Unattributed", "—"),
    ]
    assert [(bar.label, bar.text) for bar in charts["channels"].bars] == [
        ("Display", "0.0000"),
        ("Email", "1.0000"),
        ("Paid search", "2.0000"),
        ("Unattributed", "1.0000"),
    ]
    assert len(charts["heat"].cells) == 168
    monday_10 = charts["heat"].cells[10]
    assert monday_10.shade == 1.0
    assert monday_10.title == "Mon 10:00: 1 calls, 1 conversions, conversion rate 1.0000"
    assert 'src="/static/attribution/live.js"' in html
    assert 'href="/static/attribution/roi.css"' in html


def test_the_page_shows_the_live_panel_with_todays_figures(staff_client, account):
    CallFactory(account=account)

    html = staff_client.get(ROI).content.decode()

    panel = html.split('id="live-today"', 1)[1].split("</section>", 1)[0]
    assert f'data-live-url="{LIVE}?account={account.pk}&amp;' in panel
    assert 'data-interval="30000"' in panel
    assert '<dd data-live="calls">1</dd>' in panel


def test_the_dashboard_defaults_to_the_last_30_days_to_today_in_the_accounts_time_zone(
    staff_client, account, monkeypatch
):
    account.time_zone = "Pacific/Auckland"
    account.save()
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 3, 5, 12, tzinfo=dt.UTC))

    filters = staff_client.get(ROI).context["filters"]

    assert (filters.start, filters.end, filters.model) == (
        dt.date(2026, 2, 5),
        dt.date(2026, 3, 6),  # already the 6th in Auckland
        "last_touch",
    )


def test_the_page_reads_a_few_queries_however_many_calls(
    staff_client, account, shop, django_assert_max_num_queries
):
    for hour in range(9, 17):
        CallFactory(account=account, campaign=shop["beta"], started_at=at(3, hour))
    staff_client.get(ROI, RANGE)  # rolls the new day up

    with django_assert_max_num_queries(30):
        assert staff_client.get(ROI, RANGE).status_code == 200
    with django_assert_max_num_queries(24):
        campaign = reverse("admin:attribution_roi_campaign", args=[shop["beta"].pk])
        assert staff_client.get(campaign, RANGE).status_code == 200


def test_a_campaign_of_another_account_is_404_for_a_superuser_on_this_one(
    admin_client, account, theirs
):
    url = reverse("admin:attribution_roi_campaign", args=[theirs.pk])

    assert admin_client.get(url, {**RANGE, "account": account.pk}).status_code == 404


def test_an_account_without_calls_or_spend_shows_an_empty_table(staff_client):
    html = staff_client.get(ROI, RANGE).content.decode()

    assert "No calls and no spend in this range." in html
    assert table(html)["total"] == ["Total", "0.0000", "0.0000", "0", "0.0000", "0.0000",
                                    "0.00", "0.00", "—", "—", "—", "—", "—", "—"]  # fmt: skip


def test_a_staff_user_of_no_account_is_told_so(client, django_user_model):
    client.force_login(member(django_user_model, "frank"))

    response = client.get(ROI)

    assert response.status_code == 200
    assert "You are not a member of any account." in response.content.decode()
    assert client.get(LIVE).status_code == 400


def test_a_second_account_is_left_out_of_a_superusers_default(admin_client, account):
    AccountFactory(name="Zed Zinc")

    assert admin_client.get(ROI).context["filters"].account == account


def test_bars_run_right_of_the_zero_axis_for_gains_and_left_for_losses():
    chart = charts.bars(
        [("Win", Decimal(3), "3.0000", ""), ("Loss", Decimal(-1), "-1.0000", ""),
         ("No cost", None, "—", "")]
    )  # fmt: skip

    win, loss, none = chart.bars
    plot = charts.WIDTH - charts.LABEL_WIDTH - charts.VALUE_WIDTH
    assert chart.zero_x == round(charts.LABEL_WIDTH + plot / 4, 1)
    assert (win.x, win.width, win.negative) == (chart.zero_x, round(plot * 3 / 4, 1), False)
    assert (loss.x + loss.width, loss.negative) == (chart.zero_x, True)
    assert loss.x == charts.LABEL_WIDTH
    assert (none.width, none.text) == (0, "—")


def test_all_zero_bars_draw_an_axis_and_no_bar():
    chart = charts.bars([("A", Decimal(0), "0.0000", "")])

    assert chart.zero_x == charts.LABEL_WIDTH
    assert chart.bars[0].width == 0


@pytest.mark.parametrize(
    ("highest", "scale"),
    [(0, (1.0, 4.0)), (7, (2.0, 8.0)), (1525, (500.0, 2000.0)), (1000, (250.0, 1000.0)),
     (0.3, (0.1, 0.30000000000000004))],
)  # fmt: skip
def test_the_y_axis_ends_at_a_round_step_above_the_highest_value(highest, scale):
    assert charts.nice_scale(highest) == scale


def test_a_line_chart_puts_a_single_period_in_the_middle_and_zero_at_the_bottom():
    chart = charts.lines(["2026-03-02"], [("Cost", "cost", [(Decimal(0), "0.00")])])

    [point] = chart.series[0].points
    assert point.y == chart.bottom
    assert point.x == round(charts.LINE_LEFT + (charts.WIDTH - charts.LINE_LEFT - 10) / 2, 1)
    assert point.title == "2026-03-02 Cost: 0.00"
