"""The audit trail in the admin: read-only for everyone (superusers included: a trail anyone
could edit would prove nothing), scoped to the user's accounts like every other admin."""

from django.contrib import admin

from campaigns.admin_scoping import AccountScopedAdmin
from campaigns.audit.models import AuditEvent

# The resources events are written for. A fixed list: the stock filter would run SELECT
# DISTINCT over the whole trail on every changelist page.
RESOURCES = [
    "calls",
    "call_context",
    "outcomes",
    "sessions",
    "conversions",
    "cost_per_call",
    "account",
    "api_keys",
    "memberships",
    "pools",
    "crm_stages",
    "destinations",
    "admin_session",
]


class ResourceFilter(admin.SimpleListFilter):
    title = "resource"
    parameter_name = "resource"

    def lookups(self, request, model_admin):
        return [(name, name.replace("_", " ")) for name in RESOURCES]

    def queryset(self, request, queryset):
        return queryset.filter(resource=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(AccountScopedAdmin):
    list_display = [
        "occurred_at",
        "account",
        "actor_label",
        "actor_kind",
        "action",
        "resource",
        "object_id",
        "method",
        "path",
        "ip",
    ]
    list_filter = ["action", ResourceFilter, "actor_kind", "account"]
    list_select_related = ["account"]
    search_fields = ["actor_label", "=object_id", "path"]
    date_hierarchy = "occurred_at"
    ordering = ["-occurred_at", "-id"]
    show_full_result_count = False  # no COUNT(*) over a trail that only grows

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
