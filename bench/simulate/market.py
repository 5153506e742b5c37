"""What the simulated website looks like: its traffic sources, its daily rhythm, its visitors'
habits. Pure data, no ORM.

The figures are assumptions, not measurements: no vendor publishes them either. They are chosen
to look like a local-services site (a plumber) and are printed with every result, so a reader
can see what the accuracy figure rests on and rerun it with their own (`--help`).
"""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime


@dataclass(frozen=True)
class Source:
    """One way visitors arrive: a landing URL and referrer that the real classifier reads, and
    the campaign (by name) it must land in: the ground truth of the visit's campaign."""

    name: str
    weight: float
    url: str
    referrer: str
    campaign: str


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    channel: str
    source: str = ""
    utm_campaign: str = ""
    keywords: tuple[str, ...] = ()
    default_pool: bool = False


GOOGLE = "https://www.acme-plumbing.example/?utm_source=google&utm_medium=cpc"
CAMPAIGNS = (
    CampaignSpec(
        "Google Ads: plumbing",
        "paid_search",
        "google",
        "plumbing-search",
        ("emergency plumber", "water heater repair", "drain cleaning"),
    ),
    CampaignSpec("Meta: spring offer", "paid_social", "facebook", "spring-offer"),
    CampaignSpec("Organic search", "organic"),
    CampaignSpec("Direct and referral", "direct", default_pool=True),
)


def _google(term: str, weight: float) -> Source:
    url = f"{GOOGLE}&utm_campaign=plumbing-search&utm_term={term.replace(' ', '+')}&gclid=x"
    return Source(f"google / {term}", weight, url, "https://www.google.com/", CAMPAIGNS[0].name)


SOURCES = (
    _google("emergency plumber", 0.16),
    _google("water heater repair", 0.10),
    _google("drain cleaning", 0.08),
    Source(
        "meta",
        0.16,
        "https://www.acme-plumbing.example/offer?utm_source=facebook&utm_medium=paid_social"
        "&utm_campaign=spring-offer&fbclid=x",
        "https://m.facebook.com/",
        CAMPAIGNS[1].name,
    ),
    Source(
        "organic",
        0.28,
        "https://www.acme-plumbing.example/",
        "https://www.bing.com/",
        CAMPAIGNS[2].name,
    ),
    Source("direct", 0.14, "https://www.acme-plumbing.example/", "", CAMPAIGNS[3].name),
    # No campaign matches a referral: it is served by the default pool, whose campaign it gets.
    Source(
        "referral",
        0.08,
        "https://www.acme-plumbing.example/",
        "https://www.yelp.example/",
        CAMPAIGNS[3].name,
    ),
)

# Relative arrival rate by local hour (mean 1): quiet nights, a late-morning peak, a smaller
# evening one. Shaped like a local-services site's analytics; only the shape matters here.
HOURLY_PROFILE = (
    0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.45, 0.9, 1.4, 1.75, 1.9, 1.95,
    1.85, 1.7, 1.6, 1.5, 1.4, 1.35, 1.4, 1.5, 1.4, 1.05, 0.6, 0.3,
)  # fmt: skip

BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)
BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@dataclass(frozen=True)
class Market:
    """The traffic of one simulated run. Times are minutes unless named otherwise."""

    days: int = 3
    start: datetime = datetime(2025, 3, 3, 5, 0, tzinfo=UTC)  # midnight, New York
    visitors_per_day: float = 1000.0  # new human visitors; returns and bots come on top
    bot_share: float = 0.15  # of arrivals: crawlers with a bot user agent, one request each
    return_share: float = 0.25  # of new visitors: come back once, hours to days later
    return_mean_hours: float = 20.0
    dwell_median: float = 2.5  # time on the site with the tab visible (log-normal)
    dwell_sigma: float = 1.0
    dwell_max: float = 90.0
    heartbeat_seconds: int = 60  # attribution/dni/snippet.js: HEARTBEAT = 60000 ms
    call_share: float = 0.06  # of human visits: the visitor calls the number shown
    on_page_share: float = 0.6  # of those calls: while still on the page
    after_median: float = 4.0  # minutes after leaving, for the others (log-normal)
    after_sigma: float = 1.0
    earlier_number_share: float = 0.02  # of a returning visit's calls: the earlier visit's number
    sources: tuple[Source, ...] = field(default=SOURCES)
    campaigns: tuple[CampaignSpec, ...] = field(default=CAMPAIGNS)
    hourly_profile: tuple[float, ...] = field(default=HOURLY_PROFILE)
    local_offset_hours: int = -5  # the site's time zone (New York in March, before DST)

    def scaled(self, **changes) -> "Market":
        return replace(self, **changes)


def describe(market: Market) -> list[str]:
    """The assumptions in words, printed with (and written next to) every result."""
    return [
        f"{market.days} days from {market.start:%Y-%m-%d %H:%M} UTC, "
        f"{market.visitors_per_day:.0f} new visitors/day (daily-seasonal Poisson), "
        f"{market.return_share:.0%} return once (mean {market.return_mean_hours:.0f} h later), "
        f"bots {market.bot_share:.0%} of arrivals",
        f"time on site log-normal, median {market.dwell_median} min (sigma {market.dwell_sigma},"
        f" cap {market.dwell_max:.0f}); heartbeat every {market.heartbeat_seconds} s",
        f"{market.call_share:.0%} of human visits call: {market.on_page_share:.0%} on the page, "
        f"the rest after leaving (log-normal, median {market.after_median} min, sigma "
        f"{market.after_sigma}); {market.earlier_number_share:.0%} of returning callers dial "
        "the earlier visit's number",
        "sources: " + ", ".join(f"{s.name} {s.weight:.0%}" for s in market.sources),
    ]
