"""Who advertises what, and where the phone numbers come from.

Every tenant row carries its `account` directly (not only through a parent) so that one
mechanism — filtering on `account` — scopes every query, and every report can use an
`(account, …)` index without a join.

The models live in one module per sub-domain; this package is their one import path
(`from campaigns.models import Account`), which the migrations name too.
"""

from campaigns.audit.models import AuditEvent
from campaigns.models.accounts import (
    Account,
    ApiKey,
    IdempotencyKey,
    Membership,
    Role,
    new_public_key,
)
from campaigns.models.catalog import Campaign, Channel, Keyword, NumberPool, TrackingNumber
from campaigns.models.costs import CrmStageMapping, DailyCost

__all__ = [
    "Account",
    "ApiKey",
    "AuditEvent",
    "Campaign",
    "Channel",
    "CrmStageMapping",
    "DailyCost",
    "IdempotencyKey",
    "Keyword",
    "Membership",
    "NumberPool",
    "Role",
    "TrackingNumber",
    "new_public_key",
]
