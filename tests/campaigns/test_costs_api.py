"""Daily costs: one object or a batch, upserted on (campaign, keyword, date), atomically."""

from decimal import Decimal

import pytest

from campaigns.models import DailyCost
from tests.factories import CampaignFactory, KeywordFactory


@pytest.fixture
def campaign(account):
    return CampaignFactory(account=account, name="Brand")


def cost(campaign_, day="2026-03-01", amount="12.50", **extra):
    return {"campaign": campaign_.pk, "date": day, "amount": amount, **extra}


def test_one_cost_is_created_in_the_accounts_currency(api, campaign):
    response = api.post("/api/v1/costs/", cost(campaign, clicks=30, impressions=1200))
    assert response.status_code == 201
    body = response.json()
    assert {
        k: body[k] for k in ("campaign", "keyword", "date", "amount", "currency", "clicks")
    } == {
        "campaign": campaign.pk,
        "keyword": None,
        "date": "2026-03-01",
        "amount": "12.5000",
        "currency": "USD",
        "clicks": 30,
    }


def test_resending_a_batch_is_idempotent(api, campaign):
    batch = [cost(campaign, "2026-03-01"), cost(campaign, "2026-03-02", "7.25")]
    first = api.post("/api/v1/costs/", batch)
    second = api.post("/api/v1/costs/", batch)
    assert (first.status_code, second.status_code) == (201, 200)
    assert [row["id"] for row in first.json()] == [row["id"] for row in second.json()]
    assert DailyCost.objects.count() == 2
    assert sorted(DailyCost.objects.values_list("amount", flat=True)) == [
        Decimal("7.25"),
        Decimal("12.50"),
    ]


def test_a_correction_replaces_the_days_amount(api, campaign):
    api.post("/api/v1/costs/", cost(campaign, amount="10"))
    response = api.post("/api/v1/costs/", cost(campaign, amount="11.10", clicks=3))
    assert response.status_code == 200
    assert DailyCost.objects.get().amount == Decimal("11.10")
    assert DailyCost.objects.get().clicks == 3


def test_campaign_and_keyword_rows_of_one_day_are_separate(api, campaign):
    keyword = KeywordFactory(campaign=campaign)
    api.post("/api/v1/costs/", [cost(campaign), cost(campaign, keyword=keyword.pk)])
    assert DailyCost.objects.count() == 2
    # and the campaign-level row (keyword null) is still upserted, not duplicated
    assert api.post("/api/v1/costs/", cost(campaign, amount="1")).status_code == 200
    assert DailyCost.objects.count() == 2


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"amount": "-1"}, "amount", "Ensure this value is greater than or equal to 0."),
        ({"amount": "abc"}, "amount", "A valid number is required."),
        ({"amount": "1.00001"}, "amount", "Ensure that there are no more than 4 decimal places."),
        (
            {"currency": "EUR"},
            "currency",
            "This account reports in USD; got EUR. Convert the amount before sending it.",
        ),
        (
            {"date": "2026-02-30"},
            "date",
            "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
        ),
        ({"clicks": -3}, "clicks", "Ensure this value is greater than or equal to 0."),
        ({"campaign": 987654}, "campaign", "No campaign with id 987654 in this account."),
        ({"cpc": "1"}, "cpc", "Unknown field."),
    ],
)
def test_a_batch_with_one_bad_item_stores_nothing(api, campaign, extra, field, message):
    batch = [cost(campaign, "2026-03-01"), cost(campaign, "2026-03-02", **extra)]
    response = api.post("/api/v1/costs/", batch)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors[0] == {}
    assert errors[1][field] == [message]
    assert not DailyCost.objects.exists()


def test_a_keyword_of_another_campaign_is_refused(api, account, campaign):
    keyword = KeywordFactory(campaign=CampaignFactory(account=account))
    response = api.post("/api/v1/costs/", cost(campaign, keyword=keyword.pk))
    assert response.json()["errors"] == {
        "keyword": [f"Keyword {keyword.pk} belongs to another campaign."]
    }
    assert not DailyCost.objects.exists()


def test_the_same_day_twice_in_one_batch_names_the_later_item(api, campaign):
    response = api.post("/api/v1/costs/", [cost(campaign), cost(campaign, amount="2")])
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {},
        {"date": ["Same campaign, keyword and date as item 0."]},
    ]
    assert not DailyCost.objects.exists()


def test_batches_over_1000_items_are_refused(api, campaign):
    response = api.post("/api/v1/costs/", [cost(campaign)] * 1001)
    assert response.status_code == 400
    assert response.json()["message"] == "Ensure this field has no more than 1000 elements."
    assert not DailyCost.objects.exists()


def test_costs_filter_by_date_range(api, campaign):
    api.post("/api/v1/costs/", [cost(campaign, f"2026-03-0{d}") for d in range(1, 6)])
    response = api.get("/api/v1/costs/", {"start": "2026-03-02", "end": "2026-03-04"})
    assert sorted(row["date"] for row in response.json()["results"]) == [
        "2026-03-02",
        "2026-03-03",
        "2026-03-04",
    ]


def test_cost_lists_page_with_cursors(api, campaign):
    api.post("/api/v1/costs/", [cost(campaign, f"2026-03-{d:02d}") for d in range(1, 8)])
    first = api.get("/api/v1/costs/", {"page_size": 5}).json()
    second = api.get(first["next"]).json()
    assert len(first["results"]) == 5
    assert len(second["results"]) == 2
    assert second["next"] is None
    seen = {row["id"] for row in first["results"] + second["results"]}
    assert len(seen) == 7


def test_listing_costs_takes_a_constant_number_of_queries(
    api, campaign, django_assert_max_num_queries
):
    api.post("/api/v1/costs/", [cost(campaign, f"2026-03-{d:02d}") for d in range(1, 31)])
    with django_assert_max_num_queries(4):
        assert len(api.get("/api/v1/costs/").json()["results"]) == 30
