"""One row per audited act. Registered through `campaigns.models` (it imports this module)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ActorKind(models.TextChoices):
    API_KEY = "api_key", "API key"
    USER = "user", "Staff user"
    SYSTEM = "system", "System"


class AuditAction(models.TextChoices):
    READ = "read", "Read"
    EXPORT = "export", "Export"
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    ERASE = "erase", "Erase"
    ANONYMISE = "anonymise", "Anonymise"
    LOGIN = "login", "Log in"
    LOGIN_FAILED = "login_failed", "Failed log-in"


class AuditEvent(models.Model):
    """Who did what to which resource of an account, when and from where.

    It never holds personal data itself: `detail` names ids, counts, filters and the changed
    field names, not the values, and an erasure request is stored by its hashes. `actor_label`
    keeps the key prefix or username, so the trail stays readable after the key or user is gone."""

    account = models.ForeignKey(
        "campaigns.Account",
        on_delete=models.CASCADE,
        related_name="audit_events",
        null=True,
        blank=True,
        help_text="Empty for acts outside any account (a failed admin log-in).",
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    api_key = models.ForeignKey(
        "campaigns.ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    resource = models.CharField(max_length=60, help_text="e.g. calls, outcomes, account")
    object_id = models.CharField(max_length=64, blank=True)
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=500, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(actor_kind__in=ActorKind.values), name="audit_actor_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(action__in=AuditAction.values), name="audit_action_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["account", "-occurred_at"], name="audit_account_time_idx"),
            models.Index(
                fields=["account", "resource", "-occurred_at"], name="audit_resource_time_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label or self.actor_kind} {self.action} {self.resource}"
