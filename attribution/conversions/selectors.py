"""Reads of the offline-conversion outbox and its destinations."""

import datetime as dt

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from attribution.conversions.platforms.base import Target, TokenStore
from attribution.models import (
    Conversion,
    ConversionRule,
    ConversionStatus,
    Destination,
)
from attribution.models.conversions import DUE_STATUSES
from campaigns.models import Account


def destinations(*, account: Account) -> QuerySet[Destination]:
    """The account's destinations with their rules and per-status row counts."""
    counts = {
        status: Count("conversions", filter=Q(conversions__status=status))
        for status in ConversionStatus.values
    }
    return (
        Destination.objects.filter(account=account)
        .prefetch_related("rules")
        .annotate(**{f"n_{status}": count for status, count in counts.items()})
        .order_by("pk")
    )


def status_counts(destination: Destination) -> dict[str, int]:
    """The counts `destinations` annotated, as {status: n}."""
    return {status: getattr(destination, f"n_{status}", 0) for status in ConversionStatus.values}


def conversions(*, account: Account) -> QuerySet[Conversion]:
    return Conversion.objects.filter(account=account).order_by("-pk")


def active_rules(*, account: Account, triggers) -> dict[str, list[ConversionRule]]:
    """The enabled destinations' rules for these triggers, by trigger (one query)."""
    found: dict[str, list[ConversionRule]] = {}
    rows = (
        ConversionRule.objects.filter(
            destination__account=account, destination__enabled=True, trigger__in=list(triggers)
        )
        .select_related("destination")
        .order_by("pk")
    )
    for rule in rows:
        found.setdefault(rule.trigger, []).append(rule)
    return found


def due_destination_ids(*, now: dt.datetime) -> list[int]:
    """Enabled destinations with at least one row due: one probe of the due index each."""
    due = Conversion.objects.filter(
        destination=OuterRef("pk"), status__in=DUE_STATUSES, next_attempt_at__lte=now
    )
    return list(
        Destination.objects.filter(enabled=True)
        .filter(Exists(due))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def target(destination: Destination) -> Target:
    """A destination as its adapter sees it: the base URL resolved (the destination's own, else
    the setting), credentials, and a token cache that persists refreshed tokens."""
    base_url = destination.base_url or settings.CONVERSIONS_BASE_URLS.get(destination.kind, "")
    cache = destination.token_cache or {}
    expires = cache.get("expires_at")

    def persist(values: dict) -> None:
        # Imported here: services import this module.
        from attribution.conversions import services

        services.save_tokens(destination_id=destination.pk, values=values)

    tokens = TokenStore(
        access_token=cache.get("access_token", ""),
        expires_at=dt.datetime.fromisoformat(expires) if expires else None,
        persist=persist,
    )
    credentials = dict(destination.credentials)
    if cache.get("refresh_token"):
        credentials["refresh_token"] = cache["refresh_token"]  # rotated by the platform
    return Target(
        id=destination.pk,
        kind=destination.kind,
        base_url=base_url.rstrip("/"),
        config=dict(destination.config),
        credentials=credentials,
        click_window_days=destination.click_window_days,
        tokens=tokens,
    )
