"""Admin of inbound calls: a large table, so the changelist is one query with its joins, no
full COUNT(*), and a date hierarchy to narrow it first."""

from django import forms
from django.contrib import admin
from django.db import models

from calls import services
from calls.models import BlockedNumber, Call
from campaigns import masking, phones
from campaigns.admin_scoping import AccountScopedAdmin, AccountScopedForm
from campaigns.audit.admin_access import PersonalDataAdmin, masked_column


def minutes_seconds(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds // 60}:{seconds % 60:02d}"


@admin.register(Call)
class CallAdmin(PersonalDataAdmin, AccountScopedAdmin):
    audit_resource = "calls"
    masked_fields = {"caller_e164": "phone", "caller_raw": "digits", "recording_url": "recording"}
    list_display = [
        "started_at",
        "caller",
        "tracking_e164",
        "campaign",
        "keyword",
        "status",
        "duration",
        "talk",
        "confidence",
        "spam",
    ]
    list_filter = ["status", "confidence", "spam", "campaign", "account"]
    list_select_related = ["campaign", "keyword"]
    search_fields = ["caller_e164", "=external_id", "tracking_e164"]
    date_hierarchy = "started_at"
    ordering = ["-started_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6's default
    raw_id_fields = ["tracking_number"]  # a select would list every number of the account
    # How the call was tied to a campaign is the attribution's work: edit the inputs, not this.
    readonly_fields = [
        "session",
        "campaign",
        "keyword",
        "confidence",
        "spam_reason",
        "created_at",
        "updated_at",
    ]
    update_service = services.update_call
    instance_arg = "call"
    actions = ["mark_spam", "mark_not_spam"]

    @admin.action(description="Mark as spam")
    def mark_spam(self, request, queryset):
        for call in queryset:
            services.update_call(account=call.account, call=call, spam=True)
        self.message_user(request, f"Marked {queryset.count()} call(s) as spam.")

    @admin.action(description="Not spam (the automatic rule will leave them alone)")
    def mark_not_spam(self, request, queryset):
        for call in queryset:
            services.update_call(account=call.account, call=call, spam=False)
        self.message_user(request, f"Cleared {queryset.count()} call(s).")

    @admin.display(description="Caller", ordering="caller_e164")
    def caller(self, call):
        # A withheld or invalid caller ID has no E.164: show what the network sent.
        return masking.shown_caller(call.caller_e164, call.caller_raw, role=self.role_of(call))

    @admin.display(description="Duration", ordering="duration_seconds")
    def duration(self, call):
        return minutes_seconds(call.duration_seconds)

    @admin.display(description="Talk", ordering="talk_seconds")
    def talk(self, call):
        return minutes_seconds(call.talk_seconds)


class BlockedNumberForm(AccountScopedForm):
    def clean_e164(self):
        value = self.cleaned_data["e164"]
        account = self.account() if "account" in self.cleaned_data else None
        region = account.region if account else "US"
        try:
            caller = phones.parse_caller_id(value, region=region)
        except phones.InvalidPhoneNumber as exc:
            raise forms.ValidationError(str(exc)) from exc
        if not caller.e164:
            raise forms.ValidationError(f"'{value}' is not a valid phone number")
        return caller.e164


@admin.register(BlockedNumber)
class BlockedNumberAdmin(PersonalDataAdmin, AccountScopedAdmin):
    audit_resource = "blocklist"
    masked_fields = {"e164": "phone"}
    form = BlockedNumberForm
    list_display = ["number", "reason", "account", "created_at"]
    list_filter = ["account"]
    search_fields = ["e164"]
    ordering = ["-created_at"]

    masked_e164 = masked_column("e164", "phone")

    @admin.display(description="Number", ordering="e164")
    def number(self, blocked):
        return masking.mask("phone", blocked.e164, role=self.role_of(blocked))

    def save_model(self, request, obj, form, change):
        self.check_owner(request, obj)
        if change:
            super().save_model(request, obj, form, change)
            return
        blocked, _ = services.block_number(account=obj.account, e164=obj.e164, reason=obj.reason)
        obj.pk = blocked.pk

    def delete_model(self, request, obj):
        services.unblock_number(account=obj.account, blocked=obj)
