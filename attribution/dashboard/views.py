"""The dashboard's admin views: parse the filters, call a selector (through `pages`), render.

Each view is wrapped by the admin site's `admin_view` (a logged-in active staff user, CSRF,
no caching) and asks `can_view`; the account comes from `ReportForm`, which offers only the
user's own accounts, so another account's id is a form error on every view: the page shows
it, the JSON and export views answer 400 with it.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse

from attribution.dashboard import exports, forms, pages
from attribution.reports import selectors as reports
from campaigns import masking
from campaigns.audit import admin_access
from campaigns.audit.models import AuditAction
from campaigns.models import Campaign

# Reading figures means reading what they are made of.
PERMISSIONS = ("calls.view_call", "attribution.view_outcome")
TEMPLATES = "admin/attribution/dashboard"


def can_view(user) -> bool:
    return user.is_active and user.is_staff and user.has_perms(PERMISSIONS)


def _form(request, form_class=forms.ReportForm):
    if not can_view(request.user):
        raise PermissionDenied
    return form_class(request.GET, user=request.user)


def _page(request, site, template: str, form, context: dict, status: int = 200):
    query = form.query() if form.is_valid() else ""
    return render(
        request,
        f"{TEMPLATES}/{template}",
        {
            **site.each_context(request),
            "form": form,
            "live_url": f"{reverse('admin:attribution_roi_live')}?{query}",
            "export_url": reverse("admin:attribution_roi_export"),
            "group_bys": forms.ExportForm.GROUP_BYS,
            **context,
        },
        status=status,
    )


def roi(request, *, site):
    form = _form(request)
    context = pages.roi_page(form) if form.is_valid() else {}
    return _page(request, site, "roi.html", form, {"title": "ROI by campaign", **context})


def campaign(request, campaign_id: int | None = None, *, site):
    form = _form(request)
    if not form.is_valid():
        return _page(request, site, "campaign.html", form, {"title": "Campaign"})
    account = form.cleaned_data["account"]
    found = None
    if campaign_id is not None:
        # Another account's campaign is absent, as the admin's own change pages have it.
        found = Campaign.objects.filter(account=account, pk=campaign_id).first()
        if found is None:
            raise Http404("No such campaign in this account.")
    title = found.name if found else "Unattributed calls"
    page = pages.campaign_page(form, found)
    # The page lists callers: masked for a reporting or finance member, and an audited read.
    role = admin_access.role_in(request.user, account)
    for call in page["calls"]:
        call.caller_shown = masking.shown_caller(call.caller_e164, call.caller_raw, role=role)
    if page["calls"]:
        admin_access.record_read(request, account, resource="calls", count=len(page["calls"]))
    return _page(request, site, "campaign.html", form, {"title": title, **page})


def live(request, *, site):
    """So far today in the account's time zone, for the live panel's polling."""
    form = _form(request)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors}, status=400)
    today = reports.live_today(account=form.cleaned_data["account"])
    return JsonResponse({"account": form.cleaned_data["account"].pk, **today.shown()})


def export(request, *, site):
    """The finance export (cost per call) for the dashboard's filters: the bytes and headers
    the API's `/api/v1/reports/cost-per-call/` answers with for the same parameters."""
    form = _form(request, forms.ExportForm)
    if not form.is_valid():
        return _page(request, site, "roi.html", form, {"title": "ROI by campaign"}, status=400)
    answer = exports.response(form.cleaned_data)
    admin_access.record_read(
        request,
        form.cleaned_data["account"],
        resource="cost_per_call",
        count=answer.rows,
        action=AuditAction.EXPORT,
    )
    return answer
