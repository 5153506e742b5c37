import pytest

from campaigns import services
from campaigns.models import Account


def test_account_shows_settings_and_hides_the_twilio_token(api, account):
    account.twilio_auth_token = "secret-token"
    account.save()
    body = api.get("/api/v1/account/").json()
    assert body == {
        "id": account.pk,
        "name": "Alice Plumbing",
        "currency": "USD",
        "time_zone": "America/New_York",
        "region": "US",
        "allowed_origins": [],
        "public_key": account.public_key,
        "lookback_days": 30,
        "match_window_days": 30,
        "retention_days": None,
        "created_at": body["created_at"],
    }


def test_admin_patches_settings_and_origins_are_normalised(api, account):
    response = api.patch(
        "/api/v1/account/",
        {
            "time_zone": "Europe/London",
            "region": "GB",
            "allowed_origins": ["https://Shop.Example.com/", "http://localhost:8000"],
            "lookback_days": 60,
            "twilio_auth_token": "tok",
        },
    )
    assert response.status_code == 200
    assert response.json()["allowed_origins"] == [
        "http://localhost:8000",
        "https://shop.example.com",
    ]
    account.refresh_from_db()
    assert (account.time_zone, account.region, account.lookback_days) == ("Europe/London", "GB", 60)
    assert account.twilio_auth_token == "tok"
    assert "twilio_auth_token" not in response.json()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"currency": "usd"}, "currency", "'usd' is not an ISO 4217 currency code."),
        ({"currency": "XYZ"}, "currency", "'XYZ' is not an ISO 4217 currency code."),
        (
            {"time_zone": "Mars/Base"},
            "time_zone",
            "'Mars/Base' is not an IANA time zone like 'America/New_York'.",
        ),
        ({"region": "ZZ"}, "region", "'ZZ' is not a region code like 'US' or 'GB'."),
        (
            {"allowed_origins": ["shop.example.com"]},
            "allowed_origins",
            "'shop.example.com' is not an origin like https://www.example.com",
        ),
        (
            {"allowed_origins": ["https://a.com/path"]},
            "allowed_origins",
            "'https://a.com/path' has more than a scheme, host and port",
        ),
        ({"lookback_days": 0}, "lookback_days", "Ensure this value is greater than or equal to 1."),
        (
            {"match_window_days": 400},
            "match_window_days",
            "Ensure this value is less than or equal to 365.",
        ),
        ({"colour": "blue"}, "colour", "Unknown field."),
    ],
)
def test_bad_account_settings_are_400_and_change_nothing(api, account, body, field, message):
    before = Account.objects.values().get(pk=account.pk)
    response = api.patch("/api/v1/account/", body)
    assert response.status_code == 400
    assert response.json()["errors"][field] == [message]
    assert Account.objects.values().get(pk=account.pk) == before


def test_the_public_key_cannot_be_chosen(api, account):
    response = api.patch("/api/v1/account/", {"public_key": "pk_mine"})
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.public_key != "pk_mine"
    assert response.json()["public_key"] == account.public_key


def test_currency_is_fixed_once_costs_exist(api, account):
    campaign = services.create_campaign(account=account, name="Brand", channel="paid_search")
    api.post("/api/v1/costs/", {"campaign": campaign.pk, "date": "2026-01-01", "amount": "5"})
    response = api.patch("/api/v1/account/", {"currency": "EUR"})
    assert response.status_code == 409
    assert response.json()["errors"]["currency"] == [
        "The currency cannot change once costs or outcome values are recorded."
    ]
    account.refresh_from_db()
    assert account.currency == "USD"


def test_currency_changes_while_no_money_is_recorded(api, account):
    assert api.patch("/api/v1/account/", {"currency": "EUR"}).json()["currency"] == "EUR"
