"""Daily spend, upserted on (campaign, keyword, date)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import Account, Campaign, DailyCost, Keyword


@dataclass(frozen=True)
class CostRow:
    campaign: Campaign
    keyword: Keyword | None
    date: date
    amount: Decimal
    currency: str
    clicks: int = 0
    impressions: int = 0


UPSERT_COSTS_SQL = """
INSERT INTO campaigns_dailycost
    (account_id, campaign_id, keyword_id, date, amount, currency, clicks, impressions, updated_at)
VALUES {values}
ON CONFLICT (campaign_id, keyword_id, date) DO UPDATE SET
    amount = EXCLUDED.amount, currency = EXCLUDED.currency, clicks = EXCLUDED.clicks,
    impressions = EXCLUDED.impressions, updated_at = EXCLUDED.updated_at
RETURNING id, (xmax = 0) AS inserted
"""


@transaction.atomic
def upsert_costs(*, account: Account, rows: list[CostRow]) -> tuple[list[DailyCost], int]:
    """Insert or replace daily spend, keyed on (campaign, keyword, date), in one statement.

    Idempotent: sending the same rows again changes nothing but `updated_at`. Returns the rows
    in input order and how many were new. The caller has checked currency and ownership."""
    if not rows:
        return [], 0
    now = timezone.now()
    placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    params: list = []
    for row in rows:
        params += [
            account.pk,
            row.campaign.pk,
            row.keyword.pk if row.keyword else None,
            row.date,
            row.amount,
            row.currency,
            row.clicks,
            row.impressions,
            now,
        ]
    with connection.cursor() as cursor:
        cursor.execute(UPSERT_COSTS_SQL.format(values=placeholders), params)
        results = cursor.fetchall()
    by_id = DailyCost.objects.select_related("campaign", "keyword").in_bulk(
        [row_id for row_id, _ in results]
    )
    by_key = {(c.campaign_id, c.keyword_id, c.date): c for c in by_id.values()}
    ordered = [
        by_key[(row.campaign.pk, row.keyword.pk if row.keyword else None, row.date)] for row in rows
    ]
    return ordered, sum(1 for _, inserted in results if inserted)
