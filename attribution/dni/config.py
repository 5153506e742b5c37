"""A per-account snapshot of what the DNI endpoint needs: campaigns, keywords, pools, numbers.

The endpoint is the hottest path of the product, and this configuration changes rarely, so each
web process keeps a snapshot for a few seconds instead of querying campaigns on every request.
A change in the admin or the API reaches the snippet within `TTL_SECONDS`. Leases themselves
are never cached: they are decided by PostgreSQL on every request.
"""

import time
from dataclasses import dataclass

from attribution.dni.classify import CampaignRef, KeywordRef
from campaigns.models import Account, Campaign, Keyword, NumberPool, TrackingNumber

TTL_SECONDS = 10.0
DEFAULT_IDLE_SECONDS = 1800


@dataclass(frozen=True)
class PoolRef:
    id: int
    campaign_id: int
    idle_timeout_seconds: int
    grace_seconds: int = 0


@dataclass(frozen=True)
class AccountConfig:
    account_id: int
    allowed_origins: frozenset[str]
    campaigns: list[CampaignRef]
    keywords: list[KeywordRef]
    pools: dict[tuple[int, int | None], PoolRef]  # (campaign, keyword or None) → pool
    default_pool: PoolRef | None
    static_numbers: dict[int, str]  # campaign → its static number, E.164

    def pool_for(self, campaign_id: int | None, keyword_id: int | None) -> PoolRef | None:
        """Keyword pool, else campaign pool; the default pool only for unmatched traffic."""
        if campaign_id is None:
            return self.default_pool
        return self.pools.get((campaign_id, keyword_id)) or self.pools.get((campaign_id, None))


_snapshots: dict[str, tuple[float, AccountConfig | None]] = {}


def clear() -> None:
    """Forget every snapshot (tests; and a process that must see a change at once)."""
    _snapshots.clear()


def config_for_key(public_key: str) -> AccountConfig | None:
    """The snapshot of the account with this public key, or None for an unknown key."""
    now = time.monotonic()
    cached = _snapshots.get(public_key)
    if cached and now - cached[0] < TTL_SECONDS:
        return cached[1]
    account = Account.objects.filter(public_key=public_key).first()
    snapshot = _load(account) if account else None
    if len(_snapshots) > 10_000:  # unknown keys must not grow the cache without bound
        _snapshots.clear()
    _snapshots[public_key] = (now, snapshot)
    return snapshot


def _load(account: Account) -> AccountConfig:
    campaigns = [
        CampaignRef(c.id, c.channel, c.source, c.medium, c.utm_campaign)
        for c in Campaign.objects.filter(account=account, active=True).order_by("id")
    ]
    keywords = [
        KeywordRef(k.id, k.campaign_id, k.text, k.utm_term)
        for k in Keyword.objects.filter(account=account, active=True).order_by("id")
    ]
    pools, default_pool = {}, None
    for pool in NumberPool.objects.filter(account=account, active=True).order_by("id"):
        ref = PoolRef(pool.id, pool.campaign_id, pool.idle_timeout_seconds, pool.grace_seconds)
        pools[(pool.campaign_id, pool.keyword_id)] = ref
        if pool.is_default:
            default_pool = ref
    static_numbers: dict[int, str] = {}
    statics = TrackingNumber.objects.filter(
        account=account, active=True, kind=TrackingNumber.Kind.STATIC
    ).order_by("id")
    for number in statics:
        static_numbers.setdefault(number.campaign_id, number.e164)
    return AccountConfig(
        account_id=account.id,
        allowed_origins=frozenset(account.allowed_origins),
        campaigns=campaigns,
        keywords=keywords,
        pools=pools,
        default_pool=default_pool,
        static_numbers=static_numbers,
    )
