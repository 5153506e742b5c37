"""Well-known crawlers, which must never hold a pool number. Pure."""

import re

# Crawler and preview-fetcher tokens, matched case-insensitively anywhere in the User-Agent.
# Browsers driven by tests (HeadlessChrome) are not listed: they behave like visitors.
BOT_PATTERN = re.compile(
    r"bot\b|bot/|crawler|spider|slurp|crawl|facebookexternalhit|facebookcatalog|"
    r"bingpreview|mediapartners-google|adsbot|apis-google|google-inspectiontool|"
    r"feedfetcher|lighthouse|pingdom|uptimerobot|statuscake|semrush|ahrefs|mj12|"
    r"dotbot|petalbot|yandex|baiduspider|duckduckbot|applebot|bytespider|gptbot|"
    r"ccbot|claudebot|headlesschrome.*lighthouse|python-requests|curl/|wget/|"
    r"go-http-client|okhttp|httpclient|libwww|scrapy|phantomjs",
    re.IGNORECASE,
)


def is_bot(user_agent: str) -> bool:
    """True for a known crawler or a script; an empty User-Agent counts as a script."""
    return not user_agent.strip() or bool(BOT_PATTERN.search(user_agent))
