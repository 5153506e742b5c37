"""The report endpoints: who may read them, bad parameters, and the finance export in JSON, CSV
and XLSX, parsed back and compared with each other."""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from campaigns.models import Role
from tests.attribution.report_helpers import build_world

ROI = "/api/v1/reports/roi/"
COST = "/api/v1/reports/cost-per-call/"
KPIS = "/api/v1/reports/call-kpis/"
RANGE = "start=2026-03-02&end=2026-03-04"
HEADER = (
    "period,campaign,channel,cost,calls,answered_calls,cost_per_call,cost_per_answered_call,"
    "conversions,revenue,cpa,roi"
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def world(account):
    return build_world(account)


@pytest.fixture
def finance(api_for, account):
    return api_for(account, Role.FINANCE)


@pytest.mark.parametrize("path", [ROI, COST, KPIS])
@pytest.mark.parametrize("role", [Role.FINANCE, Role.REPORTING, Role.ADMIN])
def test_finance_reporting_and_admin_keys_read_reports(api_for, account, path, role):
    assert api_for(account, role).get(f"{path}?{RANGE}").status_code == 200


@pytest.mark.parametrize("path", [ROI, COST, KPIS])
def test_an_integration_key_may_not_read_reports(api_for, account, path):
    response = api_for(account, Role.INTEGRATION).get(f"{path}?{RANGE}")
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "A 'integration' key may not GET here; "
        "this needs one of: finance, reporting, admin.",
        "errors": {},
    }


def test_reports_need_a_key(client):
    response = client.get(f"{ROI}?{RANGE}")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("start=2026-03-02", "end", "This field is required."),
        ("start=2026-02-30&end=2026-03-04", "start", "Date has wrong format."),
        ("start=2026-03-04&end=2026-03-02", "end", "end (2026-03-02) is before start"),
        ("start=2024-01-01&end=2026-01-01", "end", "a report covers at most 2 years"),
        (f"{RANGE}&group_by=region", "group_by", '"region" is not a valid choice.'),
        (f"{RANGE}&model=u_shaped", "model", '"u_shaped" is not a valid choice.'),
    ],
)
def test_bad_parameters_are_a_400_in_the_one_error_shape(finance, query, field, message):
    response = finance.get(f"{ROI}?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert message in body["errors"][field][0]
    assert body["message"].startswith(f"{field}: ")


def test_the_export_takes_only_campaign_day_or_month_and_its_own_formats(finance):
    response = finance.get(f"{COST}?{RANGE}&group_by=week")
    assert response.status_code == 400
    assert response.json()["errors"] == {"group_by": ['"week" is not a valid choice.']}
    response = finance.get(f"{COST}?{RANGE}&format=pdf")
    assert response.json()["errors"] == {"format": ['"pdf" is not a valid choice.']}


def test_an_export_error_is_json_even_when_csv_was_asked_for(finance):
    response = finance.get(f"{COST}?start=2026-03-04&end=2026-03-02&format=csv")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"]["end"]


def test_roi_answers_the_contracts_fields_with_decimals_as_strings(finance, world):
    body = finance.get(f"{ROI}?{RANGE}&model=linear").json()
    assert {"currency", "model", "rows", "totals"} <= set(body)
    assert body["model"] == "linear"
    search = next(row for row in body["rows"] if row["campaign_name"] == "Search")
    assert search == {
        "campaign": world.search.pk,
        "campaign_name": "Search",
        "calls": "1.6667",
        "answered_calls": "1.6667",
        "unique_callers": 2,
        "qualified_calls": "1.6667",
        "conversions": "1.6667",
        "revenue": "433.33",
        "cost": "200.00",
        "conversion_rate": "1.0000",
        "cost_per_call": "120.00",
        "cost_per_answered_call": "120.00",
        "cpa": "120.00",
        "roi": "1.1667",
        "roas": "2.1667",
    }
    assert body["rows"][-1]["campaign"] is None
    assert body["rows"][-1]["campaign_name"] == "Unattributed"


def test_roi_rows_show_only_their_groups_fields(finance, world):
    row = finance.get(f"{ROI}?{RANGE}&group_by=week").json()["rows"][0]
    assert list(row)[:2] == ["period", "calls"]
    assert row["period"] == "2026-03-02"
    row = finance.get(f"{ROI}?{RANGE}&group_by=keyword").json()["rows"][2]
    assert list(row)[:4] == ["keyword", "keyword_text", "campaign", "campaign_name"]


def stamp(response) -> dict:
    return {name: response[name] for name in response.headers if name.startswith("X-Report-")}


def test_every_answer_is_stamped_with_what_it_covers(finance, account, world):
    response = finance.get(f"{COST}?{RANGE}&model=position_based")
    assert stamp(response) == {
        "X-Report-Account": str(account.pk),
        "X-Report-Currency": "USD",
        "X-Report-Time-Zone": "America/New_York",
        "X-Report-Range": "2026-03-02/2026-03-04",
        "X-Report-Model": "position_based",
        "X-Report-Data-Freshness": response.json()["data_freshness"][:19] + "Z",
    }


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("group_by", ["campaign", "day", "month"])
def test_the_csv_is_the_json_as_plain_decimals_with_a_total_line(finance, world, group_by):
    query = f"{COST}?{RANGE}&group_by={group_by}&model=linear"
    body = finance.get(query).json()
    response = finance.get(f"{query}&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    text = response.content.decode()
    assert text.splitlines()[0] == HEADER
    header, *lines, total = read_csv(text)
    figures = header[3:]
    assert len(lines) == len(body["rows"])
    for line, row in zip(lines, body["rows"], strict=True):
        assert line[:3] == [row["period"], row["campaign_name"], row["channel"] or ""]
        assert line[3:] == ["" if row[name] is None else row[name] for name in figures]
    assert total[:3] == ["Total", "", ""]
    assert total[3:] == [body["totals"][name] or "" for name in figures]
    # Each line's cost adds up to the Total line's, to the cent.
    assert sum(Decimal(line[3]) for line in lines) == Decimal(total[3]) == Decimal("255.00")


def test_the_csv_by_campaign_pinned(finance, world):
    text = finance.get(f"{COST}?{RANGE}&format=csv").content.decode()
    assert text.splitlines() == [
        HEADER,
        "2026-03-02/2026-03-04,Mail,email,25.00,0.0000,0.0000,,,0.0000,0.00,,-1.0000",
        "2026-03-02/2026-03-04,Search,paid_search,200.00,2.0000,2.0000,100.00,100.00,2.0000,"
        "500.00,100.00,1.5000",
        "2026-03-02/2026-03-04,Social,paid_social,30.00,1.0000,0.0000,30.00,,0.0000,0.00,,-1.0000",
        "2026-03-02/2026-03-04,Unattributed,,0.00,1.0000,1.0000,0.00,0.00,1.0000,50.00,0.00,",
        "Total,,,255.00,4.0000,3.0000,63.75,85.00,3.0000,550.00,85.00,1.1569",
    ]


def test_the_accept_header_may_ask_for_csv(finance, world):
    response = finance.get(f"{COST}?{RANGE}", HTTP_ACCEPT="text/csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.decode().startswith(HEADER)
    # ?format= wins over Accept.
    response = finance.get(f"{COST}?{RANGE}&format=json", HTTP_ACCEPT="text/csv")
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("group_by", ["campaign", "day"])
def test_the_xlsx_holds_the_json_with_number_formats_and_an_about_sheet(
    finance, account, world, group_by
):
    query = f"{COST}?{RANGE}&group_by={group_by}&model=position_based"
    body = finance.get(query).json()
    response = finance.get(f"{query}&format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    book = load_workbook(io.BytesIO(response.content))
    table, about = book.worksheets
    assert table.title == "Cost per call"
    header, *lines, total = [list(row) for row in table.iter_rows()]
    assert ",".join(cell.value for cell in header) == HEADER
    for line, row in zip(lines, body["rows"], strict=True):
        period = line[0].value
        if group_by == "day":
            assert period.date().isoformat() == row["period"]
            assert line[0].number_format == "yyyy-mm-dd"
        else:
            assert period == row["period"]
        assert [line[1].value, line[2].value] == [row["campaign_name"], row["channel"]]
        for cell, name in zip(line[3:], [c.value for c in header[3:]], strict=True):
            expected = row[name]
            assert (None if cell.value is None else Decimal(str(cell.value))) == (
                None if expected is None else Decimal(expected)
            ), name
    assert [cell.value for cell in total[:3]] == ["Total", None, None]
    assert Decimal(str(total[3].value)) == Decimal(body["totals"]["cost"])
    assert total[3].number_format == '#,##0.00 "USD"'  # money
    assert total[4].number_format == "0.0000"  # credited calls
    assert dict(about.iter_rows(values_only=True)) == {
        "Account": account.name,
        "Account id": account.pk,
        "Currency": "USD",
        "Time zone": "America/New_York",
        "Start": "2026-03-02",
        "End": "2026-03-04",
        "Group by": group_by,
        "Attribution model": "position_based",
        "Data as of": response["X-Report-Data-Freshness"],
    }


def test_a_campaign_named_like_a_formula_stays_text_in_the_xlsx(finance, account, world):
    world.mail.name = "=1+2"
    world.mail.save()
    book = load_workbook(io.BytesIO(finance.get(f"{COST}?{RANGE}&format=xlsx").content))
    names = [row[1] for row in book.worksheets[0].iter_rows(values_only=True)]
    assert "=1+2" in names
    assert book.worksheets[0]["B2"].data_type == "s"


def test_call_kpis_answer_rows_agents_and_the_heat_map(finance, world):
    body = finance.get(f"{KPIS}?{RANGE}&group_by=day").json()
    assert [row["period"] for row in body["rows"]] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert len(body["heat_map"]) == 7 * 24
    assert body["totals"]["calls"] == 4
    assert body["totals"]["spam_calls"] == 1
    assert "model" not in body
