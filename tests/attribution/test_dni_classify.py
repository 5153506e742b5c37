"""Classification of a visit to channel, campaign and keyword (PRODUCT.md, "DNI rules")."""

import pytest

from attribution.dni.classify import (
    BadUrl,
    CampaignRef,
    KeywordRef,
    classify,
    read_visit,
)

CAMPAIGNS = [
    CampaignRef(1, "paid_search", "google", "cpc", "brand"),
    CampaignRef(2, "paid_search", "google", "cpc", "emergency"),
    CampaignRef(3, "paid_search", "bing", "cpc", ""),
    CampaignRef(4, "paid_social", "facebook", "paid_social", ""),
    CampaignRef(5, "email", "newsletter", "email", "spring-news"),
    CampaignRef(6, "organic", "", "", ""),
    CampaignRef(7, "referral", "", "", ""),
    CampaignRef(8, "direct", "", "", ""),
]
KEYWORDS = [
    KeywordRef(21, 2, "emergency plumber", "emergency+plumber"),
    KeywordRef(22, 2, "burst pipe", ""),
    KeywordRef(11, 1, "summit plumbing", "summit-plumbing"),
]
SITE = "https://shop.example.com/landing"


def run(query: str = "", referrer: str = ""):
    visit = read_visit(url=f"{SITE}{'?' + query if query else ''}", referrer=referrer)
    return classify(visit, campaigns=CAMPAIGNS, keywords=KEYWORDS)


@pytest.mark.parametrize(
    ("query", "referrer", "expected"),
    [
        ("gclid=abc", "", (1, None, "paid_search")),  # first Google search campaign
        ("gbraid=abc", "", (1, None, "paid_search")),
        ("wbraid=abc", "", (1, None, "paid_search")),
        ("gclid=abc&utm_campaign=emergency", "", (2, None, "paid_search")),
        (
            "gclid=abc&utm_campaign=emergency&utm_term=emergency%2Bplumber",
            "",
            (2, 21, "paid_search"),
        ),
        ("gclid=x&utm_campaign=Emergency&utm_term=Burst+Pipe", "", (2, 22, "paid_search")),
        ("msclkid=abc", "", (3, None, "paid_search")),
        ("fbclid=abc", "", (4, None, "paid_social")),
        ("utm_source=newsletter&utm_medium=email", "", (5, None, "email")),
        ("utm_campaign=spring-news", "", (5, None, "direct")),
        ("", "https://www.google.com/", (6, None, "organic")),
        ("", "https://www.bing.com/search?q=plumber", (6, None, "organic")),
        ("", "https://duckduckgo.com/", (6, None, "organic")),
        ("", "https://www.yelp.com/biz/summit", (7, None, "referral")),
        ("", "https://shop.example.com/other-page", (8, None, "direct")),
        ("", "", (8, None, "direct")),
        ("utm_source=tiktok&utm_medium=video", "", (None, None, "other")),
    ],
)
def test_visits_are_classified_as_product_md_orders_it(query, referrer, expected):
    result = run(query, referrer)
    assert (result.campaign_id, result.keyword_id, result.channel) == expected


def test_every_click_id_and_utm_parameter_is_kept():
    result = run(
        "gclid=G&gbraid=B&wbraid=W&msclkid=M&fbclid=F&utm_source=s&utm_medium=m"
        "&utm_campaign=c&utm_term=t&utm_content=x&other=ignored"
    )
    assert result.params == {
        "gclid": "G",
        "gbraid": "B",
        "wbraid": "W",
        "msclkid": "M",
        "fbclid": "F",
        "utm_source": "s",
        "utm_medium": "m",
        "utm_campaign": "c",
        "utm_term": "t",
        "utm_content": "x",
    }


def test_tags_after_the_hash_of_a_single_page_app_are_read():
    visit = read_visit(url=f"{SITE}#/?utm_campaign=brand&gclid=abc", referrer="")
    assert classify(visit, campaigns=CAMPAIGNS, keywords=KEYWORDS).campaign_id == 1


def test_a_click_id_without_a_matching_campaign_falls_back_to_the_default_pool():
    visit = read_visit(url=f"{SITE}?fbclid=abc", referrer="")
    result = classify(visit, campaigns=CAMPAIGNS[:3], keywords=[])
    assert (result.campaign_id, result.channel) == (None, "paid_social")


@pytest.mark.parametrize("url", ["/relative", "ftp://x.com/", "javascript:alert(1)", "https://"])
def test_a_landing_url_that_is_not_absolute_http_is_bad(url):
    with pytest.raises(BadUrl):
        read_visit(url=url, referrer="")
