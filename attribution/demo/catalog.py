"""What the demo advertiser has set up: campaigns, keywords, pools and numbers.

A few dozen rows, written through the campaigns services so they pass the same checks as rows
made in the API (valid E.164, unique utm_campaign, one default pool)."""

import math
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from attribution.demo import timeline
from campaigns import phones, services
from campaigns.models import Account, Campaign, Channel, Keyword, NumberPool, TrackingNumber

ACCOUNT_NAME = "Summit Home Services"
ACCOUNT_SETTINGS = {
    "currency": "USD",
    "time_zone": "America/New_York",
    "region": "US",
    "allowed_origins": ["http://127.0.0.1:8000", "http://localhost:8000"],
}
# The purchased block of tracking numbers, and the office lines calls are forwarded to (kept
# outside the block so a forward never looks like a tracking number).
TRACKING_AREA_CODES = ("212", "646", "718", "917", "347", "929", "332")
OFFICE_LINE = "+12015550142"
DISPATCH_LINE = "+12015550199"  # the 24/7 emergency line


@dataclass(frozen=True)
class KeywordSpec:
    text: str
    weight: float  # share of the campaign's clicks and spend
    path: str  # landing page
    own_pool: int = 0  # size of a keyword-level pool; 0: uses the campaign's pool


@dataclass(frozen=True)
class Spend:
    """Daily spend on an average weekday at the default traffic density."""

    daily: Decimal
    cpc: Decimal | None = None  # None for offline media: no clicks
    ctr: float = 0.0  # clicks per impression
    reach: int = 0  # offline: estimated daily impressions
    weekdays_only: bool = False
    flat: bool = False  # a billboard costs the same every day


@dataclass(frozen=True)
class CampaignSpec:
    key: str
    name: str
    channel: str
    source: str = ""
    medium: str = ""
    utm_campaign: str = ""
    keywords: tuple[KeywordSpec, ...] = ()
    pool_size: int = 0
    is_default: bool = False
    static: bool = False
    spend: Spend | None = None
    forward_to: str = OFFICE_LINE


# Positional fields: key, name, channel, source, medium, utm_campaign. Spend is what a
# plausible advertiser of this size pays: expensive emergency clicks, cheap brand ones.
CAMPAIGNS = (
    CampaignSpec(
        "brand", "Google Search – Brand", Channel.PAID_SEARCH, "google", "cpc", "brand-search",
        keywords=(
            KeywordSpec("summit home services", 5, "/"),
            KeywordSpec("summit plumbing", 3, "/plumbing", own_pool=3),
            KeywordSpec("summit heating and cooling", 2, "/hvac-repair"),
        ),
        pool_size=4, spend=Spend(Decimal("42"), cpc=Decimal("1.85"), ctr=0.11),
    ),
    CampaignSpec(
        "emergency", "Google Search – Emergency Plumbing", Channel.PAID_SEARCH, "google", "cpc",
        "emergency-plumbing",
        keywords=(
            KeywordSpec("emergency plumber", 6, "/emergency-plumbing"),
            KeywordSpec("24 hour plumber near me", 4, "/emergency-plumbing"),
            KeywordSpec("burst pipe repair", 2, "/burst-pipes"),
            KeywordSpec("water heater repair", 3, "/water-heaters"),
            KeywordSpec("clogged drain cleaning", 3, "/drain-cleaning"),
        ),
        pool_size=6, spend=Spend(Decimal("215"), cpc=Decimal("9.40"), ctr=0.064),
        forward_to=DISPATCH_LINE,
    ),
    CampaignSpec(
        "meta", "Meta – Lead Ads", Channel.PAID_SOCIAL, "facebook", "paid_social",
        "meta-lead-ads", pool_size=4, spend=Spend(Decimal("62"), cpc=Decimal("3.10"), ctr=0.012),
    ),
    CampaignSpec(
        "display", "Display – Retargeting", Channel.DISPLAY, "google", "display",
        "display-retargeting", pool_size=3,
        spend=Spend(Decimal("24"), cpc=Decimal("1.15"), ctr=0.0035),
    ),
    CampaignSpec(
        "email", "Email – Newsletter", Channel.EMAIL, "newsletter", "email", "newsletter",
        static=True,
    ),
    CampaignSpec(
        "radio", "Radio – Morning Drive", Channel.OFFLINE, "wkrp-fm", "radio", static=True,
        spend=Spend(Decimal("340"), reach=24_000, weekdays_only=True),
    ),
    CampaignSpec(
        "billboard", "Billboard I-95", Channel.OFFLINE, "billboard", "outdoor", static=True,
        spend=Spend(Decimal("95"), reach=41_000, flat=True),
    ),
    CampaignSpec("organic", "Organic & Direct", Channel.ORGANIC, pool_size=5, is_default=True),
)  # fmt: skip


@dataclass
class Catalog:
    account: Account
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    # campaign key → [(keyword, spec)], in spec order
    keywords: dict[str, list[tuple[Keyword, KeywordSpec]]] = field(default_factory=dict)
    campaign_pools: dict[str, NumberPool] = field(default_factory=dict)
    keyword_pools: dict[int, NumberPool] = field(default_factory=dict)  # keyword id → pool
    numbers: dict[int, list[TrackingNumber]] = field(default_factory=dict)  # pool id → numbers
    statics: dict[str, TrackingNumber] = field(default_factory=dict)  # campaign key → number

    def pool_for(self, campaign_key: str, keyword: Keyword | None) -> NumberPool | None:
        """The pool a session of this campaign (and keyword) draws its number from."""
        if keyword is not None and keyword.pk in self.keyword_pools:
            return self.keyword_pools[keyword.pk]
        return self.campaign_pools.get(campaign_key)

    def key_of(self, campaign: Campaign) -> str:
        return next(key for key, c in self.campaigns.items() if c.pk == campaign.pk)

    @property
    def pools(self) -> list[NumberPool]:
        return [*self.campaign_pools.values(), *self.keyword_pools.values()]


def create_catalog(*, density: float) -> Catalog:
    """Create the account and everything it has configured. Pools grow with the traffic
    density, so a large demo shows an occasional exhausted pool rather than a constant one."""
    account = services.create_account(
        name=ACCOUNT_NAME,
        is_demo=True,
        twilio_auth_token=secrets.token_hex(16),
        **ACCOUNT_SETTINGS,
    )
    catalog = Catalog(account=account)
    taken = set(TrackingNumber.objects.values_list("e164", flat=True))
    free_numbers = iter(timeline.fictional_numbers(TRACKING_AREA_CODES, taken=taken))
    for spec in CAMPAIGNS:
        _create_campaign(catalog, spec, density=density, free_numbers=free_numbers)
    return catalog


def _create_campaign(catalog: Catalog, spec: CampaignSpec, *, density: float, free_numbers):
    account = catalog.account
    campaign = services.create_campaign(
        account=account,
        name=spec.name,
        channel=spec.channel,
        source=spec.source,
        medium=spec.medium,
        utm_campaign=spec.utm_campaign,
        forward_to=phones.parse_configured_number(spec.forward_to, region=account.region),
    )
    catalog.campaigns[spec.key] = campaign
    catalog.keywords[spec.key] = []
    for kw_spec in spec.keywords:
        keyword = services.create_keyword(
            account=account, campaign=campaign, text=kw_spec.text, utm_term=kw_spec.text
        )
        catalog.keywords[spec.key].append((keyword, kw_spec))
        if kw_spec.own_pool:
            pool = _create_pool(catalog, campaign, keyword, kw_spec.own_pool, density, free_numbers)
            catalog.keyword_pools[keyword.pk] = pool
    if spec.pool_size:
        catalog.campaign_pools[spec.key] = _create_pool(
            catalog, campaign, None, spec.pool_size, density, free_numbers, spec.is_default
        )
    if spec.static:
        catalog.statics[spec.key] = _create_number(
            catalog, free_numbers, kind=TrackingNumber.Kind.STATIC, campaign=campaign
        )


def _create_pool(
    catalog, campaign, keyword, size, density, free_numbers, is_default=False
) -> NumberPool:
    name = f"{campaign.name} – {keyword.text}" if keyword else campaign.name
    pool = services.create_pool(
        account=catalog.account,
        campaign=campaign,
        keyword=keyword,
        name=name,
        is_default=is_default,
    )
    size = max(size, math.ceil(size * density))
    catalog.numbers[pool.pk] = [
        _create_number(catalog, free_numbers, kind=TrackingNumber.Kind.POOL, pool=pool)
        for _ in range(size)
    ]
    return pool


def _create_number(catalog: Catalog, free_numbers, **fields) -> TrackingNumber:
    e164 = next(free_numbers, None)
    if e164 is None:  # 700 fictional numbers: only an absurd --scale gets here
        raise ValueError("The fictional number block is used up; load the demo at a smaller scale.")
    return services.create_number(
        account=catalog.account,
        e164=phones.parse_configured_number(e164, region=catalog.account.region),
        provider="twilio",
        provider_sid="PN" + secrets.token_hex(16),
        **fields,
    )
