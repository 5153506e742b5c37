"""Visitor sessions and the number leases that tie a call to one of them (DNI)."""

import uuid

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.contrib.postgres.indexes import GistIndex
from django.db import models
from django.db.models import Func, Q
from django.db.models.functions import Coalesce


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class VisitorSession(models.Model):
    """One visit to the advertiser's site, classified to a campaign and keyword on arrival.

    The id is a random UUID: the snippet sends it back to renew the lease, so it must not be
    guessable (a guessed id would let a stranger hold someone else's number)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(
        "campaigns.Account", on_delete=models.CASCADE, related_name="sessions"
    )
    # The browser's first-party visitor id: it joins a visitor's sessions into one journey.
    # NULL when the visitor gave no consent to storing one (docs/dni.md, "Consent"): the session
    # is then a journey of its own, linked to nothing (readers must not group NULLs together).
    visitor_id = models.CharField(max_length=64, null=True, blank=True)
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sessions",
    )
    keyword = models.ForeignKey(
        "campaigns.Keyword",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sessions",
    )
    channel = models.CharField(max_length=20, blank=True)
    landing_url = models.TextField()
    referrer = models.TextField(blank=True)
    gclid = models.CharField(max_length=255, blank=True)
    gbraid = models.CharField(max_length=255, blank=True)
    wbraid = models.CharField(max_length=255, blank=True)
    msclkid = models.CharField(max_length=255, blank=True)
    fbclid = models.CharField(max_length=255, blank=True)
    utm_source = models.CharField(max_length=255, blank=True)
    utm_medium = models.CharField(max_length=255, blank=True)
    utm_campaign = models.CharField(max_length=255, blank=True)
    utm_term = models.CharField(max_length=255, blank=True)
    utm_content = models.CharField(max_length=255, blank=True)
    user_agent = models.TextField(blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    is_bot = models.BooleanField(default=False)
    email = models.EmailField(blank=True, help_text="When the site identifies the visitor.")
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    # Until when a renewal keeps this session (and its number); later, the visitor starts anew.
    expires_at = models.DateTimeField()
    # Each renewal pushes expires_at this far ahead: the pool's idle timeout at the start.
    idle_timeout_seconds = models.PositiveIntegerField(default=1800)

    class Meta:
        indexes = [
            models.Index(fields=["account", "started_at"], name="session_account_started_idx"),
            models.Index(
                fields=["account", "visitor_id", "started_at"], name="session_visitor_idx"
            ),
            models.Index(
                fields=["account", "email"], condition=~Q(email=""), name="session_email_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_seen_at__gte=models.F("started_at")),
                name="session_seen_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.visitor_id or 'no visitor id'} @ {self.started_at:%Y-%m-%d %H:%M}"


# Until when a lease attributes calls: its grace end, else its end.
COVERED_UNTIL = Coalesce("grace_ends_at", "ends_at")
# The same as SQL, for the hand-written statements (calls/backfill_sql.py, dni/leases.py).
COVERED_UNTIL_SQL = "COALESCE({a}.grace_ends_at, {a}.ends_at)"


class NumberAssignment(models.Model):
    """A lease of one pool number to one session over [starts_at, ends_at).

    PostgreSQL refuses two overlapping non-overflow leases of one number (the exclusion
    constraint below), so no allocation race can hand a number to two live sessions. Overflow
    leases — shared because the pool was exhausted — are exempt by design and flagged.

    A lease covers calls over [starts_at, grace_ends_at): past its end, for the pool's grace,
    until the number is handed to another session (the allocation cuts the grace short then).
    `grace_ends_at` NULL means no grace (leases written in bulk)."""

    account = models.ForeignKey(
        "campaigns.Account", on_delete=models.CASCADE, related_name="assignments"
    )
    number = models.ForeignKey(
        "campaigns.TrackingNumber", on_delete=models.PROTECT, related_name="assignments"
    )
    pool = models.ForeignKey(
        "campaigns.NumberPool", on_delete=models.PROTECT, related_name="assignments"
    )
    session = models.ForeignKey(
        VisitorSession, on_delete=models.CASCADE, related_name="assignments"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    grace_ends_at = models.DateTimeField(null=True, blank=True)
    overflow = models.BooleanField(default=False)
    # Set by the periodic sweep once the lease is over; bookkeeping only (liveness is ends_at).
    released = models.BooleanField(default=False)

    class Meta:
        constraints = [
            ExclusionConstraint(
                name="assignment_no_overlap",
                expressions=[
                    ("number", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=Q(overflow=False),
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="assignment_positive_span"
            ),
            models.CheckConstraint(
                condition=Q(grace_ends_at__isnull=True) | Q(grace_ends_at__gte=models.F("ends_at")),
                name="assignment_grace_after_end",
            ),
        ]
        indexes = [
            models.Index(fields=["number", "starts_at"], name="assignment_number_start_idx"),
            # "Which leases of this number covered instant t" (attributing a call), grace and
            # overflow leases included: the exclusion constraint's index leaves those out, and
            # a btree on (number, starts_at) walks the number's whole history before t.
            GistIndex(
                models.F("number"),
                TsTzRange("starts_at", COVERED_UNTIL, RangeBoundary()),
                name="assignment_number_cover_idx",
            ),
            models.Index(fields=["pool", "ends_at"], name="assignment_pool_end_idx"),
            models.Index(fields=["session", "ends_at"], name="assignment_session_end_idx"),
            models.Index(
                fields=["ends_at"], condition=Q(released=False), name="assignment_unreleased_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number_id} → {self.session_id}"


class PoolExhaustion(models.Model):
    """How many sessions of one pool, in one hour, found every number busy and had to share."""

    account = models.ForeignKey(
        "campaigns.Account", on_delete=models.CASCADE, related_name="pool_exhaustions"
    )
    pool = models.ForeignKey(
        "campaigns.NumberPool", on_delete=models.CASCADE, related_name="exhaustions"
    )
    hour = models.DateTimeField(help_text="Start of the hour, UTC.")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pool", "hour"], name="pool_exhaustion_hour_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.pool_id} {self.hour:%Y-%m-%d %H}:00 ×{self.count}"
