"""Admin of the campaigns app: every list scoped to the user's accounts (admin_scoping), every
write through campaigns.services, counts computed in the changelist's one query."""

from datetime import timedelta

from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from attribution.dni import sizing
from campaigns import admin_accounts as accounts_admin  # noqa: F401  (registers its admins)
from campaigns import call_flow, services
from campaigns.admin_forms import CampaignForm, CostForm, NumberForm, PoolForm
from campaigns.admin_scoping import AccountScopedAdmin, adopt, count_of
from campaigns.audit import admin as audit_admin  # noqa: F401  (registers AuditEventAdmin)
from campaigns.models import (
    Campaign,
    DailyCost,
    IdempotencyKey,
    Keyword,
    NumberPool,
    TrackingNumber,
)

CALL_FLOW_NOTE = "How calls to the campaign's numbers are forwarded (docs/twilio.md)."


@admin.register(Campaign)
class CampaignAdmin(AccountScopedAdmin):
    form = CampaignForm
    list_display = ["name", "channel", "active", "forward_to", "keyword_count", "number_count"]
    list_filter = ["channel", "active", "account"]
    search_fields = ["name", "utm_campaign"]
    ordering = ["name"]
    main_fields = ["account", "name", "channel", "source", "medium", "utm_campaign", "active"]
    flow_fields = ["forward_to", *call_flow.FIELDS]
    fieldsets = [
        (None, {"fields": main_fields}),
        ("Call flow", {"fields": flow_fields, "description": CALL_FLOW_NOTE}),
    ]
    create_service = services.create_campaign
    update_service = services.update_campaign
    instance_arg = "campaign"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                keyword_count=count_of(Keyword, "campaign"),
                number_count=count_of(TrackingNumber, "campaign"),
            )
        )

    @admin.display(description="Keywords", ordering="keyword_count")
    def keyword_count(self, campaign):
        return campaign.keyword_count

    @admin.display(description="Numbers", ordering="number_count")
    def number_count(self, campaign):
        return campaign.number_count


@admin.register(Keyword)
class KeywordAdmin(AccountScopedAdmin):
    list_display = ["text", "campaign", "utm_term", "active"]
    list_filter = ["active", "campaign", "account"]
    list_select_related = ["campaign"]
    search_fields = ["text", "utm_term"]
    ordering = ["text"]
    create_service = services.create_keyword
    update_service = services.update_keyword
    instance_arg = "keyword"


POOL_SIZING_NOTE = (
    "Erlang B at the busiest hour of the last 7 days, refreshed hourly. Informational: "
    "no number is added or removed."
)


@admin.register(NumberPool)
class NumberPoolAdmin(AccountScopedAdmin):
    form = PoolForm
    # Written by attribution.dni.sizing from the observed load, never by hand.
    sizing_fields = [
        "number_count",
        "recommended_size",
        "blocking",
        "exhaustion",
        "peak_hour",
        "mean_holding",
        "sized_at",
    ]
    list_display = [
        "__str__",
        "campaign",
        "keyword",
        *sizing_fields,
        "idle_timeout_seconds",
        "is_default",
        "active",
    ]
    list_filter = ["is_default", "active", "campaign", "account"]
    list_select_related = ["campaign", "keyword"]
    search_fields = ["name", "campaign__name"]
    readonly_fields = sizing_fields
    editable_fields = [
        "account",
        "campaign",
        "keyword",
        "name",
        "idle_timeout_seconds",
        "grace_seconds",
        "is_default",
        "active",
    ]
    fieldsets = [
        (None, {"fields": editable_fields}),
        ("Sizing", {"fields": sizing_fields, "description": POOL_SIZING_NOTE}),
    ]
    actions = ["recompute_size"]
    create_service = services.create_pool
    update_service = services.update_pool
    instance_arg = "pool"

    def get_fieldsets(self, request, obj=None):
        # A pool being added has no load yet (nor the number_count annotation).
        return self.fieldsets if obj is not None else self.fieldsets[:1]

    def get_queryset(self, request):
        # Active numbers only: they are the "current size" the blocking column is computed at.
        numbers = (
            TrackingNumber.objects.filter(pool=OuterRef("pk"), active=True)
            .order_by()
            .values("pool")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).annotate(number_count=Coalesce(Subquery(numbers), 0))

    @admin.display(description="Numbers", ordering="number_count")
    def number_count(self, pool):
        return pool.number_count

    @admin.display(description="Blocking", ordering="blocking_probability")
    def blocking(self, pool):
        return _percent(pool.blocking_probability)

    @admin.display(description="Exhaustion", ordering="exhaustion_rate")
    def exhaustion(self, pool):
        return _percent(pool.exhaustion_rate)

    @admin.display(description="Peak hour sessions", ordering="peak_hour_sessions")
    def peak_hour(self, pool):
        return None if pool.peak_hour_sessions is None else round(pool.peak_hour_sessions)

    @admin.display(description="Mean holding", ordering="mean_holding_seconds")
    def mean_holding(self, pool):
        if pool.mean_holding_seconds is None:
            return None
        return str(timedelta(seconds=round(pool.mean_holding_seconds)))

    @admin.action(description="Recompute recommended size", permissions=["change"])
    def recompute_size(self, request, queryset):
        now = timezone.now()
        pools = [sizing.size_pool(pool=pool, now=now) for pool in queryset]
        self.message_user(request, f"Recomputed the recommended size of {len(pools)} pool(s).")


def _percent(share: float | None) -> str | None:
    return None if share is None else f"{share:.2%}"


@admin.register(TrackingNumber)
class TrackingNumberAdmin(AccountScopedAdmin):
    form = NumberForm
    list_display = ["e164", "kind", "campaign", "pool", "provider", "active"]
    list_filter = ["kind", "active", "provider", "campaign", "account"]
    list_select_related = ["campaign", "pool"]
    search_fields = ["e164", "=provider_sid"]
    ordering = ["e164"]
    create_service = services.create_number
    update_service = services.update_number
    instance_arg = "number"


@admin.register(DailyCost)
class DailyCostAdmin(AccountScopedAdmin):
    form = CostForm
    list_display = ["campaign", "keyword", "date", "amount", "currency", "clicks", "impressions"]
    list_filter = ["campaign", "account"]
    list_select_related = ["campaign", "keyword"]
    date_hierarchy = "date"
    ordering = ["-date"]

    def get_readonly_fields(self, request, obj=None):
        # (campaign, keyword, date) is the row's key for the upsert: to move spend, add a row.
        readonly = super().get_readonly_fields(request, obj)
        return [*readonly, "campaign", "keyword", "date"] if obj else readonly

    def save_model(self, request, obj, form, change):
        self.check_owner(request, obj)
        row = services.CostRow(
            campaign=obj.campaign,
            keyword=obj.keyword,
            date=obj.date,
            amount=obj.amount,
            currency=obj.currency,
            clicks=obj.clicks,
            impressions=obj.impressions,
        )
        (saved,), _ = services.upsert_costs(account=obj.account, rows=[row])
        adopt(obj, saved)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(AccountScopedAdmin):
    """The stored first responses of POSTs sent with an `Idempotency-Key` (replayed for 24 h,
    then purged): shown to trace an integrator's retries, never edited."""

    list_display = ["key", "method", "path", "status_code", "created_at"]
    list_filter = ["status_code", "account"]
    search_fields = ["=key"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    readonly_fields = ["account", "key", "method", "path", "request_hash", "status_code",
                       "content_type", "response_body", "created_at"]  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
