"""Admin of the offline-conversion outbox: destinations with their rules and per-status counts,
and the outbox rows, read-only, with a retry action. Imported by `attribution.admin`."""

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils.html import format_html

from attribution.conversions import destinations as destination_services
from attribution.conversions import services
from attribution.models import Conversion, ConversionRule, ConversionStatus, Destination
from campaigns.admin_scoping import AccountScopedAdmin, AccountScopedForm, adopt
from campaigns.audit.admin_access import PersonalDataAdmin
from campaigns.errors import DomainError

COUNTED = ["pending", "sent", "accepted", "rejected", "retry", "skipped", "dead"]


class DestinationForm(AccountScopedForm):
    """Credentials are write-only here too: the form never shows them; what is typed is merged
    into the stored ones key by key (an empty value removes a key)."""

    base_url = forms.URLField(
        required=False,
        assume_scheme="https",
        help_text="Empty: the platform's own (CONVERSIONS_BASE_URLS setting).",
    )
    new_credentials = forms.JSONField(
        required=False,
        label="Credentials",
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
        help_text='JSON, e.g. {"refresh_token": "…"}. Stored values are never shown; '
        "leave empty to keep them.",
    )

    class Meta:
        model = Destination
        fields = ["account", "name", "kind", "enabled", "base_url", "config", "click_window_days"]

    def clean_new_credentials(self):
        value = self.cleaned_data.get("new_credentials")
        if value in (None, ""):
            return None
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise forms.ValidationError("Credentials are a JSON object of strings.")
        return value


class ConversionRuleInline(admin.TabularInline):
    model = ConversionRule
    extra = 1
    fields = ["trigger", "min_talk_seconds", "action", "upload", "value", "fixed_value"]


@admin.register(Destination)
class DestinationAdmin(AccountScopedAdmin):
    form = DestinationForm
    list_display = ["name", "kind", "enabled", *(f"n_{status}" for status in COUNTED)]
    list_filter = ["kind", "enabled", "account"]
    search_fields = ["name"]
    readonly_fields = ["credential_keys", "created_at", "updated_at"]
    inlines = [ConversionRuleInline]

    def get_queryset(self, request):
        counts = {
            f"n_{status}": Count("conversions", filter=Q(conversions__status=status))
            for status in COUNTED
        }
        return super().get_queryset(request).annotate(**counts)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "kind"] if obj is not None else readonly

    @admin.display(description="Credentials set")
    def credential_keys(self, destination):
        return ", ".join(sorted(destination.credentials)) or "—"

    def save_model(self, request, obj, form, change):
        self.check_owner(request, obj)
        fields = self.service_fields(form, change)
        credentials = form.cleaned_data.get("new_credentials")
        if change:
            original = Destination.objects.get(pk=obj.pk)
            saved = destination_services.update_destination(
                account=original.account, destination=original, credentials=credentials, **fields
            )
        else:
            account = fields.pop("account")
            saved = destination_services.create_destination(
                account=account, credentials=credentials or {}, **fields
            )
        adopt(obj, saved)


def _count_column(status: str):
    @admin.display(description=status, ordering=f"n_{status}")
    def column(self, destination):
        return getattr(destination, f"n_{status}", 0)

    return column


for _status in COUNTED:  # one computed column per status, from the annotated counts
    setattr(DestinationAdmin, f"n_{_status}", _count_column(_status))


class ConversionStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return ConversionStatus.choices

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(Conversion)
class ConversionAdmin(PersonalDataAdmin, AccountScopedAdmin):
    """The outbox, row by row. Rows are written by outcomes and calls, never by hand; a person
    may only retry one."""

    list_display = [
        "id",
        "destination",
        "trigger",
        "action",
        "status",
        "attempts",
        "last_error",
        "value",
        "occurred_at",
        "next_attempt_at",
    ]
    list_filter = [ConversionStatusFilter, "trigger", "destination", "account"]
    list_select_related = ["destination"]
    search_fields = ["=dedup_key", "=outcome__external_id"]
    ordering = ["-id"]
    actions = ["retry"]
    readonly_fields = ["payload_json"]
    exclude = ["payload"]
    audit_resource = "conversions"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Last error")
    def last_error(self, row):
        if not row.last_error_code and not row.skip_reason:
            return "—"
        return format_html(
            "<code>{}</code> {}", row.last_error_code, row.last_error_message or row.skip_reason
        )

    @admin.display(description="Payload")
    def payload_json(self, row):
        if self.is_masked(row):  # hashed phone numbers and emails: still personal data
            return "hidden for your role"
        return format_html("<pre>{}</pre>", json.dumps(row.payload, indent=2, sort_keys=True))

    @admin.action(description="Retry the selected conversions")
    def retry(self, request, queryset):
        done, refused = 0, []
        for row in queryset.select_related("account"):
            self.check_owner(request, row)
            try:
                services.retry_conversion(account=row.account, conversion=row)
                done += 1
            except DomainError as exc:
                refused.append(exc.message)
        self.message_user(request, f"Queued {done} conversion(s) again.")
        for message in refused[:10]:
            self.message_user(request, message, level=messages.WARNING)
