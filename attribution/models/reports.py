"""Report rollups: derived tables the reports read instead of the raw rows, kept current by
attribution.reports.rollups (the design is in that module's docstring).

Every table here is derived and rebuilt from calls, touchpoints, outcomes and costs: no
foreign-key constraints (a constraint would lock the referenced rows on every refresh, and
the refresh already reads them in the same transaction), indexes that lead with the account.
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now

from attribution.reports.groups import MODELS


def _derived_fk(to: str, *, on_delete=models.DO_NOTHING, null: bool = True) -> models.ForeignKey:
    return models.ForeignKey(
        to,
        on_delete=on_delete,
        null=null,
        blank=null,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )


def _figure_fields() -> dict[str, models.Field]:
    """Per attribution model: calls, answered, qualified, conversions (Σ credit, 15 places)
    and revenue (Σ credit × value, 19 places). Fixed scales wide enough that every sum is
    exact: the database never rounds a rollup."""
    fields: dict[str, models.Field] = {}
    for model in MODELS:
        for figure in ("calls", "answered", "qualified", "conversions"):
            fields[f"{figure}_{model}"] = models.DecimalField(
                max_digits=30, decimal_places=15, default=0
            )
        fields[f"revenue_{model}"] = models.DecimalField(
            max_digits=40, decimal_places=19, default=0
        )
    return fields


RollupFigures = type(
    "RollupFigures",
    (models.Model,),
    {
        "__module__": __name__,
        "Meta": type("Meta", (), {"abstract": True}),
        # Σ spend of the day; NULL when the group has no cost record (a campaign with a cost
        # record has a report row even at 0 spend and no calls).
        "cost": models.DecimalField(max_digits=24, decimal_places=4, null=True, blank=True),
        **_figure_fields(),
    },
)


class RollupDirtyDay(models.Model):
    """A change to the figures of one local day of an account, not yet rolled up: written by
    the database's own triggers on calls, outcomes, touchpoints, costs, campaigns and accounts
    (migration 0008), in the writer's transaction. `day` NULL: the whole account (its time
    zone changed). An append-only log: the refresh deletes the rows it has taken."""

    account_id = models.BigIntegerField()  # no FK: also logged while an account is deleted
    day = models.DateField(null=True, blank=True)
    logged_at = models.DateTimeField(db_default=Now())

    class Meta:
        indexes = [models.Index(fields=["account_id", "day"], name="rollup_dirty_account_day")]

    def __str__(self) -> str:
        return f"account {self.account_id} {self.day or 'all days'}"


class RollupKeywordDay(RollupFigures):
    """Σ per account × local day × campaign × keyword (NULL campaign: Unattributed; NULL
    keyword: the campaign's calls and spend without one), every model in its own columns."""

    account = _derived_fk("campaigns.Account", on_delete=models.CASCADE, null=False)
    day = models.DateField()
    campaign = _derived_fk("campaigns.Campaign")
    keyword = _derived_fk("campaigns.Keyword")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "day", "campaign", "keyword"],
                nulls_distinct=False,
                name="rollup_keyword_day_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} campaign {self.campaign_id} keyword {self.keyword_id}"


class RollupCampaignDay(RollupFigures):
    """RollupKeywordDay summed over keywords: what the campaign, channel and period reports read
    (a few thousand rows for 90 days of an account, however many calls)."""

    account = _derived_fk("campaigns.Account", on_delete=models.CASCADE, null=False)
    day = models.DateField()
    campaign = _derived_fk("campaigns.Campaign")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "day", "campaign"],
                nulls_distinct=False,
                name="rollup_campaign_day_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} campaign {self.campaign_id}"


class RollupCallerDay(models.Model):
    """Each caller number of a local day per campaign × keyword, with a bit per model (bit i:
    MODELS[i]) set when one of its calls there got credit under that model. The source of
    RollupReach, and how a refresh finds the callers a changed day concerns."""

    account = _derived_fk("campaigns.Account", on_delete=models.CASCADE, null=False)
    day = models.DateField()
    caller = models.BigIntegerField(help_text="The E.164 number's digits.")
    campaign = _derived_fk("campaigns.Campaign")
    keyword = _derived_fk("campaigns.Keyword")
    # The campaign's channel when this row was rolled up: the reach by channel stored so far was
    # counted with it, so a refresh must subtract it as it was (a channel change logs every day
    # of the campaign, and the refresh of those days brings the new channel in).
    channel = models.CharField(max_length=20, null=True, blank=True)
    models_mask = models.SmallIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["account", "caller", "day"], name="rollup_caller_day_caller"),
            models.Index(fields=["account", "day"], name="rollup_caller_day_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.caller}"


class RollupReach(models.Model):
    """Distinct callers, exactly, for any range: per level (0 campaign × keyword, 1 campaign,
    2 channel, 3 the whole account), model, group and day, how the day's callers split by the
    gap back to their previous credited day in the group. A caller of day d counts for a
    range starting at s exactly when that gap is ≥ d − s + 1 (no earlier day within the range),
    so `reach[k]` (1-based) holds the callers whose gap is ≥ k and `firsts` those with no
    previous day within 2 years (every k beyond the array). Σ over the range's days of
    reach[d − s + 1] is the range's distinct callers."""

    account = _derived_fk("campaigns.Account", on_delete=models.CASCADE, null=False)
    level = models.SmallIntegerField()
    model = models.SmallIntegerField()
    day = models.DateField()
    campaign = _derived_fk("campaigns.Campaign")
    keyword = _derived_fk("campaigns.Keyword")
    channel = models.CharField(max_length=20, null=True, blank=True)
    firsts = models.IntegerField()
    reach = ArrayField(models.IntegerField())

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "level", "model", "day", "campaign", "keyword", "channel"],
                nulls_distinct=False,
                name="rollup_reach_unique",
            )
        ]

    def __str__(self) -> str:
        return f"level {self.level} model {self.model} {self.day}"
