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

    account = models.ForeignKey(
        "campaigns.Account", on_delete=models.CASCADE, related_name="touchpoints"
    )
    call = models.ForeignKey("calls.Call", on_delete=models.CASCADE, related_name="touchpoints")
    position = models.PositiveSmallIntegerField()
    session = models.ForeignKey(
        "attribution.VisitorSession",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="touchpoints",
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="touchpoints",
    )
    keyword = models.ForeignKey(
        "campaigns.Keyword",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="touchpoints",
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
