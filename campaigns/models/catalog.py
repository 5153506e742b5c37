"""What an advertiser configures: campaigns, keywords, number pools and tracking numbers."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from campaigns import call_flow
from campaigns.models.accounts import Account


class Channel(models.TextChoices):
    PAID_SEARCH = "paid_search", "Paid search"
    PAID_SOCIAL = "paid_social", "Paid social"
    DISPLAY = "display", "Display"
    EMAIL = "email", "Email"
    OFFLINE = "offline", "Offline"
    ORGANIC = "organic", "Organic"
    REFERRAL = "referral", "Referral"
    DIRECT = "direct", "Direct"
    OTHER = "other", "Other"


def _bounded(bounds: call_flow.Bounds) -> list:
    return [MinValueValidator(bounds.low), MaxValueValidator(bounds.high)]


def _within(field: str, bounds: call_flow.Bounds) -> Q:
    return Q(**{f"{field}__gte": bounds.low, f"{field}__lte": bounds.high})


class Campaign(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    source = models.CharField(max_length=100, blank=True)
    medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    forward_to = models.CharField(max_length=20, blank=True, help_text="E.164")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Call flow: how calls to the campaign's numbers are forwarded (campaigns.call_flow).
    ring_timeout_seconds = models.PositiveSmallIntegerField(
        default=call_flow.RING_TIMEOUT.default,
        validators=_bounded(call_flow.RING_TIMEOUT),
        help_text="How long the business's phone rings before the call counts as unanswered.",
    )
    recording_mode = models.CharField(
        max_length=30, choices=call_flow.RecordingMode.choices, default=call_flow.DEFAULT_RECORDING
    )
    caller_id_mode = models.CharField(
        max_length=10,
        choices=call_flow.CallerIdMode.choices,
        default=call_flow.DEFAULT_CALLER_ID,
        help_text="The number the business's phone shows.",
    )
    whisper_message = models.CharField(
        max_length=call_flow.MESSAGE_MAX_LENGTH,
        blank=True,
        help_text="Said to the business when it answers, before the caller is connected.",
    )
    voicemail_enabled = models.BooleanField(
        default=True, help_text="Offer voicemail when nobody answers; else say goodbye."
    )
    voicemail_max_seconds = models.PositiveSmallIntegerField(
        default=call_flow.VOICEMAIL_LENGTH.default,
        validators=_bounded(call_flow.VOICEMAIL_LENGTH),
        help_text="The longest message a caller may leave.",
    )
    voicemail_prompt = models.CharField(
        max_length=call_flow.MESSAGE_MAX_LENGTH, blank=True, default=call_flow.VOICEMAIL_PROMPT
    )
    unavailable_message = models.CharField(
        max_length=call_flow.MESSAGE_MAX_LENGTH,
        blank=True,
        default=call_flow.UNAVAILABLE_MESSAGE,
        help_text="Said before hanging up when nobody answers and voicemail is off, "
        "or when the campaign has no forward_to.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="campaign_name_unique"),
            # utm_campaign is how a landing URL finds its campaign: it must be unambiguous.
            models.UniqueConstraint(
                fields=["account", "utm_campaign"],
                condition=~Q(utm_campaign=""),
                name="campaign_utm_unique",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="campaign_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(forward_to="") | Q(forward_to__regex=r"^\+[1-9][0-9]{6,14}$"),
                name="campaign_forward_to_e164",
            ),
            models.CheckConstraint(
                condition=_within("ring_timeout_seconds", call_flow.RING_TIMEOUT),
                name="campaign_ring_timeout_range",
            ),
            models.CheckConstraint(
                condition=Q(recording_mode__in=call_flow.RecordingMode.values),
                name="campaign_recording_mode_valid",
            ),
            models.CheckConstraint(
                condition=Q(caller_id_mode__in=call_flow.CallerIdMode.values),
                name="campaign_caller_id_mode_valid",
            ),
            models.CheckConstraint(
                condition=_within("voicemail_max_seconds", call_flow.VOICEMAIL_LENGTH),
                name="campaign_voicemail_length_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Keyword(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="keywords")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="keywords")
    text = models.CharField(max_length=200)
    utm_term = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "text"], name="keyword_text_unique"),
        ]
        indexes = [models.Index(fields=["account", "utm_term"], name="keyword_utm_term_idx")]

    def __str__(self) -> str:
        return self.text


class NumberPool(models.Model):
    """Tracking numbers handed out to website sessions of one campaign (or one keyword)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="pools")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="pools")
    keyword = models.ForeignKey(
        Keyword, on_delete=models.PROTECT, null=True, blank=True, related_name="pools"
    )
    name = models.CharField(max_length=200, blank=True)
    idle_timeout_seconds = models.PositiveIntegerField(default=1800)
    # After a session goes idle its lease keeps covering calls for this long, until the number
    # is handed to another session: a visitor who calls some minutes after leaving is still
    # joined to their visit. Free-longest-first hands such a number out last.
    grace_seconds = models.PositiveIntegerField(
        default=1800,
        help_text="How long after a session ends its number still attributes calls to it, "
        "unless the number is handed out again first (0: not at all).",
    )
    is_default = models.BooleanField(
        default=False, help_text="Serves traffic that matches no campaign."
    )
    recommended_size = models.PositiveIntegerField(
        null=True, blank=True, help_text="Erlang B size for <1% blocking at the observed load."
    )
    # The load behind recommended_size, refreshed by a periodic task (attribution.dni.sizing).
    peak_hour_sessions = models.FloatField(null=True, blank=True)
    mean_holding_seconds = models.FloatField(null=True, blank=True)
    blocking_probability = models.FloatField(
        null=True, blank=True, help_text="Erlang B blocking at the current size and load."
    )
    exhaustion_rate = models.FloatField(
        null=True, blank=True, help_text="Share of recent sessions that had to share a number."
    )
    sized_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "keyword"], nulls_distinct=False, name="pool_target_unique"
            ),
            models.UniqueConstraint(
                fields=["account"], condition=Q(is_default=True), name="pool_one_default"
            ),
            models.CheckConstraint(
                condition=Q(idle_timeout_seconds__gte=60, idle_timeout_seconds__lte=86400),
                name="pool_idle_timeout_range",
            ),
            models.CheckConstraint(condition=Q(grace_seconds__lte=86400), name="pool_grace_range"),
        ]

    def __str__(self) -> str:
        return self.name or f"Pool {self.pk}"


class TrackingNumber(models.Model):
    """A phone number we own. Static numbers name their campaign; pool numbers their pool, and
    carry the pool's campaign too so a call finds its campaign with one lookup."""

    class Kind(models.TextChoices):
        STATIC = "static", "Static"
        POOL = "pool", "Pool"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="numbers")
    e164 = models.CharField(max_length=20, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="numbers"
    )
    pool = models.ForeignKey(
        NumberPool, on_delete=models.PROTECT, null=True, blank=True, related_name="numbers"
    )
    provider = models.CharField(max_length=40, default="twilio")
    provider_sid = models.CharField(max_length=64, blank=True)
    active = models.BooleanField(default=True)
    # End of this pool number's latest exclusive lease: allocation picks the number free
    # longest by this column alone (the leases themselves stay the truth, see NumberAssignment).
    lease_ends_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="static", pool__isnull=True, campaign__isnull=False)
                    | Q(kind="pool", pool__isnull=False, campaign__isnull=False)
                ),
                name="number_kind_target",
            ),
            models.CheckConstraint(
                condition=Q(e164__regex=r"^\+[1-9][0-9]{6,14}$"), name="number_e164"
            ),
        ]
        indexes = [
            models.Index(fields=["pool", "active"], name="number_pool_active_idx"),
            # The allocation query's order (free longest first, never-used first): one index
            # scan instead of sorting the pool on every new session.
            models.Index(
                F("pool"),
                F("lease_ends_at").asc(nulls_first=True),
                F("id"),
                condition=Q(active=True),
                name="number_pool_free_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.e164
