"""A small account whose report figures are computed by hand in the tests (America/New_York,
a range of 2026-03-02 … 2026-03-04, EST, before the DST change of 03-08):

| call | local start      | caller | status   | journey (oldest first)           | outcomes      |
|------|------------------|--------|----------|----------------------------------|---------------|
| A    | 03-02 00:30      | 0001   | answered | Search/boiler                    | won 300       |
| B    | 03-03 10:00      | 0002   | answered | Social, Search/boiler, …/plumber | qualified;    |
|      |                  |        |          |                                  | won 200       |
| C    | 03-04 13:00      | 0001   | missed   | Social                           | —             |
| D    | 03-04 23:59      | —      | answered | Unattributed                     | won 50        |
| S    | 03-03 11:00 spam | 0009   | answered | Search/boiler                    | won 1000      |
| X    | 03-01 23:30      | 0001   | answered | Search/boiler (the day before)   | won 999       |
| F    | 03-05 00:00      | 0002   | answered | Social (the day after)           | —             |

B's credits: linear 1/3 each (the last touch takes the remainder), position based 0.4, 0.2,
0.4. Spend: Search 100 (03-02, campaign level), Search/boiler 40 (03-03), Search/plumber 60
(03-04), Social 30 (03-03), Mail 25 (03-04: spend, no calls); outside the range Search 999
(03-01) and Social 999 (03-05).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from attribution.models import Touchpoint
from campaigns.models import Campaign, Keyword
from tests.factories import (
    CallFactory,
    CampaignFactory,
    CostFactory,
    KeywordFactory,
    OutcomeFactory,
)

START, END = dt.date(2026, 3, 2), dt.date(2026, 3, 4)
MODELS = ("last_touch", "first_touch", "linear", "time_decay", "position_based", "data_driven")
THIRD, LAST_THIRD = Decimal("0.333333333333333"), Decimal("0.333333333333334")


@dataclass
class World:
    search: Campaign
    social: Campaign
    mail: Campaign
    boiler: Keyword
    plumber: Keyword
    calls: dict


def utc(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC)


def touch(call, position: int, campaign, keyword=None, **credits) -> None:
    shares = dict.fromkeys(MODELS, Decimal(1)) | {k: Decimal(v) for k, v in credits.items()}
    Touchpoint.objects.create(
        account=call.account,
        call=call,
        position=position,
        campaign=campaign,
        keyword=keyword,
        touched_at=call.started_at,
        **shares,
    )


def build_world(account) -> World:
    search = CampaignFactory(account=account, name="Search", channel="paid_search")
    social = CampaignFactory(account=account, name="Social", channel="paid_social")
    mail = CampaignFactory(account=account, name="Mail", channel="email")
    boiler = KeywordFactory(campaign=search, text="boiler repair")
    plumber = KeywordFactory(campaign=search, text="plumber near me")

    def call(name, at, caller, status, campaign, keyword=None, spam=False):
        return CallFactory(
            account=account,
            external_id=name,
            started_at=at,
            caller_e164=caller,
            status=status,
            campaign=campaign,
            keyword=keyword,
            spam=spam,
        )

    # EST is UTC-5 until 2026-03-08.
    a = call("A", utc(2, 5, 30), "+14155550001", "answered", search, boiler)
    b = call("B", utc(3, 15), "+14155550002", "answered", search, plumber)
    c = call("C", utc(4, 18), "+14155550001", "missed", social)
    d = call("D", utc(5, 4, 59), "", "answered", None)
    s = call("S", utc(3, 16), "+14155550009", "answered", search, boiler, spam=True)
    x = call("X", utc(2, 4, 30), "+14155550001", "answered", search, boiler)
    f = call("F", utc(5, 5), "+14155550002", "answered", social)

    touch(a, 0, search, boiler)
    b_shares = {
        "last_touch": ("0", "0", "1"),
        "first_touch": ("1", "0", "0"),
        "linear": (THIRD, THIRD, LAST_THIRD),
        "time_decay": ("0.1", "0.3", "0.6"),
        "position_based": ("0.4", "0.2", "0.4"),
        "data_driven": ("0.2", "0.3", "0.5"),
    }
    for position, (campaign, keyword) in enumerate(
        [(social, None), (search, boiler), (search, plumber)]
    ):
        touch(b, position, campaign, keyword, **{m: v[position] for m, v in b_shares.items()})
    touch(c, 0, social)
    touch(d, 0, None)
    touch(s, 0, search, boiler)
    touch(x, 0, search, boiler)
    touch(f, 0, social)

    def outcome(on, stage, value=None):
        OutcomeFactory(account=account, call=on, stage=stage, value=value)

    outcome(a, "won", Decimal("300.00"))
    outcome(b, "qualified")
    outcome(b, "won", Decimal("200.00"))
    outcome(d, "won", Decimal("50.00"))
    outcome(s, "won", Decimal("1000.00"))
    outcome(x, "won", Decimal("999.00"))

    def spend(campaign, day, amount, keyword=None):
        CostFactory(campaign=campaign, keyword=keyword, date=dt.date(2026, 3, day), amount=amount)

    spend(search, 2, Decimal("100.00"))
    spend(search, 3, Decimal("40.00"), boiler)
    spend(search, 4, Decimal("60.00"), plumber)
    spend(social, 3, Decimal("30.00"))
    spend(mail, 4, Decimal("25.00"))
    spend(search, 1, Decimal("999.00"))
    spend(social, 5, Decimal("999.00"))
    return World(search, social, mail, boiler, plumber, {"A": a, "B": b, "C": c, "D": d})
