"""Attribution credits: each touchpoint of a call's journey with the share of the call every
attribution model gives it (PRODUCT.md, "Touchpoints and models")."""

from django.db import models
from django.db.models import Q


class AttributionModel(models.TextChoices):
    LAST_TOUCH = "last_touch", "Last touch"
    FIRST_TOUCH = "first_touch", "First touch"
    LINEAR = "linear", "Linear"
    TIME_DECAY = "time_decay", "Time decay (7-day half-life)"
    POSITION_BASED = "position_based", "Position based (40/20/40)"
    DATA_DRIVEN = "data_driven", "Data driven (Markov removal effect)"


# 15 decimal places: a share such as 1/3 is stored to 1e-15 and the last digit of one touch
# per call absorbs the remainder, so each call's credits add up to exactly 1 in SQL too.
CREDIT_PLACES = 15


def credit_field() -> models.DecimalField:
    return models.DecimalField(max_digits=CREDIT_PLACES + 1, decimal_places=CREDIT_PLACES)


class Touchpoint(models.Model):
    """One touch of a call's journey, oldest first (`position` 0), the call's own session last;
    a call without a session has one touch, its campaign (or none: Unattributed). One column
    per model holds the share of the call this touch gets; per call and model they sum to 1.

    One row per touch rather than per (touch, model): six times fewer rows to write when the
    whole account is recomputed, and a report picks its model's column."""

    # A derived table, rebuilt in bulk (attribution.credits): no foreign-key constraints and
    # no single-column indexes in the database. FK checks lock every referenced call, session,
    # campaign and keyword row (FOR KEY SHARE) and cost 30 µs a row against 10 for the write
    # itself; the random UUIDs of a session index cost half the write again (bench/credits.py,
    # 1.6M rows). Rows are written from a join of those rows in the same transaction, every
    # recompute replaces a call's rows whole, and Django's collector still applies on_delete
    # (found through touchpoint_unique for a call, touchpoint_campaign_idx for an account or a
    # campaign; a session or keyword being deleted is a scan, which only happens with its
    # account or the demo's reload).
    account = models.ForeignKey(
        "campaigns.Account",
        on_delete=models.CASCADE,
        related_name="touchpoints",
        db_constraint=False,
        db_index=False,
    )
    call = models.ForeignKey(
        "calls.Call",
        on_delete=models.CASCADE,
        related_name="touchpoints",
        db_constraint=False,
        db_index=False,
    )
    position = models.PositiveSmallIntegerField()
    session = models.ForeignKey(
        "attribution.VisitorSession",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="touchpoints",
        db_constraint=False,
        db_index=False,
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="touchpoints",
        db_constraint=False,
        db_index=False,
    )
    keyword = models.ForeignKey(
        "campaigns.Keyword",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="touchpoints",
        db_constraint=False,
        db_index=False,
    )
    touched_at = models.DateTimeField(help_text="The session's start (the call's, without one).")
    last_touch = credit_field()
    first_touch = credit_field()
    linear = credit_field()
    time_decay = credit_field()
    position_based = credit_field()
    data_driven = credit_field()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["call", "position"], name="touchpoint_unique"),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{name}__gte": 0, f"{name}__lte": 1}),
                    name=f"touchpoint_{name}_share",
                )
                for name in AttributionModel.values
            ),
        ]
        indexes = [
            models.Index(fields=["account", "campaign"], name="touchpoint_campaign_idx"),
        ]

    def __str__(self) -> str:
        return f"call {self.call_id} touch {self.position}"


class RemovalEffect(models.Model):
    """The data-driven model's current removal effect of one campaign of an account (campaign
    null: Unattributed), computed over the account's journeys of the trailing 90 days
    (attribution.credits.markov). Replaced whole by each bulk recompute; the per-call path
    reads these. A campaign missing here has effect 0."""

    account = models.ForeignKey(
        "campaigns.Account", on_delete=models.CASCADE, related_name="removal_effects"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="removal_effects",
    )
    effect = credit_field()
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "campaign"],
                nulls_distinct=False,
                name="removal_effect_unique",
            ),
            models.CheckConstraint(
                condition=Q(effect__gte=0, effect__lte=1), name="removal_effect_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id or 'Unattributed'}: {self.effect}"
