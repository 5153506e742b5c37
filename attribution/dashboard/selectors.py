"""Records behind a campaign's figures, for the drill-down page's links. Read-only.

Figures themselves come from `attribution.reports.selectors`; this only lists the calls a
campaign's figures are made of, with each call's credit to the campaign under the model, so
a marketer can open the call and its outcomes.
"""

import datetime as dt

from django.db.models import (
    Case,
    DecimalField,
    Exists,
    OuterRef,
    Prefetch,
    Subquery,
    Sum,
    Value,
    When,
)

from attribution.dashboard import tables
from attribution.models import Outcome, Touchpoint
from attribution.reports import groups
from calls.models import Call


def credited_calls(
    *, account, campaign_id: int | None, start: dt.date, end: dt.date, model: str, limit: int
) -> list[Call]:
    """The newest `limit` non-spam calls of the range (local days) that give the campaign
    (None: Unattributed) credit under `model`, newest first, each annotated with `credit` and
    its outcomes prefetched (newest first).

    As the reports count them, a call whose touchpoints are not computed yet is one touch on
    its own campaign with credit 1."""
    if model not in groups.MODELS:
        raise ValueError(f"model must be one of {', '.join(groups.MODELS)}.")
    first, after = tables.local_bounds(start, end, account.time_zone)
    touches = Touchpoint.objects.filter(call=OuterRef("pk"))
    share = (
        touches.filter(campaign_id=campaign_id)
        .order_by()
        .values("call")
        .annotate(share=Sum(model))
        .values("share")
    )
    credit = Case(
        When(Exists(touches), then=Subquery(share)),
        When(campaign_id=campaign_id, then=Value(1)),
        default=Value(0),
        output_field=DecimalField(max_digits=16, decimal_places=15),
    )
    calls = (
        Call.objects.filter(
            account=account, spam=False, started_at__gte=first, started_at__lt=after
        )
        .annotate(credit=credit)
        .filter(credit__gt=0)
        .select_related("campaign", "keyword")
        .prefetch_related(
            Prefetch("outcomes", queryset=Outcome.objects.order_by("-occurred_at", "-pk"))
        )
        .order_by("-started_at", "-pk")
    )
    return list(calls[:limit])
