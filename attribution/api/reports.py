"""The report endpoints: ROI, the finance cost-per-call export (JSON, CSV, XLSX) and call KPIs.
Only `finance`, `reporting` and `admin` keys read them.

Each view parses its query, rolls the range's few logged days up (`rollups.catch_up`), calls
one selector and shapes the answer; every answer carries the report's stamp in X-Report-*
headers. `format` is ours: settings.REST_FRAMEWORK sets URL_FORMAT_OVERRIDE to None so DRF does
not take it for its renderer override, and the export also honours an Accept header of
text/csv or the XLSX type.
"""

from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import renderers, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from attribution.api import report_outputs as outputs
from attribution.reports import exports, groups, rollups, selectors
from campaigns.api.tenancy import request_account
from campaigns.audit.api import AuditedReads
from campaigns.audit.models import AuditAction
from campaigns.models import Role

READERS = (Role.FINANCE, Role.REPORTING, Role.ADMIN)


class ReportInput(serializers.Serializer):
    start = serializers.DateField(help_text="First day, in the account's time zone (YYYY-MM-DD).")
    end = serializers.DateField(help_text="Last day, included; at most 2 years after start.")
    model = serializers.ChoiceField(choices=groups.MODELS, default=groups.DEFAULT_MODEL)

    def validate(self, attrs):
        try:
            groups.check_range(attrs["start"], attrs["end"])
        except groups.BadRange as error:
            raise serializers.ValidationError({"end": [str(error)]}) from None
        return attrs


class _PassThrough(renderers.BaseRenderer):
    """The body is rendered already (exports); this renderer only names its media type."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class CsvRenderer(_PassThrough):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"


class XlsxRenderer(_PassThrough):
    media_type = exports.XLSX_MEDIA_TYPE
    format = "xlsx"
    charset = None
    render_style = "binary"


class ReportView(APIView):
    throttle_scope = "reports"  # its own, smaller rate budget (campaigns.api.throttling)
    read_roles = READERS
    http_method_names = ["get", "head", "options"]

    def parse(self, request, input_class) -> dict:
        data = input_class(data=request.query_params)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        account = request_account(request)
        rollups.catch_up(account=account, start=params["start"], end=params["end"])
        return params

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors are JSON in the one error shape, whatever format the request asked for.
        if getattr(response, "status_code", 200) >= 400:
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)


@method_decorator(never_cache, name="dispatch")
class RoiView(ReportView):
    """ROI by campaign, keyword, channel, day, week or month under one attribution model."""

    class InputSerializer(ReportInput):
        group_by = serializers.ChoiceField(choices=groups.GROUP_BYS, default="campaign")

    @extend_schema(parameters=[InputSerializer], responses=outputs.RoiOutput)
    def get(self, request):
        params = self.parse(request, self.InputSerializer)
        report = selectors.roi(account=request_account(request), **params)
        return Response(outputs.RoiOutput(report.shown()).data, headers=exports.stamp(report.meta))


@method_decorator(never_cache, name="dispatch")
class CostPerCallView(AuditedReads, ReportView):
    """The finance export: per campaign, or per day or month and campaign, with a Total line."""

    renderer_classes = [renderers.JSONRenderer, CsvRenderer, XlsxRenderer]
    audit_resource, audit_action = "cost_per_call", AuditAction.EXPORT

    class InputSerializer(ReportInput):
        group_by = serializers.ChoiceField(
            choices=groups.COST_PER_CALL_GROUP_BYS, default="campaign"
        )
        format = serializers.ChoiceField(
            choices=["json", "csv", "xlsx"],
            required=False,
            help_text="json (default), csv or xlsx; else the Accept header decides.",
        )

    @extend_schema(
        parameters=[InputSerializer],
        responses={
            (200, "application/json"): outputs.CostPerCallOutput,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="The header line, one line per row, Total."
            ),
            (200, exports.XLSX_MEDIA_TYPE): OpenApiResponse(
                OpenApiTypes.BINARY, description="The table, then an About sheet."
            ),
        },
    )
    def get(self, request):
        params = self.parse(request, self.InputSerializer)
        kind = params.pop("format", None) or request.accepted_renderer.format
        report = selectors.cost_per_call(account=request_account(request), **params)
        self.audit_count = len(report.rows)  # a CSV or XLSX body cannot be counted after
        headers = exports.stamp(report.meta)
        if kind == "json":
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = "application/json"
            return Response(outputs.CostPerCallOutput(report.shown()).data, headers=headers)
        renderer = CsvRenderer() if kind == "csv" else XlsxRenderer()
        body = exports.to_csv(report) if kind == "csv" else exports.to_xlsx(report)
        request.accepted_renderer = renderer
        request.accepted_media_type = renderer.media_type
        name = exports.filename(report.meta, kind)
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return Response(body, headers=headers)


@method_decorator(never_cache, name="dispatch")
class CallKpisView(ReportView):
    """Call KPIs by the call's own campaign, channel, day, week or month, with conversion by
    agent and the weekday × hour heat map."""

    class InputSerializer(ReportInput):
        model = None  # KPIs count calls, not credit
        group_by = serializers.ChoiceField(choices=groups.KPI_GROUP_BYS, default="campaign")

    @extend_schema(parameters=[InputSerializer], responses=outputs.CallKpisOutput)
    def get(self, request):
        data = self.InputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        report = selectors.call_kpis(account=request_account(request), **data.validated_data)
        return Response(
            outputs.CallKpisOutput(report.shown()).data, headers=exports.stamp(report.meta)
        )
