"""With the broker down, the API still stores calls: the credits nudge after the commit fails
(logged), the request does not."""

import socket
import time

import pytest

from calls.models import Call
from tests.attribution.test_conversions_faults import publishing_to
from tests.calls.test_calls_api import call
from tests.factories import CampaignFactory, StaticNumberFactory


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


@pytest.mark.django_db(transaction=True)
def test_calls_are_stored_at_once_while_the_broker_is_down(api, account, caplog):
    StaticNumberFactory(campaign=CampaignFactory(account=account), e164="+12125550170")
    with publishing_to(f"redis://127.0.0.1:{closed_port()}/0", "celery"):
        start = time.monotonic()
        response = api.post("/api/v1/calls/", [call("CA1"), call("CA2")])
        took = time.monotonic() - start
    assert response.status_code == 201, response.content
    assert took < 3.0
    assert sorted(Call.objects.values_list("external_id", flat=True)) == ["CA1", "CA2"]
    assert "Error calling" in caplog.text  # Django's robust on_commit logged the failed nudge
