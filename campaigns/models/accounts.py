"""Accounts, their API keys and staff members, their roles, and stored idempotent answers."""

import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from campaigns.crypto import EncryptedTextField


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    INTEGRATION = "integration", "Integration"
    REPORTING = "reporting", "Reporting"
    FINANCE = "finance", "Finance"


def new_public_key() -> str:
    return "pk_" + secrets.token_urlsafe(18)


class Account(models.Model):
    """An advertiser. Currency, time zone and phone region govern every figure and number."""

    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, default="USD")
    time_zone = models.CharField(max_length=64, default="UTC")
    region = models.CharField(max_length=2, default="US", help_text="Default phone region.")
    allowed_origins = ArrayField(models.CharField(max_length=255), default=list, blank=True)
    public_key = models.CharField(max_length=40, unique=True, default=new_public_key)
    # Encrypted at rest (campaigns.crypto): a dump of the database cannot sign Twilio webhooks.
    twilio_auth_token = EncryptedTextField(max_length=128, blank=True)
    lookback_days = models.PositiveSmallIntegerField(default=30)
    match_window_days = models.PositiveSmallIntegerField(default=30)
    retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Calls and sessions older than this many days are anonymised (empty: kept).",
    )
    is_demo = models.BooleanField(
        default=False, help_text="Made by `loaddemo`, which replaces it on every run."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="account_currency_iso"
            ),
            models.CheckConstraint(
                condition=Q(lookback_days__gte=1, lookback_days__lte=365),
                name="account_lookback_range",
            ),
            models.CheckConstraint(
                condition=Q(match_window_days__gte=1, match_window_days__lte=365),
                name="account_match_window_range",
            ),
            models.CheckConstraint(
                condition=Q(retention_days__isnull=True)
                | Q(retention_days__gte=30, retention_days__lte=3650),
                name="account_retention_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A bearer key. Only a SHA-256 of the secret is stored; the key is shown once."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices)
    prefix = models.CharField(max_length=16, help_text="Shown to tell keys apart.")
    hashed_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="api_key_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.role})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Membership(models.Model):
    """Links a staff user to the accounts whose data they may see in the admin."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    # What the user may see of the account in the admin, as an API key's role says it for the
    # API: a `reporting` or `finance` member sees caller numbers and recordings masked.
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ADMIN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "account"], name="membership_unique"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.account}"


class IdempotencyKey(models.Model):
    """The first response to a POST sent with an `Idempotency-Key`, replayed to a retry of the
    same request for 24 hours (campaigns.idempotency). Written in the request's own transaction,
    so a key is stored exactly when its request's effects are."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="idempotency_keys")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    # SHA-256 of the method, the path and the request's JSON body in canonical form.
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    # The rendered body, byte for byte (jsonb would reorder its keys).
    response_body = models.TextField()
    content_type = models.CharField(max_length=100)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="idempotency_key_unique"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_created_idx")]

    def __str__(self) -> str:
        return f"{self.key} ({self.method} {self.path})"
