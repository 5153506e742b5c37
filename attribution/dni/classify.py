"""Which campaign and keyword a visit belongs to, from its landing URL and referrer. Pure.

The order is PRODUCT.md's ("Dynamic number insertion rules"): click ids first (gclid, gbraid,
wbraid → Google paid search; msclkid → Microsoft; fbclid → Meta), then `utm_*` matched to the
account's campaigns and keywords, then the referrer (a search engine → organic, another site →
referral), else direct. A `utm_campaign` naming a campaign wins over the click id's generic
guess, because it is the advertiser's own, more specific, tag.
"""

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote_plus, urlsplit

CLICK_IDS = ("gclid", "gbraid", "wbraid", "msclkid", "fbclid")
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
MAX_PARAM = 255

# Host fragments of search engines whose unpaid clicks are organic traffic.
SEARCH_ENGINES = (
    "google.",
    "bing.",
    "yahoo.",
    "duckduckgo.",
    "baidu.",
    "yandex.",
    "ecosia.",
    "ask.",
    "aol.",
    "naver.",
    "seznam.",
    "qwant.",
    "startpage.",
    "brave.",
)

# What a click id says about the traffic: (channel, source names a campaign may carry).
CLICK_ID_SOURCES = {
    "gclid": ("paid_search", ("google", "google ads", "adwords")),
    "gbraid": ("paid_search", ("google", "google ads", "adwords")),
    "wbraid": ("paid_search", ("google", "google ads", "adwords")),
    "msclkid": ("paid_search", ("bing", "microsoft", "microsoft ads", "bing ads")),
    "fbclid": ("paid_social", ("facebook", "meta", "instagram", "fb")),
}


@dataclass(frozen=True)
class CampaignRef:
    id: int
    channel: str
    source: str = ""
    medium: str = ""
    utm_campaign: str = ""


@dataclass(frozen=True)
class KeywordRef:
    id: int
    campaign_id: int
    text: str
    utm_term: str = ""


@dataclass(frozen=True)
class Visit:
    """What the landing URL and referrer say, before matching to campaigns."""

    params: dict[str, str] = field(default_factory=dict)  # click ids and utm_* found
    channel: str = "direct"
    referrer_host: str = ""


@dataclass(frozen=True)
class Classification:
    campaign_id: int | None
    keyword_id: int | None
    channel: str
    params: dict[str, str]


class BadUrl(ValueError):
    pass


def _norm(text: str) -> str:
    return " ".join(unquote_plus(text).lower().split())


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().removeprefix("www.")


def read_visit(*, url: str, referrer: str) -> Visit:
    """Parse the landing URL (absolute http/https, else BadUrl) and the referrer."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadUrl(f"'{url[:100]}' is not an absolute http(s) URL")
    query = dict(parse_qsl(parts.query, keep_blank_values=False))
    # Some sites put campaign tags after '#' (single-page apps); read them there too.
    if "=" in parts.fragment:
        query = {**dict(parse_qsl(parts.fragment.lstrip("!/?"))), **query}
    params = {k: v[:MAX_PARAM] for k, v in query.items() if k in CLICK_IDS + UTM_KEYS and v}
    referrer_host = _host(referrer) if referrer.startswith(("http://", "https://")) else ""
    return Visit(
        params=params,
        channel=_channel(params, referrer_host, _host(url)),
        referrer_host=referrer_host,
    )


def _channel(params: dict[str, str], referrer_host: str, landing_host: str) -> str:
    for click_id in CLICK_IDS:
        if click_id in params:
            return CLICK_ID_SOURCES[click_id][0]
    medium = params.get("utm_medium", "").lower()
    if medium in ("cpc", "ppc", "paidsearch", "paid_search", "sem"):
        return "paid_search"
    if medium in ("paid_social", "paidsocial", "social_paid", "cpm") or (
        medium and "social" in medium
    ):
        return "paid_social"
    if medium in ("email", "newsletter", "e-mail"):
        return "email"
    if medium in ("display", "banner", "retargeting"):
        return "display"
    if referrer_host and referrer_host != landing_host:
        if any(engine in referrer_host + "." for engine in SEARCH_ENGINES):
            return "organic"
        return "referral"
    if params.get("utm_source") or medium:
        return "other"
    return "direct"


def classify(
    visit: Visit, *, campaigns: list[CampaignRef], keywords: list[KeywordRef]
) -> Classification:
    """Match a visit to one of the account's active campaigns and, within it, a keyword."""
    campaign = _match_campaign(visit, campaigns)
    keyword = _match_keyword(visit, campaign, keywords) if campaign else None
    return Classification(
        campaign_id=campaign.id if campaign else None,
        keyword_id=keyword.id if keyword else None,
        channel=visit.channel,
        params=visit.params,
    )


def _match_campaign(visit: Visit, campaigns: list[CampaignRef]) -> CampaignRef | None:
    params = visit.params
    tag = _norm(params.get("utm_campaign", ""))
    if tag:
        for campaign in campaigns:
            if campaign.utm_campaign and _norm(campaign.utm_campaign) == tag:
                return campaign
    source, medium = _norm(params.get("utm_source", "")), _norm(params.get("utm_medium", ""))
    for click_id in CLICK_IDS:
        if click_id in params:
            channel, sources = CLICK_ID_SOURCES[click_id]
            wanted = (source,) if source else sources
            return _first(campaigns, channel=channel, sources=wanted) or _first(
                campaigns, channel=channel, sources=sources
            )
    if source:
        for campaign in campaigns:
            if _norm(campaign.source) == source and (
                not medium or not campaign.medium or _norm(campaign.medium) == medium
            ):
                return campaign
    if visit.channel in ("organic", "referral", "direct"):
        return _first(campaigns, channel=visit.channel, sources=None)
    return None


def _first(campaigns, *, channel: str, sources) -> CampaignRef | None:
    for campaign in campaigns:
        if campaign.channel != channel:
            continue
        if sources is None or _norm(campaign.source) in sources:
            return campaign
    return None


def _match_keyword(
    visit: Visit, campaign: CampaignRef, keywords: list[KeywordRef]
) -> KeywordRef | None:
    term = _norm(visit.params.get("utm_term", ""))
    if not term:
        return None
    own = [k for k in keywords if k.campaign_id == campaign.id]
    for keyword in own:
        if keyword.utm_term and _norm(keyword.utm_term) == term:
            return keyword
    for keyword in own:
        if _norm(keyword.text) == term:
            return keyword
    return None
