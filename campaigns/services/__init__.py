"""Writes of the campaigns app: accounts, keys, the things an advertiser configures, and costs.

Every function is keyword-only and takes the account; each write is one transaction. Callers
use `from campaigns import services` and `services.<name>`: the modules below are the
sub-domains, this package is their one front door."""

from campaigns.services.accounts import (
    LAST_USED_RESOLUTION,
    add_member,
    create_account,
    issue_api_key,
    remove_member,
    rename_api_key,
    revoke_api_keys,
    touch_api_key,
    update_account,
    update_member,
)
from campaigns.services.catalog import (
    AUDITED_DELETES,
    create_campaign,
    create_keyword,
    create_number,
    create_pool,
    delete_object,
    update_campaign,
    update_keyword,
    update_number,
    update_pool,
)
from campaigns.services.costs import CostRow, upsert_costs

__all__ = [
    "AUDITED_DELETES",
    "LAST_USED_RESOLUTION",
    "CostRow",
    "add_member",
    "create_account",
    "create_campaign",
    "create_keyword",
    "create_number",
    "create_pool",
    "delete_object",
    "issue_api_key",
    "remove_member",
    "rename_api_key",
    "revoke_api_keys",
    "touch_api_key",
    "update_account",
    "update_campaign",
    "update_keyword",
    "update_member",
    "update_number",
    "update_pool",
    "upsert_costs",
]
