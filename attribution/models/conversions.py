"""Offline conversions: where they go (destinations and their rules) and the outbox of what is
to be, or was, sent. The outbox row is written in the transaction that made the conversion
happen; Celery workers only deliver what the rows say (STYLE.md rule 7)."""

from django.db import models
from django.db.models import Q

from attribution.models.outcomes import OutcomeStage
from campaigns.crypto import EncryptedJSONField


class DestinationKind(models.TextChoices):
    GOOGLE_DATA_MANAGER = "google_data_manager", "Google (Data Manager API)"
    GOOGLE_ADS = "google_ads", "Google Ads API (allow-listed customers)"
    META = "meta", "Meta Conversions API"
    MICROSOFT_ADS = "microsoft_ads", "Microsoft Advertising"
    WEBHOOK = "webhook", "Signed webhook"


class Destination(models.Model):
    """One connection of an account to an ad platform or a webhook."""

    Kind = DestinationKind

    account = models.ForeignKey(
        "campaigns.Account", on_delete=models.CASCADE, related_name="destinations"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    enabled = models.BooleanField(default=True)
    base_url = models.URLField(
        blank=True, help_text="Empty: the platform's own (CONVERSIONS_BASE_URLS setting)."
    )
    # Non-secret platform settings (customer id, pixel id, webhook URL, consent, …): returned
    # by the API. Secrets live in `credentials`, which nothing ever returns or logs.
    config = models.JSONField(default=dict, blank=True)
    # Both encrypted at rest (campaigns.crypto): a dump of the database holds no usable secret.
    credentials = EncryptedJSONField(default=dict, blank=True)
    # An OAuth access token and its expiry (Google, Microsoft), refreshed as needed.
    token_cache = EncryptedJSONField(default=dict, blank=True)
    click_window_days = models.PositiveSmallIntegerField(
        default=90, help_text="Clicks older than this at conversion time are skipped."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="destination_name_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=DestinationKind.values), name="destination_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(click_window_days__gte=1) & Q(click_window_days__lte=540),
                name="destination_click_window_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class ConversionTrigger(models.TextChoices):
    LEAD = OutcomeStage.LEAD.value, "Outcome reached lead"
    QUALIFIED = OutcomeStage.QUALIFIED.value, "Outcome reached qualified"
    WON = OutcomeStage.WON.value, "Outcome reached won"
    LOST = OutcomeStage.LOST.value, "Outcome reached lost"
    ANSWERED_CALL = "answered_call", "Answered call at least N seconds long"


class ValueRule(models.TextChoices):
    OUTCOME = "outcome", "The outcome's value"
    FIXED = "fixed", "A fixed value"
    NONE = "none", "No value"


class ConversionRule(models.Model):
    """What a destination is told when: a trigger onto the platform's conversion action (Google
    action id, Meta event name, Microsoft goal name, webhook event type) and its value."""

    Trigger = ConversionTrigger
    Value = ValueRule

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="rules")
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    min_talk_seconds = models.PositiveIntegerField(
        default=0, help_text="answered_call only: the shortest talk time that counts."
    )
    action = models.CharField(max_length=255)
    upload = models.CharField(
        max_length=10,
        choices=[("click", "Click conversion"), ("call", "Call conversion")],
        default="click",
        help_text="Google Ads API only: uploadClickConversions or uploadCallConversions.",
    )
    value = models.CharField(max_length=10, choices=Value.choices, default=Value.OUTCOME)
    fixed_value = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["destination", "trigger", "action"], name="conversion_rule_unique"
            ),
            models.CheckConstraint(
                condition=Q(trigger__in=ConversionTrigger.values),
                name="conversion_rule_trigger_valid",
            ),
            models.CheckConstraint(
                condition=~Q(value=ValueRule.FIXED) | Q(fixed_value__gte=0),
                name="conversion_rule_fixed_value_given",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trigger} → {self.action}"


class ConversionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    RETRY = "retry", "Retry"
    SKIPPED = "skipped", "Skipped"
    DEAD = "dead", "Dead"


# Rows the sweeper may claim once `next_attempt_at` has passed (a `sending` row whose claim has
# lapsed belongs to a worker that died).
DUE_STATUSES = (ConversionStatus.PENDING, ConversionStatus.RETRY, ConversionStatus.SENDING)


class Conversion(models.Model):
    """One row of the outbox: one conversion for one destination."""

    Status = ConversionStatus

    # Both are the first column of composite indexes below; no single-column ones.
    account = models.ForeignKey(
        "campaigns.Account", on_delete=models.CASCADE, related_name="conversions", db_index=False
    )
    destination = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="conversions", db_index=False
    )
    rule = models.ForeignKey(
        ConversionRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome = models.ForeignKey(
        "attribution.Outcome",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversions",
    )
    call = models.ForeignKey(
        "calls.Call", on_delete=models.SET_NULL, null=True, blank=True, related_name="conversions"
    )
    trigger = models.CharField(max_length=20, choices=ConversionTrigger.choices)
    action = models.CharField(max_length=255)
    restatement = models.BooleanField(
        default=False, help_text="A corrected value for a conversion already sent."
    )
    dedup_key = models.CharField(max_length=64)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=False
    )
    value = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    occurred_at = models.DateTimeField()
    payload = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the sweeper may next take it; a claim pushes it past the claim's lease, so a row
    # whose worker died is due again once the lease lapses (no separate lock column).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error_code = models.CharField(max_length=100, blank=True)
    last_error_message = models.TextField(blank=True)
    skip_reason = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # The platform's deduplication key is ours too: a re-saved outcome, a replayed
            # webhook or two racing workers can never make a second row.
            models.UniqueConstraint(
                fields=["destination", "dedup_key"], name="conversion_dedup_unique"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ConversionStatus.values), name="conversion_status_valid"
            ),
        ]
        indexes = [
            # The sweeper's claim: due rows of one destination in claim order (due time, then
            # id), so a claim reads its LIMIT off the index instead of sorting the backlog.
            models.Index(
                fields=["destination", "next_attempt_at", "id"],
                condition=Q(status__in=DUE_STATUSES),
                name="conversion_due_idx",
            ),
            models.Index(fields=["account", "-id"], name="conversion_account_idx"),
            models.Index(fields=["destination", "status"], name="conversion_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.dedup_key} → {self.destination_id} ({self.status})"
