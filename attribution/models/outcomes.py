"""CRM outcomes: whether a call made money, and the history of every change to one."""

from django.db import models
from django.db.models import Q


class OutcomeStage(models.TextChoices):
    LEAD = "lead", "Lead"
    QUALIFIED = "qualified", "Qualified"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class MatchMethod(models.TextChoices):
    CALL = "call", "Named call"
    PHONE = "phone", "Caller phone"
    EMAIL = "email", "Email"
    UNMATCHED = "unmatched", "Unmatched"


class Outcome(models.Model):
    """A CRM's word on a call: a deal moving lead → qualified → won | lost, with its value."""

    Stage = OutcomeStage
    MatchMethod = MatchMethod

    account = models.ForeignKey(
        "campaigns.Account", on_delete=models.CASCADE, related_name="outcomes"
    )
    crm = models.CharField(max_length=40)
    external_id = models.CharField(max_length=120)
    call = models.ForeignKey(
        "calls.Call", on_delete=models.SET_NULL, null=True, blank=True, related_name="outcomes"
    )
    call_external_id = models.CharField(max_length=120, blank=True)
    caller_e164 = models.CharField(max_length=20, blank=True)
    caller_raw = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    stage = models.CharField(max_length=20, choices=Stage.choices)
    value = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    occurred_at = models.DateTimeField()
    match_method = models.CharField(
        max_length=20, choices=MatchMethod.choices, default=MatchMethod.UNMATCHED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "crm", "external_id"], name="outcome_crm_external_unique"
            ),
            models.CheckConstraint(
                condition=Q(stage__in=OutcomeStage.values), name="outcome_stage_valid"
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gte=0), name="outcome_value_non_negative"
            ),
        ]
        indexes = [
            models.Index(
                fields=["account", "caller_e164", "occurred_at"], name="outcome_caller_idx"
            ),
            models.Index(fields=["account", "occurred_at"], name="outcome_account_occurred_idx"),
            models.Index(
                fields=["account", "email"], condition=~Q(email=""), name="outcome_email_idx"
            ),
            # Outcomes waiting for their call: found again whenever a call arrives.
            models.Index(
                fields=["account", "caller_e164"],
                condition=Q(call__isnull=True),
                name="outcome_unmatched_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.crm}:{self.external_id} ({self.stage})"


class OutcomeChange(models.Model):
    """One change to an outcome, kept forever: who changed what, when, from what to what.
    `changes` maps each changed field to `[old, new]` (JSON values: decimals as strings)."""

    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE, related_name="changes")
    changed_at = models.DateTimeField()
    # Who: "api-key:<id> (<role>)", "staff:<username>", or "system" (matching a late call).
    actor = models.CharField(max_length=200)
    changes = models.JSONField()

    class Meta:
        indexes = [
            models.Index(fields=["outcome", "changed_at"], name="outcome_change_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome_id} @ {self.changed_at:%Y-%m-%d %H:%M} by {self.actor}"
