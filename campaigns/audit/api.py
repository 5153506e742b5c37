"""Auditing reads and exports of personal data through the REST API: one mixin, one attribute.

A view serving personal data (calls, outcomes, sessions, conversions, the finance export)
puts `AuditedReads` first among its bases and names its `audit_resource`. Every successful
GET then appends one event, after the response is built and before it is sent: the key, the
resource, the object's id on a detail route, the number of rows answered and the names of
the query parameters (never their values: `?caller=` is a phone number). A failed request
(4xx, 5xx) read nothing and is not recorded; nor is HEAD, whose body is never sent.

The event costs one INSERT per request, whatever the page size (tests/campaigns/
test_audit_api.py holds the list endpoints to that)."""

from typing import Any

from rest_framework.response import Response

from campaigns.audit import context, services
from campaigns.audit.models import AuditAction
from campaigns.models import ApiKey


def rows_in(data: Any) -> int | None:
    """How many rows a response carries: a page's results, a report's rows, a list, or one
    object. None when the body is a rendered file (the view says how many, `audit_count`)."""
    if isinstance(data, dict):
        for key in ("results", "rows"):
            if isinstance(data.get(key), list):
                return len(data[key])
        return 1
    if isinstance(data, list):
        return len(data)
    return None


class AuditedReads:
    audit_resource = ""
    audit_action = AuditAction.READ
    # Set by a view whose body is a rendered file (CSV, XLSX), where the rows cannot be counted.
    audit_count: int | None = None

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        api_key = getattr(request, "auth", None)
        if (
            request.method == "GET"
            and 200 <= response.status_code < 300
            and isinstance(api_key, ApiKey)
            and isinstance(response, Response)
        ):
            count = self.audit_count if self.audit_count is not None else rows_in(response.data)
            services.record_access(
                account=api_key.account,
                actor=context.actor_of(request),
                action=self.audit_action,
                resource=self.audit_resource,
                object_id=kwargs.get("pk"),
                count=count,
                filters=request.query_params.keys(),
            )
        return response
