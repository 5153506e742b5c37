"""What the phone network tells us: one row per inbound call, from any provider."""

from django.db import models
from django.db.models import Q


class CallStatus(models.TextChoices):
    RINGING = "ringing", "Ringing"
    IN_PROGRESS = "in_progress", "In progress"
    ANSWERED = "answered", "Answered"
    MISSED = "missed", "Missed"
    ABANDONED = "abandoned", "Abandoned"
    BUSY = "busy", "Busy"
    FAILED = "failed", "Failed"
    VOICEMAIL = "voicemail", "Voicemail"


class Confidence(models.TextChoices):
    """How a call was tied to its campaign (PRODUCT.md, "Attribution of a call")."""

    STATIC = "static", "Static number"
    EXACT = "exact", "Exact session"
    AMBIGUOUS = "ambiguous", "Shared number (ambiguous)"
    SOURCE = "source", "Pool campaign only"
    NONE = "none", "None"


class SpamReason(models.TextChoices):
    BLOCKLIST = "blocklist", "Caller on the blocklist"
    USER = "user", "Marked by a user or the API"
    AUTO = "auto", "Burst of short calls"
    CLEARED = "cleared", "Unmarked by a user"  # the automatic rule leaves it alone from then on


class BlockedNumber(models.Model):
    """A caller the account never wants counted: their calls are spam."""

    account = models.ForeignKey(
        "campaigns.Account", on_delete=models.CASCADE, related_name="blocked_numbers"
    )
    e164 = models.CharField(max_length=20)
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "e164"], name="blocked_number_unique"),
            models.CheckConstraint(
                condition=Q(e164__regex=r"^\+[1-9][0-9]{6,14}$"), name="blocked_number_e164"
            ),
        ]

    def __str__(self) -> str:
        # No number, as for Call: admin titles, checkboxes and django_admin_log show this text.
        return f"Blocked number #{self.pk}"


class Call(models.Model):
    # No single-column indexes on account and tracking_number: the composite indexes below start
    # with them, and every index is paid on each of millions of inserts.
    account = models.ForeignKey(
        "campaigns.Account", on_delete=models.CASCADE, related_name="calls", db_index=False
    )
    provider = models.CharField(max_length=40)
    external_id = models.CharField(max_length=120)
    tracking_number = models.ForeignKey(
        "campaigns.TrackingNumber",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
        db_index=False,
    )
    tracking_e164 = models.CharField(max_length=20, help_text="The dialled number, E.164.")
    # A withheld or invalid caller ID is stored as no number, its raw text kept (PRODUCT.md).
    caller_e164 = models.CharField(max_length=20, blank=True)
    caller_raw = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField()
    duration_seconds = models.PositiveIntegerField(default=0)
    talk_seconds = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=CallStatus.choices)
    recording_url = models.URLField(max_length=500, blank=True)
    agent = models.CharField(max_length=120, blank=True)
    transferred = models.BooleanField(default=False)
    spam = models.BooleanField(default=False)
    spam_reason = models.CharField(max_length=20, choices=SpamReason.choices, blank=True)
    session = models.ForeignKey(
        "attribution.VisitorSession",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, null=True, blank=True, related_name="calls"
    )
    keyword = models.ForeignKey(
        "campaigns.Keyword", on_delete=models.PROTECT, null=True, blank=True, related_name="calls"
    )
    confidence = models.CharField(
        max_length=20, choices=Confidence.choices, default=Confidence.NONE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "provider", "external_id"], name="call_provider_external_unique"
            ),
            models.CheckConstraint(
                condition=Q(status__in=CallStatus.values), name="call_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(confidence__in=Confidence.values), name="call_confidence_valid"
            ),
            models.CheckConstraint(
                condition=Q(talk_seconds__isnull=True)
                | Q(talk_seconds__lte=models.F("duration_seconds")),
                name="call_talk_within_duration",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "started_at"], name="call_account_started_idx"),
            models.Index(
                fields=["account", "caller_e164", "started_at"], name="call_caller_started_idx"
            ),
            models.Index(fields=["tracking_number", "started_at"], name="call_number_started_idx"),
            # Twilio's callbacks name a call by CallSid alone, before we know its account.
            models.Index(fields=["provider", "external_id"], name="call_provider_external_idx"),
        ]

    def __str__(self) -> str:
        # No caller number: this text lands in admin titles, links to the call from outcomes
        # and conversions, and django_admin_log rows kept forever, where masking for
        # `reporting` members (campaigns.masking) and erasure cannot reach it.
        return f"Call {self.pk} to {self.tracking_e164}"
