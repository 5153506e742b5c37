"""Reads of the calls app. Every selector takes the account."""

from django.db.models import Exists, OuterRef, QuerySet

from calls.models import BlockedNumber, Call


def calls(*, account) -> QuerySet[Call]:
    """Calls with what a list shows, and whether each is its caller's first call."""
    earlier = Call.objects.filter(
        account=account, caller_e164=OuterRef("caller_e164"), started_at__lt=OuterRef("started_at")
    ).exclude(caller_e164="")
    return (
        Call.objects.filter(account=account)
        .select_related("tracking_number")
        .annotate(repeat_caller=Exists(earlier))
    )


def blocked_numbers(*, account) -> QuerySet[BlockedNumber]:
    return BlockedNumber.objects.filter(account=account)


# What the API shows of a call (calls.api.views.CallSerializer), as plain values.
CALL_VALUES = (
    "id",
    "provider",
    "external_id",
    "tracking_e164",
    "caller_e164",
    "caller_raw",
    "started_at",
    "duration_seconds",
    "talk_seconds",
    "status",
    "recording_url",
    "agent",
    "transferred",
    "spam",
    "spam_reason",
    "session_id",
    "campaign_id",
    "keyword_id",
    "confidence",
    "created_at",
    "updated_at",
    "repeat_caller",
)


def call_values_by_keys(*, account, keys: list[tuple[str, str]]) -> list[dict]:
    """`CALL_VALUES` of the calls with these (provider, external_id) keys, in the order of
    `keys`: dicts, not model instances, as a batch of 1,000 is read back in one go."""
    rows = (
        calls(account=account)
        .filter(
            provider__in={provider for provider, _ in keys},
            external_id__in={external_id for _, external_id in keys},
        )
        .values(*CALL_VALUES)
    )
    found = {(row["provider"], row["external_id"]): row for row in rows}
    return [found[key] for key in keys]
