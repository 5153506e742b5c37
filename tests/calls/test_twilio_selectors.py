"""The hand-written lock behind every Twilio callback reads what the ORM reads."""

from django.db import transaction

from calls.models import Call
from calls.twilio import selectors
from tests.factories import AccountFactory, CallFactory, CampaignFactory, StaticNumberFactory


def fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_calls_for_update_loads_the_call_its_account_and_number_as_the_orm_does(
    db, django_assert_num_queries
):
    account = AccountFactory(allowed_origins=["https://shop.example"], twilio_auth_token="t")
    number = StaticNumberFactory(campaign=CampaignFactory(account=account), e164="+12125550100")
    call = CallFactory(account=account, tracking_number=number, talk_seconds=None)
    with transaction.atomic(), django_assert_num_queries(1):
        [locked] = selectors.calls_for_update(call_sid=call.external_id)
        loaded = locked.account, locked.tracking_number  # no further query
    assert fields(locked) == fields(Call.objects.get(pk=call.pk))
    assert [fields(loaded[0]), fields(loaded[1])] == [fields(account), fields(number)]
    assert locked._state.adding is False  # a save() updates the row


def test_calls_for_update_finds_every_account_holding_the_sid_and_a_call_without_number(db):
    first = CallFactory(external_id="CA" + "1" * 32)
    second = CallFactory(external_id="CA" + "1" * 32)  # another account, through the API
    CallFactory(external_id="CA" + "1" * 32, provider="api")  # another provider: not Twilio's
    with transaction.atomic():
        locked = selectors.calls_for_update(call_sid="CA" + "1" * 32)
    assert [call.pk for call in locked] == [first.pk, second.pk]
    assert [call.account.pk for call in locked] == [first.account_id, second.account_id]
    assert [call.tracking_number for call in locked] == [None, None]
    assert selectors.calls_for_update(call_sid="") == []
