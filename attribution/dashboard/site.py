"""How the dashboard joins an admin site: its URLs under `<admin>/attribution/roi/`, and a
"ROI by campaign" entry at the top of the Attribution app on the index and in the sidebar.

The dashboard has no model of its own (a model would mean a table, a migration and
permissions for a page), so it extends the site instance rather than registering a
ModelAdmin: `install(admin.site)` is called once from attribution/admin.py.
"""

from functools import partial

from django.urls import path, reverse

from attribution.dashboard import views

ENTRY_NAME = "ROI by campaign"


def urls(site) -> list:
    def view(function, **kwargs):
        return site.admin_view(partial(function, site=site, **kwargs))

    return [
        path("attribution/roi/", view(views.roi), name="attribution_roi"),
        path(
            "attribution/roi/campaign/<int:campaign_id>/",
            view(views.campaign),
            name="attribution_roi_campaign",
        ),
        path(
            "attribution/roi/unattributed/",
            view(views.campaign),
            name="attribution_roi_unattributed",
        ),
        path("attribution/roi/live/", view(views.live), name="attribution_roi_live"),
        path("attribution/roi/export/", view(views.export), name="attribution_roi_export"),
    ]


def entry(site) -> dict:
    """The app list's row for the dashboard (the keys Django's app_list.html reads)."""
    return {
        "name": ENTRY_NAME,
        "object_name": "RoiDashboard",
        "admin_url": reverse("admin:attribution_roi", current_app=site.name),
        "add_url": None,
        "view_only": True,
        "perms": {"add": False, "change": False, "delete": False, "view": True},
        "model": None,
    }


def install(site) -> None:
    """Add the dashboard to `site`. Idempotent."""
    if getattr(site, "roi_dashboard_installed", False):
        return
    site.roi_dashboard_installed = True
    get_urls, get_app_list = site.get_urls, site.get_app_list

    def get_urls_with_dashboard():
        # Ahead of the site's own: its catch-all would answer these paths with a 404.
        return [*urls(site), *get_urls()]

    def get_app_list_with_dashboard(request, app_label=None):
        app_list = get_app_list(request, app_label)
        if views.can_view(request.user):
            for app in app_list:
                if app["app_label"] == "attribution":
                    app["models"].insert(0, entry(site))
        return app_list

    site.get_urls = get_urls_with_dashboard
    site.get_app_list = get_app_list_with_dashboard
