"""Visitors and their sessions: where they came from, what they clicked, how long they stayed,
and which tracking number each web session was shown.

Pure: builds unsaved VisitorSession and NumberAssignment rows from the seeded generator."""

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from attribution.demo import leases, timeline
from attribution.demo.catalog import Catalog
from attribution.models import NumberAssignment, VisitorSession
from campaigns.models import Channel

SITE = "https://www.summithomeservices.example"
SEARCH = ("https://www.google.com/",)
ORGANIC_REFERRERS = ("https://www.google.com/", "https://www.bing.com/", "https://duckduckgo.com/")
REFERRAL_SITES = (
    "https://www.yelp.com/biz/summit-home-services-new-york",
    "https://www.angi.com/companylist/us/ny/new-york/summit-home-services.htm",
    "https://nextdoor.com/pages/summit-home-services-new-york-ny/",
)
PUBLISHERS = ("https://weather.com/", "https://www.allrecipes.com/", "https://www.espn.com/")
MOBILE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
USER_AGENTS = (
    MOBILE_SAFARI,
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
)
USER_AGENT_WEIGHTS = (40, 25, 22, 13)  # home-services traffic is mostly mobile
# Visits per visitor: most come once; a returning minority makes the multi-touch journeys.
VISIT_COUNTS, VISIT_WEIGHTS = (1, 2, 3, 4, 5), (72, 16, 8, 3, 1)


@dataclass(frozen=True)
class Source:
    """A way visitors arrive. First visits and return visits mix the sources differently:
    people come back through retargeting, brand search and typing the address."""

    campaign: str  # catalog key
    channel: str
    first_weight: float
    return_weight: float
    utm: tuple[str, str, str] | None = None  # utm_source, utm_medium, utm_campaign
    click_id: str = ""
    referrers: tuple[str, ...] = ("",)
    paths: tuple[str, ...] = ("/",)
    contents: tuple[str, ...] = ("",)


SOURCES = (
    Source(
        "brand", Channel.PAID_SEARCH, 14, 28, ("google", "cpc", "brand-search"), "gclid", SEARCH,
    ),
    Source(
        "emergency", Channel.PAID_SEARCH, 24, 12, ("google", "cpc", "emergency-plumbing"),
        "gclid", SEARCH, contents=("rsa-24-7", "rsa-fast-response"),
    ),
    Source(
        "meta", Channel.PAID_SOCIAL, 11, 5, ("facebook", "paid_social", "meta-lead-ads"),
        "fbclid", ("https://m.facebook.com/", "https://l.instagram.com/"),
        ("/offers/spring-tune-up", "/offers/water-heater-flush"), ("video-15s", "carousel"),
    ),
    Source(
        "display", Channel.DISPLAY, 5, 14, ("google", "display", "display-retargeting"),
        "gclid", PUBLISHERS, ("/offers/spring-tune-up", "/"), ("300x250", "728x90", "320x50"),
    ),
    Source(
        "email", Channel.EMAIL, 6, 6, ("newsletter", "email", "newsletter"),
        paths=("/blog/winterize-your-pipes", "/blog/ac-maintenance-checklist"),
    ),
    Source(
        "organic", Channel.ORGANIC, 20, 12, referrers=ORGANIC_REFERRERS,
        paths=("/", "/emergency-plumbing", "/water-heaters", "/hvac-repair", "/blog/ac-tips"),
    ),
    Source("organic", Channel.DIRECT, 12, 18, paths=("/", "/contact", "/plumbing")),
    Source("organic", Channel.REFERRAL, 8, 5, referrers=REFERRAL_SITES, paths=("/", "/reviews")),
)  # fmt: skip


@dataclass(frozen=True)
class Visitor:
    id: str
    ip: str
    user_agent: str
    email: str  # "" until the site learns it


def plan_sessions(
    *, rng: random.Random, catalog: Catalog, clock: timeline.Timeline, count: int
) -> list[VisitorSession]:
    """About `count` sessions, the visits of one visitor spread over up to three weeks."""
    sessions: list[VisitorSession] = []
    while len(sessions) < count:
        visits = rng.choices(VISIT_COUNTS, weights=VISIT_WEIGHTS)[0]
        visitor = _visitor(rng, number=len(sessions))
        sessions += _visits(rng, catalog, clock, visitor, min(visits, count - len(sessions)))
    return sessions


def lease_numbers(*, catalog: Catalog, sessions: list[VisitorSession]) -> list[NumberAssignment]:
    """A lease for every session of a campaign with a pool (every web session but email's)."""
    by_pool = defaultdict(list)
    for session in sessions:
        pool = catalog.pool_for(catalog.key_of(session.campaign), session.keyword)
        if pool is not None:
            by_pool[pool].append(session)
    return [
        lease
        for pool, pool_sessions in by_pool.items()
        for lease in leases.allocate(
            pool=pool, numbers=catalog.numbers[pool.pk], sessions=pool_sessions
        )
    ]


def _visitor(rng: random.Random, *, number: int) -> Visitor:
    # Documentation address ranges (RFC 5737): realistic-looking, owned by nobody.
    ip = f"{rng.choice(('192.0.2', '198.51.100', '203.0.113'))}.{rng.randint(1, 254)}"
    identified = rng.random() < 0.08
    return Visitor(
        id=timeline.hex_token(rng, 32),
        ip=ip,
        user_agent=rng.choices(USER_AGENTS, weights=USER_AGENT_WEIGHTS)[0],
        email=f"homeowner{number}@example.com" if identified else "",
    )


def _visits(rng, catalog, clock, visitor: Visitor, visits: int) -> list[VisitorSession]:
    first = clock.pick_day(rng)
    # Return visits within three weeks; those that would fall after yesterday are not made yet.
    later = sorted(first + rng.randint(0, 20) for _ in range(visits - 1))
    sessions: list[VisitorSession] = []
    for day in [first, *(day for day in later if day < clock.days)]:
        started = clock.moment(rng, day)
        if sessions and started < sessions[-1].last_seen_at + timedelta(minutes=45):
            # Same day, drawn earlier than the last visit: come back a few hours later instead.
            started = sessions[-1].last_seen_at + timedelta(minutes=rng.randint(60, 240))
        if started >= clock.end:
            break
        weights = [s.return_weight if sessions else s.first_weight for s in SOURCES]
        source = rng.choices(SOURCES, weights=weights)[0]
        # The site learns the email on a later visit (a form), never on the first.
        email = visitor.email if sessions else ""
        sessions.append(_session(rng, catalog, clock, source, visitor, started, email))
    return sessions


def _session(rng, catalog, clock, source: Source, visitor, started: datetime, email: str):
    keyword, path = None, rng.choice(source.paths)
    if catalog.keywords[source.campaign]:
        pairs = catalog.keywords[source.campaign]
        keyword, spec = rng.choices(pairs, weights=[spec.weight for _, spec in pairs])[0]
        path = spec.path
    utm = _utm(rng, source, keyword)
    clicks = _click_ids(rng, source.click_id)
    query = urlencode({**utm, **clicks})
    seconds = round(timeline.lognormal(rng, median=150, sigma=1.1, low=5, high=2400))
    return VisitorSession(
        # A fresh random id, not one drawn from the seed: ids are global, and the same seed
        # loaded into a second database or account must not collide with the first.
        id=uuid.uuid4(),
        account=catalog.account,
        visitor_id=visitor.id,
        campaign=catalog.campaigns[source.campaign],
        keyword=keyword,
        channel=source.channel,
        landing_url=f"{SITE}{path}" + (f"?{query}" if query else ""),
        referrer=rng.choice(source.referrers),
        user_agent=visitor.user_agent,
        ip=visitor.ip,
        email=email,
        started_at=started,
        # Never in the future, even for a visit late last night loaded just after midnight.
        last_seen_at=min(started + timedelta(seconds=seconds), clock.now),
        expires_at=min(started + timedelta(seconds=seconds), clock.now) + timedelta(minutes=30),
        **utm,
        **clicks,
    )


def _utm(rng: random.Random, source: Source, keyword) -> dict[str, str]:
    if source.utm is None:
        return {}
    utm_source, utm_medium, utm_campaign = source.utm
    utm = {"utm_source": utm_source, "utm_medium": utm_medium, "utm_campaign": utm_campaign}
    if keyword is not None:
        utm["utm_term"] = keyword.utm_term
    content = rng.choice(source.contents)
    if content:
        utm["utm_content"] = content
    return utm


def _click_ids(rng: random.Random, kind: str) -> dict[str, str]:
    # Shaped like the platforms' own (opaque, URL-safe); the prefixes are what real ones show.
    if kind == "gclid":
        return {"gclid": "Cj0KCQjw" + timeline.url_token(rng, 80)}
    if kind == "fbclid":
        return {"fbclid": "IwAR" + timeline.url_token(rng, 58)}
    return {}
