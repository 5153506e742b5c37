"""List filters naming an object choose among the key's own account's objects: another
account's id is refused exactly as an id that does not exist, so a filter never tells one
account which ids another holds."""

import pytest

from tests.factories import CampaignFactory, KeywordFactory, PoolFactory

ROUTES = [
    ("/api/v1/calls/", "campaign"),
    ("/api/v1/calls/", "keyword"),
    ("/api/v1/sessions/", "campaign"),
    ("/api/v1/keywords/", "campaign"),
    ("/api/v1/pools/", "campaign"),
    ("/api/v1/numbers/", "pool"),
    ("/api/v1/costs/", "campaign"),
]


def an_object(name, account):
    campaign = CampaignFactory(account=account)
    return {
        "campaign": campaign,
        "keyword": KeywordFactory(campaign=campaign),
        "pool": PoolFactory(campaign=campaign),
    }[name]


@pytest.mark.parametrize(("path", "name"), ROUTES)
def test_a_filter_on_another_accounts_object_is_refused_like_a_missing_one(
    api, account, other_account, path, name
):
    mine, theirs = an_object(name, account), an_object(name, other_account)
    assert api.get(path, {name: mine.pk}).status_code == 200
    missing = api.get(path, {name: 10**9})
    foreign = api.get(path, {name: theirs.pk})
    assert missing.status_code == foreign.status_code == 400
    assert list(foreign.json()["errors"]) == list(missing.json()["errors"]) == [name]
