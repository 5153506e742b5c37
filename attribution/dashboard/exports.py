"""The finance export for a staff user: the API's cost-per-call file for the same filters.

Staff are logged in by session, not by API key, so the admin serves the export itself; it
composes the same pieces as `attribution.api.reports.CostPerCallView` (catch the range up,
`selectors.cost_per_call`, `exports.to_csv`/`to_xlsx`, `exports.stamp`, `exports.filename`),
so a file from the dashboard and one from the API are the same bytes with the same
X-Report-* headers.
"""

from django.http import HttpResponse

from attribution.reports import exports, rollups
from attribution.reports import selectors as reports

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"  # what DRF's renderer answers for the API's CSV


def response(params: dict) -> HttpResponse:
    """The file for ExportForm's cleaned data: account, start, end, model, group_by, format."""
    account, start, end = params["account"], params["start"], params["end"]
    rollups.catch_up(account=account, start=start, end=end)
    report = reports.cost_per_call(
        account=account, start=start, end=end, group_by=params["group_by"], model=params["model"]
    )
    kind = params["format"]
    if kind == "csv":
        body, content_type = exports.to_csv(report).encode("utf-8"), CSV_CONTENT_TYPE
    else:
        body, content_type = exports.to_xlsx(report), exports.XLSX_MEDIA_TYPE
    answer = HttpResponse(body, content_type=content_type, headers=exports.stamp(report.meta))
    answer["Content-Disposition"] = f'attachment; filename="{exports.filename(report.meta, kind)}"'
    answer.rows = len(report.rows)  # for the audit event of the export (views.export)
    return answer
