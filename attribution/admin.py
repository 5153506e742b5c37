"""Admin of attribution: sessions and leases are written by the DNI endpoint only, so they are
shown, never edited; outcomes link to the call they were matched to."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from attribution.dashboard import site as dashboard_site
from attribution.models import (
    NumberAssignment,
    Outcome,
    OutcomeChange,
    PoolExhaustion,
    Touchpoint,
    VisitorSession,
)
from attribution.models.credits import RemovalEffect
from attribution.outcomes import services as outcome_services
from campaigns.admin_scoping import AccountScopedAdmin, adopt
from campaigns.audit.admin_access import PersonalDataAdmin
from campaigns.models import Channel, CrmStageMapping


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
class VisitorSessionAdmin(PersonalDataAdmin, ReadOnlyAdmin):
    audit_resource = "sessions"
    masked_fields = {"ip": "ip", "email": "email"}
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


class OutcomeChangeInline(admin.TabularInline):
    """Every change to the outcome, oldest first: written by the service, never edited."""

    model = OutcomeChange
    fields = ["changed_at", "actor", "changes"]
    readonly_fields = fields
    ordering = ["changed_at", "pk"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Outcome)
class OutcomeAdmin(PersonalDataAdmin, AccountScopedAdmin):
    """Outcomes come from CRMs; a person corrects one here, through the same service as the
    API, so the change is in its history under the staff user's name."""

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
    fields = [
        "account",
        "crm",
        "external_id",
        "stage",
        "value",
        "currency",
        "occurred_at",
        "call",
        "call_external_id",
        "caller_e164",
        "caller_raw",
        "email",
        "match_method",
        "created_at",
        "updated_at",
    ]
    # The deal's key (once it exists) and the caller ID are the CRM's; the match is matching's.
    readonly_fields = [
        "crm",
        "external_id",
        "caller_e164",
        "caller_raw",
        "match_method",
        "created_at",
        "updated_at",
    ]
    inlines = [OutcomeChangeInline]
    audit_resource = "outcomes"
    masked_fields = {"caller_e164": "phone", "caller_raw": "digits", "email": "email"}

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if obj is None:
            return [name for name in readonly if name not in ("crm", "external_id")]
        return readonly

    def save_model(self, request, obj, form, change):
        self.check_owner(request, obj)
        actor = f"staff:{request.user.get_username()}"
        fields = self.service_fields(form, change)
        if change:
            original = Outcome.objects.get(pk=obj.pk)
            saved = outcome_services.update_outcome(
                account=original.account, outcome=original, actor=actor, **fields
            )
        else:
            account = fields.pop("account")
            [result] = outcome_services.upsert_outcomes(
                account=account, items=[fields], actor=actor
            )
            saved = result.outcome
        adopt(obj, saved)

    @admin.display(description="Call", ordering="call__started_at")
    def call_link(self, outcome):
        if outcome.call is None:
            return "—"
        url = reverse("admin:calls_call_change", args=[outcome.call_id])
        return format_html('<a href="{}">{}</a>', url, outcome.call)


@admin.register(CrmStageMapping)
class CrmStageMappingAdmin(AccountScopedAdmin):
    """An account's own CRM pipeline stages onto outcome stages, over the adapters' defaults."""

    list_display = ["crm", "crm_stage", "stage"]
    list_filter = ["crm", "stage", "account"]
    search_fields = ["=crm_stage"]
    ordering = ["crm", "crm_stage"]
    create_service = outcome_services.create_stage_mapping
    update_service = outcome_services.update_stage_mapping
    instance_arg = "mapping"


CREDIT_COLUMNS = ["last_touch", "first_touch", "linear", "time_decay", "position_based"]


@admin.register(Touchpoint)
class TouchpointAdmin(ReadOnlyAdmin):
    """Each touch of a call's journey with its credit under every model: derived rows that
    every credits recompute rewrites, so shown, never edited."""

    list_display = ["call_id", "position", "campaign", "keyword", "touched_at",
                    *CREDIT_COLUMNS, "data_driven"]  # fmt: skip
    list_select_related = ["campaign", "keyword"]
    list_filter = ["account"]
    search_fields = ["=call__id"]
    ordering = ["-call_id", "position"]
    show_full_result_count = False  # no COUNT(*) over millions of touches


@admin.register(RemovalEffect)
class RemovalEffectAdmin(ReadOnlyAdmin):
    """The data-driven model's removal effect of each campaign, from the nightly recompute."""

    list_display = ["campaign_name", "effect", "computed_at"]
    list_select_related = ["campaign"]
    list_filter = ["account"]
    ordering = ["-effect"]

    @admin.display(description="Campaign", ordering="campaign__name")
    def campaign_name(self, effect):
        return effect.campaign.name if effect.campaign else "Unattributed"


# The ROI dashboard's pages (attribution/dashboard/site.py): no model of its own.
dashboard_site.install(admin.site)


# The offline-conversion outbox's admin lives with it.
from attribution.conversions import admin as conversions_admin  # noqa: E402, F401
