"""Campaigns, keywords, pools and numbers: the contract's fields, bad input, and deletion rules."""

import pytest

from campaigns.models import Campaign, Keyword, NumberPool, TrackingNumber
from tests.factories import (
    CallFactory,
    CampaignFactory,
    KeywordFactory,
    PoolFactory,
    PoolNumberFactory,
    StaticNumberFactory,
)


def test_a_campaign_is_created_with_its_forwarding_number_in_e164(api, account):
    response = api.post(
        "/api/v1/campaigns/",
        {
            "name": "Brand",
            "channel": "paid_search",
            "source": "google",
            "medium": "cpc",
            "utm_campaign": "brand",
            "forward_to": "(415) 555-2671",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("name", "channel", "forward_to", "active")} == {
        "name": "Brand",
        "channel": "paid_search",
        "forward_to": "+14155552671",
        "active": True,
    }
    assert Campaign.objects.get(pk=body["id"]).account == account


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"channel": "tv"}, "channel", '"tv" is not a valid choice.'),
        ({"forward_to": "12ab"}, "forward_to", "'12ab' is not a valid phone number"),
        (
            {"forward_to": "+1 555 555 0100"},
            "forward_to",
            "'+1 555 555 0100' is not a valid phone number",
        ),
        ({"name": ""}, "name", "This field may not be blank."),
        ({"name": "x" * 201}, "name", "Ensure this field has no more than 200 characters."),
        ({"active": "maybe"}, "active", "Must be a valid boolean."),
        ({"forward_too": "+14155552671"}, "forward_too", "Unknown field."),
    ],
)
def test_bad_campaign_input_is_400_and_stores_nothing(api, body, field, message):
    response = api.post("/api/v1/campaigns/", {"name": "Brand", "channel": "display", **body})
    assert response.status_code == 400
    assert response.json()["errors"][field] == [message]
    assert not Campaign.objects.exists()


def test_duplicate_campaign_names_are_400_on_the_name(api, account):
    CampaignFactory(account=account, name="Brand")
    response = api.post("/api/v1/campaigns/", {"name": "Brand", "channel": "display"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"name": ["A campaign with this name already exists."]}
    assert Campaign.objects.count() == 1


def test_two_accounts_may_use_the_same_campaign_name(api, other_account):
    CampaignFactory(account=other_account, name="Brand")
    assert (
        api.post("/api/v1/campaigns/", {"name": "Brand", "channel": "display"}).status_code == 201
    )


@pytest.mark.parametrize(
    "body",
    [[{"name": "A", "channel": "display"}], "text", 42, None],
    ids=["list", "string", "number", "null"],
)
def test_a_body_that_is_not_an_object_is_400(api, body):
    response = api.post("/api/v1/campaigns/", body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not Campaign.objects.exists()


def test_malformed_json_is_400(api):
    response = api.generic("POST", "/api/v1/campaigns/", "{not json", "application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_patch_changes_only_what_it_names(api, account):
    campaign = CampaignFactory(account=account, name="Brand", channel="display")
    response = api.patch(f"/api/v1/campaigns/{campaign.pk}/", {"active": False})
    assert response.status_code == 200
    campaign.refresh_from_db()
    assert (campaign.name, campaign.channel, campaign.active) == ("Brand", "display", False)


def test_a_keyword_names_its_campaign(api, account):
    campaign = CampaignFactory(account=account)
    response = api.post(
        "/api/v1/keywords/",
        {"campaign": campaign.pk, "text": "emergency plumber", "utm_term": "emergency+plumber"},
    )
    assert response.status_code == 201
    assert Keyword.objects.get().account == account


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "Expected an id (integer), got str."),
        (True, "Expected an id (integer), got bool."),
        (None, "This field may not be null."),
    ],
)
def test_a_keyword_with_a_bad_campaign_id_is_400(api, value, message):
    response = api.post("/api/v1/keywords/", {"campaign": value, "text": "x"})
    assert response.status_code == 400
    assert response.json()["errors"]["campaign"] == [message]


def test_a_pool_keyword_must_belong_to_the_pools_campaign(api, account):
    campaign, keyword = (
        CampaignFactory(account=account),
        KeywordFactory(campaign=CampaignFactory(account=account)),
    )
    response = api.post("/api/v1/pools/", {"campaign": campaign.pk, "keyword": keyword.pk})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "keyword": [f"Keyword {keyword.pk} belongs to another campaign."]
    }
    assert not NumberPool.objects.exists()


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        (30, "Ensure this value is greater than or equal to 60."),
        (100000, "Ensure this value is less than or equal to 86400."),
    ],
)
def test_pool_idle_timeout_is_bounded(api, account, seconds, message):
    campaign = CampaignFactory(account=account)
    response = api.post(
        "/api/v1/pools/", {"campaign": campaign.pk, "idle_timeout_seconds": seconds}
    )
    assert response.json()["errors"] == {"idle_timeout_seconds": [message]}


def test_one_pool_per_campaign_and_keyword(api, account):
    pool = PoolFactory(campaign=CampaignFactory(account=account))
    response = api.post("/api/v1/pools/", {"campaign": pool.campaign_id})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "keyword": ["This campaign (and keyword) already has a pool."]
    }


def test_a_pool_lists_its_numbers(api, account):
    pool = PoolFactory(campaign=CampaignFactory(account=account))
    PoolNumberFactory(pool=pool, e164="+12125550199")
    PoolNumberFactory(pool=pool, e164="+12125550198")
    body = api.get(f"/api/v1/pools/{pool.pk}/").json()
    assert body["numbers"] == ["+12125550198", "+12125550199"]
    assert body["recommended_size"] is None  # no traffic measured yet
    assert body["sized_at"] is None
    assert body["exhaustion_rate"] is None


def test_a_pool_number_takes_its_pools_campaign(api, account):
    pool = PoolFactory(campaign=CampaignFactory(account=account))
    response = api.post(
        "/api/v1/numbers/", {"e164": "212 555 0142", "kind": "pool", "pool": pool.pk}
    )
    assert response.status_code == 201
    assert response.json()["campaign"] == pool.campaign_id
    assert response.json()["e164"] == "+12125550142"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"e164": "hello", "kind": "static"}, {"e164": ["'hello' is not a valid phone number"]}),
        (
            {"e164": "+12125550142", "kind": "static"},
            {"campaign": ["A static number names its campaign."]},
        ),
        ({"e164": "+12125550142", "kind": "pool"}, {"pool": ["A pool number names its pool."]}),
        ({"e164": "+12125550142", "kind": "mobile"}, {"kind": ['"mobile" is not a valid choice.']}),
    ],
)
def test_bad_numbers_are_400(api, body, errors):
    response = api.post("/api/v1/numbers/", body)
    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert not TrackingNumber.objects.exists()


def test_a_number_belongs_to_one_account_only(api, account, other_account):
    StaticNumberFactory(campaign=CampaignFactory(account=other_account), e164="+12125550142")
    campaign = CampaignFactory(account=account)
    response = api.post(
        "/api/v1/numbers/", {"e164": "+12125550142", "kind": "static", "campaign": campaign.pk}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"e164": ["This number is already in use."]}


def test_an_object_without_history_is_deleted(api, account):
    campaign = CampaignFactory(account=account)
    assert api.delete(f"/api/v1/campaigns/{campaign.pk}/").status_code == 204
    assert not Campaign.objects.exists()


def test_a_number_with_calls_is_409_on_delete_and_stays(api, account):
    number = StaticNumberFactory(campaign=CampaignFactory(account=account))
    CallFactory(account=account, tracking_number=number, campaign=number.campaign)
    response = api.delete(f"/api/v1/numbers/{number.pk}/")
    assert response.status_code == 409
    assert response.json()["message"] == (
        "This tracking number has calls behind it and cannot be deleted; "
        "set active=false to retire it instead."
    )
    assert TrackingNumber.objects.filter(pk=number.pk).exists()
