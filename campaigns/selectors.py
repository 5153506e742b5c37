"""Reads of the campaigns app. Every selector takes the account: that is the tenancy rule."""

import hashlib

from django.db.models import Prefetch, QuerySet

from campaigns.models import (
    Account,
    ApiKey,
    Campaign,
    DailyCost,
    Keyword,
    NumberPool,
    TrackingNumber,
)


def hash_key(raw_key: str) -> str:
    # API keys carry 192 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_for_secret(*, raw_key: str) -> ApiKey | None:
    """The key with this secret and its account, or None. Revoked keys are returned too:
    the caller decides how to say no."""
    return ApiKey.objects.select_related("account").filter(hashed_key=hash_key(raw_key)).first()


def campaigns(*, account: Account) -> QuerySet[Campaign]:
    return Campaign.objects.filter(account=account)


def keywords(*, account: Account) -> QuerySet[Keyword]:
    return Keyword.objects.filter(account=account).select_related("campaign")


def pools(*, account: Account) -> QuerySet[NumberPool]:
    numbers = TrackingNumber.objects.order_by("e164")
    return NumberPool.objects.filter(account=account).prefetch_related(
        Prefetch("numbers", queryset=numbers)
    )


def numbers(*, account: Account) -> QuerySet[TrackingNumber]:
    return TrackingNumber.objects.filter(account=account)


def costs(*, account: Account) -> QuerySet[DailyCost]:
    return DailyCost.objects.filter(account=account)


def accounts_of_user(*, user) -> QuerySet[Account]:
    """The accounts a staff user may see in the admin (all of them for a superuser)."""
    if user.is_superuser:
        return Account.objects.all()
    return Account.objects.filter(memberships__user=user)
