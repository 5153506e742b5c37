import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from campaigns.models import Account, ApiKey


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_createaccount_prints_one_json_object_with_a_working_admin_key(db):
    output = run(
        "createaccount",
        "Acme Plumbing",
        "--currency",
        "GBP",
        "--time-zone",
        "Europe/London",
        "--region",
        "GB",
        "--json",
    )
    result = json.loads(output)
    assert set(result) == {"account_id", "api_key", "public_key"}
    account = Account.objects.get(pk=result["account_id"])
    assert (account.name, account.currency, account.time_zone, account.region) == (
        "Acme Plumbing",
        "GBP",
        "Europe/London",
        "GB",
    )
    assert account.public_key == result["public_key"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {result['api_key']}")
    assert client.get("/api/v1/account/").json()["name"] == "Acme Plumbing"
    assert ApiKey.objects.get(account=account).role == "admin"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--currency", "EURO"], "'EURO' is not an ISO 4217 currency code."),
        (["--time-zone", "Nowhere"], "'Nowhere' is not an IANA time zone."),
        (["--region", "XX"], "'XX' is not a phone region code."),
    ],
)
def test_createaccount_refuses_bad_settings_and_creates_nothing(db, args, message):
    with pytest.raises(CommandError, match=message):
        run("createaccount", "Acme", *args)
    assert not Account.objects.exists()


def test_createapikey_adds_a_key_with_the_role(account):
    result = json.loads(run("createapikey", str(account.pk), "--role", "reporting", "--json"))
    assert result["role"] == "reporting"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {result['api_key']}")
    assert client.get("/api/v1/campaigns/").status_code == 200
    assert client.post("/api/v1/campaigns/", {"name": "x", "channel": "email"}).status_code == 403


def test_createapikey_names_an_unknown_account(db):
    with pytest.raises(CommandError, match="No account with id 424242."):
        run("createapikey", "424242", "--role", "admin")
