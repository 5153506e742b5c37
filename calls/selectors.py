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


def calls_by_keys(*, account, keys: list[tuple[str, str]]) -> list[Call]:
    """The calls with these (provider, external_id) keys, in the order of `keys`."""
    found = {
        (call.provider, call.external_id): call
        for call in calls(account=account).filter(
            external_id__in={external_id for _, external_id in keys}
        )
    }
    return [found[key] for key in keys]
