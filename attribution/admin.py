"""Admin of attribution: sessions and leases are written by the DNI endpoint only, so they are
shown, never edited; outcomes link to the call they were matched to."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from attribution.models import NumberAssignment, Outcome, PoolExhaustion, VisitorSession
from campaigns.admin_scoping import AccountScopedAdmin
from campaigns.models import Channel


class ReadOnlyAdmin(AccountScopedAdmin):
    """Rows written by the DNI endpoint. Deleting stays allowed (a visitor's erasure request)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ChannelFilter(admin.SimpleListFilter):
    # The stock filter for a field without choices runs SELECT DISTINCT over every session.
    title = "channel"
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        return Channel.choices

    def queryset(self, request, queryset):
        return queryset.filter(channel=self.value()) if self.value() else queryset


@admin.register(VisitorSession)
class VisitorSessionAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "visitor_id",
        "campaign",
        "keyword",
        "channel",
        "landing",
        "is_bot",
    ]
    list_filter = [ChannelFilter, "is_bot", "campaign", "account"]
    list_select_related = ["campaign", "keyword"]
    search_fields = ["=visitor_id", "=gclid", "=email"]
    date_hierarchy = "started_at"
    ordering = ["-started_at"]

    @admin.display(description="Landing URL")
    def landing(self, session):
        return Truncator(session.landing_url).chars(60)


@admin.register(NumberAssignment)
class NumberAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["number", "session", "pool", "starts_at", "ends_at", "overflow"]
    list_filter = ["overflow", "pool", "account"]
    list_select_related = ["number", "session", "pool"]
    search_fields = ["=number__e164"]
    date_hierarchy = "starts_at"
    ordering = ["-starts_at"]


@admin.register(PoolExhaustion)
class PoolExhaustionAdmin(ReadOnlyAdmin):
    """Hours in which a pool ran out of free numbers: a sign it needs more."""

    list_display = ["hour", "pool", "count"]
    list_filter = ["pool", "account"]
    list_select_related = ["pool"]
    date_hierarchy = "hour"
    ordering = ["-hour"]


@admin.register(Outcome)
class OutcomeAdmin(AccountScopedAdmin):
    list_display = [
        "crm",
        "external_id",
        "stage",
        "value",
        "currency",
        "call_link",
        "match_method",
        "occurred_at",
    ]
    list_filter = ["stage", "match_method", "crm", "account"]
    list_select_related = ["call"]
    search_fields = ["=external_id", "caller_e164", "=email"]
    date_hierarchy = "occurred_at"
    ordering = ["-occurred_at"]
    raw_id_fields = ["call"]  # a select would list every call of the account
    readonly_fields = ["match_method", "created_at", "updated_at"]

    @admin.display(description="Call", ordering="call__started_at")
    def call_link(self, outcome):
        if outcome.call is None:
            return "—"
        url = reverse("admin:calls_call_change", args=[outcome.call_id])
        return format_html('<a href="{}">{}</a>', url, outcome.call)
