"""The attribution app's models, one module per sub-domain: DNI sessions and leases, CRM
outcomes, attribution credits, report rollups, offline conversions."""

from attribution.models.conversions import (
    Conversion,
    ConversionRule,
    ConversionStatus,
    ConversionTrigger,
    Destination,
    DestinationKind,
)
from attribution.models.credits import CREDIT_PLACES, AttributionModel, Touchpoint
from attribution.models.outcomes import MatchMethod, Outcome, OutcomeChange, OutcomeStage
from attribution.models.reports import (
    RollupCallerDay,
    RollupCampaignDay,
    RollupDirtyDay,
    RollupKeywordDay,
    RollupReach,
)
from attribution.models.sessions import (
    NumberAssignment,
    PoolExhaustion,
    TsTzRange,
    VisitorSession,
)

__all__ = [
    "CREDIT_PLACES",
    "AttributionModel",
    "Conversion",
    "ConversionRule",
    "ConversionStatus",
    "ConversionTrigger",
    "Destination",
    "DestinationKind",
    "MatchMethod",
    "NumberAssignment",
    "Outcome",
    "OutcomeChange",
    "OutcomeStage",
    "PoolExhaustion",
    "RollupCallerDay",
    "RollupCampaignDay",
    "RollupDirtyDay",
    "RollupKeywordDay",
    "RollupReach",
    "Touchpoint",
    "TsTzRange",
    "VisitorSession",
]
