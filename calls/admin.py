"""Admin of inbound calls: a large table, so the changelist is one query with its joins, no
full COUNT(*), and a date hierarchy to narrow it first."""

from django.contrib import admin
from django.db import models

from calls.models import Call
from campaigns.admin_scoping import AccountScopedAdmin


def minutes_seconds(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds // 60}:{seconds % 60:02d}"


@admin.register(Call)
class CallAdmin(AccountScopedAdmin):
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
    readonly_fields = ["session", "campaign", "keyword", "confidence", "created_at", "updated_at"]

    @admin.display(description="Caller", ordering="caller_e164")
    def caller(self, call):
        # A withheld or invalid caller ID has no E.164: show what the network sent.
        return call.caller_e164 or call.caller_raw or "withheld"

    @admin.display(description="Duration", ordering="duration_seconds")
    def duration(self, call):
        return minutes_seconds(call.duration_seconds)

    @admin.display(description="Talk", ordering="talk_seconds")
    def talk(self, call):
        return minutes_seconds(call.talk_seconds)
