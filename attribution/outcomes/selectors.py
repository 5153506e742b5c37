"""Reads of CRM outcomes. Every selector takes the account."""

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Prefetch, QuerySet

from attribution.models import Outcome, OutcomeChange
from calls.models import Call
from campaigns.models import Account, CrmStageMapping


def outcomes(*, account: Account) -> QuerySet[Outcome]:
    return Outcome.objects.filter(account=account)


def outcomes_with_history(*, account: Account) -> QuerySet[Outcome]:
    """Outcomes with their changes, oldest first, in one more query."""
    changes = OutcomeChange.objects.order_by("changed_at", "pk")
    return outcomes(account=account).prefetch_related(Prefetch("changes", queryset=changes))


def calls_by_external_id(*, account: Account, external_ids: Iterable[str]) -> dict[str, list[str]]:
    """The providers of the account's calls with each of these external ids (several providers
    can use one id: then the id names no single call)."""
    found: dict[str, list[str]] = defaultdict(list)
    rows = (
        Call.objects.filter(account=account, external_id__in=set(external_ids))
        .order_by("provider")
        .values_list("external_id", "provider")
    )
    for external_id, provider in rows:
        found[external_id].append(provider)
    return found


def stage_mappings(*, account: Account) -> QuerySet[CrmStageMapping]:
    return CrmStageMapping.objects.filter(account=account)


def stage_map(*, account: Account, crm: str) -> dict[str, str]:
    """The account's own stages of one CRM: {crm stage: outcome stage}."""
    return dict(stage_mappings(account=account).filter(crm=crm).values_list("crm_stage", "stage"))
