"""The finance export as files: CSV and XLSX of a CostPerCallReport, and the stamp (account,
currency, time zone, range, model, data freshness) that goes with every copy. No I/O beyond
building bytes.

Values are the report's shown values (rounded once, as in the JSON): CSV cells are plain
decimals (`1234.50`), ISO dates and empty cells for nulls; XLSX cells are numbers with number
and currency formats, so a spreadsheet adds them up to the same cents.
"""

import csv
import datetime as dt
import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from attribution.reports import results

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TOTAL = "Total"
_MONEY = {"cost", "cost_per_call", "cost_per_answered_call", "revenue", "cpa"}
_RATE_FORMAT = "0.0000"


def stamp(meta: results.Meta) -> dict[str, str]:
    """Response headers naming what the figures cover (ASCII only: the account by id)."""
    headers = {
        "X-Report-Account": str(meta.account_id),
        "X-Report-Currency": meta.currency,
        "X-Report-Time-Zone": meta.time_zone,
        "X-Report-Range": f"{meta.start}/{meta.end}",
        "X-Report-Model": meta.model,
        "X-Report-Data-Freshness": _instant(meta.data_freshness),
    }
    return {name: value for name, value in headers.items() if value}


def filename(meta: results.Meta, extension: str) -> str:
    return f"cost-per-call-{meta.account_id}-{meta.start}-{meta.end}-{meta.group_by}.{extension}"


def table(report: results.CostPerCallReport) -> list[list]:
    """The header and one list of shown values per row, then the Total line."""
    lines: list[list] = [list(results.COST_PER_CALL_COLUMNS)]
    for row in report.rows:
        shown = row.shown()
        lines.append(
            [row.period, row.campaign_name, row.channel]
            + [shown[name] for name in results.COST_PER_CALL_COLUMNS[3:]]
        )
    totals = report.shown()["totals"]
    lines.append([TOTAL, None, None] + [totals[n] for n in results.COST_PER_CALL_COLUMNS[3:]])
    return lines


def to_csv(report: results.CostPerCallReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for line in table(report):
        writer.writerow(["" if value is None else _plain(value) for value in line])
    return out.getvalue()


def to_xlsx(report: results.CostPerCallReport) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Cost per call"
    money = f'#,##0.00 "{report.meta.currency}"'
    header, *body = table(report)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in body:
        sheet.append([_period(line[0]), *line[1:]])
        row = sheet.max_row
        for column, name in enumerate(header, start=1):
            cell = sheet.cell(row=row, column=column)
            if isinstance(cell.value, str):
                cell.data_type = "s"  # a name starting with "=" is text, never a formula
            elif name in _MONEY:
                cell.number_format = money
            elif name == "period":
                cell.number_format = "yyyy-mm-dd"
            elif cell.value is not None:
                cell.number_format = _RATE_FORMAT
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCDEFGHIJKL", (23, 30, 14, *[14] * 9), strict=True):
        sheet.column_dimensions[column].width = width
    _about(book.create_sheet("About"), report.meta)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _about(sheet, meta: results.Meta) -> None:
    for name, value in [
        ("Account", meta.account_name),
        ("Account id", meta.account_id),
        ("Currency", meta.currency),
        ("Time zone", meta.time_zone),
        ("Start", meta.start.isoformat()),
        ("End", meta.end.isoformat()),
        ("Group by", meta.group_by),
        ("Attribution model", meta.model),
        ("Data as of", _instant(meta.data_freshness)),
    ]:
        sheet.append([name, value])
        sheet.cell(row=sheet.max_row, column=2).data_type = "n" if isinstance(value, int) else "s"
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
    sheet.column_dimensions["A"].width = 20
    sheet.column_dimensions["B"].width = 40


def _plain(value) -> str:
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def _period(period: str) -> dt.date | str:
    """A period that is one day (a day, a month's first day) is a date cell; a range
    (`start/end`) and Total stay text."""
    try:
        return dt.date.fromisoformat(period)
    except ValueError:
        return period


def _instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
