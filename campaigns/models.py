"""Who advertises what, and where the phone numbers come from.

Every tenant row carries its `account` directly (not only through a parent) so that one
mechanism — filtering on `account` — scopes every query, and every report can use an
`(account, …)` index without a join.
"""

import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from campaigns import call_flow
from campaigns.crypto import EncryptedTextField


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


class DailyCost(models.Model):
    """Spend of one campaign (or one of its keywords) on one day of the account's calendar."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="costs")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="costs")
    keyword = models.ForeignKey(
        Keyword, on_delete=models.PROTECT, null=True, blank=True, related_name="costs"
    )
    date = models.DateField()
    amount = models.DecimalField(max_digits=16, decimal_places=4)
    currency = models.CharField(max_length=3)
    clicks = models.PositiveIntegerField(default=0)
    impressions = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "keyword", "date"],
                nulls_distinct=False,
                name="cost_campaign_keyword_date_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="cost_amount_non_negative"),
        ]
        indexes = [models.Index(fields=["account", "date"], name="cost_account_date_idx")]

    def __str__(self) -> str:
        return f"{self.campaign} {self.date}: {self.amount} {self.currency}"


class CrmStageMapping(models.Model):
    """One of the account's own CRM pipeline stages (a HubSpot stage id such as `12345678`, a
    Salesforce `StageName`) mapped onto an outcome stage, over the adapters' defaults."""

    class Crm(models.TextChoices):
        HUBSPOT = "hubspot", "HubSpot"
        SALESFORCE = "salesforce", "Salesforce"

    # The outcome stages (attribution.models.OutcomeStage), named here so that this app does
    # not depend on attribution.
    STAGES = (("lead", "Lead"), ("qualified", "Qualified"), ("won", "Won"), ("lost", "Lost"))

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="crm_stage_mappings"
    )
    crm = models.CharField(max_length=20, choices=Crm.choices)
    crm_stage = models.CharField(max_length=120)
    stage = models.CharField(max_length=20, choices=STAGES)

    class Meta:
        verbose_name = "CRM stage mapping"
        constraints = [
            models.UniqueConstraint(
                fields=["account", "crm", "crm_stage"], name="crm_stage_mapping_unique"
            ),
            models.CheckConstraint(
                condition=Q(crm__in=["hubspot", "salesforce"]), name="crm_stage_mapping_crm"
            ),
            models.CheckConstraint(
                condition=Q(stage__in=["lead", "qualified", "won", "lost"]),
                name="crm_stage_mapping_stage",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.crm} {self.crm_stage} → {self.stage}"


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


# The audit trail lives in its own module; importing it here registers the model with the app.
from campaigns.audit.models import AuditEvent  # noqa: E402, F401
