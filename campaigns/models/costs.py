"""Daily spend per campaign (and keyword), and the account's CRM stage names."""

from django.db import models
from django.db.models import Q

from campaigns.models.accounts import Account
from campaigns.models.catalog import Campaign, Keyword


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
