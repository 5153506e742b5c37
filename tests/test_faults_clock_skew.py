"""Clock skew of five minutes between a webhook's signer and its verifier breaks nothing.

Our outbound webhooks carry their signing time (`Callpath-Signature: t=…,v1=…`) and a verifier
allows 600 seconds either way (docs/conversions-webhooks.md): a signer five minutes fast or slow
verifies, one past the tolerance does not, on both sides. Twilio's `X-Twilio-Signature` carries no
time at all, so a server clock five minutes off changes nothing there. No other inbound endpoint
verifies a timestamped signature (CRM webhooks authenticate with an API key)."""

import datetime as dt
import time
from types import SimpleNamespace

import pytest
from django.utils import timezone

from attribution.conversions.platforms import base, webhook
from calls.models import Call
from tests.attribution.platform_servers import Reply, facts, http, running, target
from tests.calls.twilio_support import BASE, SID, TOKEN, TRACKING, send, voice_params
from tests.factories import AccountFactory, CampaignFactory, StaticNumberFactory

SECRET = "whsec_skew_0123456789"
BODY = b'{"id":"cv-9-won"}'
SIGNED_AT = 1_763_800_000
FIVE_MINUTES = 300


@pytest.mark.parametrize("skew", [-FIVE_MINUTES, FIVE_MINUTES])
def test_a_delivery_signed_by_a_clock_five_minutes_off_verifies_at_the_receiver(monkeypatch, skew):
    # Only the signer's clock is off: the webhook module's `time`, not the process's.
    skewed = SimpleNamespace(time=lambda: time.time() + skew)
    monkeypatch.setattr(webhook, "time", skewed)
    item = webhook.build(facts(), target("webhook"))
    with running() as server:
        server.reply("/hook", Reply(204))
        hook = target("webhook", "", {"url": f"{server.url}/hook"}, {"secret": SECRET})
        assert webhook.send(hook, [item], http()) == [base.Result("accepted")]
    (request,) = server.requests
    header = request.headers["callpath-signature"]
    signed_at = int(header.split(",")[0].removeprefix("t="))
    assert abs(signed_at - (time.time() + skew)) < 5
    monkeypatch.undo()  # the receiver verifies with the real clock
    assert webhook.verify_signature(SECRET, header, request.body)
    assert not webhook.verify_signature(SECRET, header, request.body, tolerance=FIVE_MINUTES - 10)


@pytest.mark.parametrize(
    ("verifier_offset", "verifies"),
    [
        (-601, False),  # the signer's clock is 601 s ahead of the verifier's
        (-600, True),
        (-FIVE_MINUTES, True),
        (0, True),
        (FIVE_MINUTES, True),
        (600, True),  # "600 seconds either way": the bound itself verifies
        (601, False),  # a request captured and replayed 10 minutes later
    ],
)
def test_the_tolerance_is_600_seconds_either_way_as_documented(verifier_offset, verifies):
    header = webhook.sign(SECRET, SIGNED_AT, BODY)
    now = SIGNED_AT + verifier_offset
    assert webhook.verify_signature(SECRET, header, BODY, now=now) is verifies
    assert webhook.verify_signature(SECRET, header, BODY, now=now + 0.5) is (
        verifies and abs(verifier_offset + 0.5) <= 600
    )


def test_the_default_tolerance_is_the_documented_600_seconds():
    assert webhook.DEFAULT_TOLERANCE == 600


@pytest.mark.parametrize("skew", [-FIVE_MINUTES, FIVE_MINUTES])
def test_a_signature_five_minutes_off_verifies_against_the_real_clock(skew):
    header = webhook.sign(SECRET, int(time.time()) + skew, BODY)
    assert webhook.verify_signature(SECRET, header, BODY)
    assert not webhook.verify_signature(SECRET, header, BODY, tolerance=FIVE_MINUTES - 10)


@pytest.mark.parametrize("stamp", ["²", "١٧٦٣٨٠٠٠٠٠", "+1763800000", "1763800000.5", " "])
def test_a_timestamp_that_is_not_plain_digits_never_verifies_and_never_raises(stamp):
    digest = webhook.sign(SECRET, SIGNED_AT, BODY).split("v1=", 1)[1]
    header = f"t={stamp},v1={digest}"
    assert webhook.verify_signature(SECRET, header, BODY, now=SIGNED_AT) is False


@pytest.fixture
def twilio_number(db, settings):
    settings.PUBLIC_BASE_URL = BASE
    account = AccountFactory(name="Alice Plumbing", twilio_auth_token=TOKEN)
    return StaticNumberFactory(
        campaign=CampaignFactory(account=account, forward_to="+13105550123"), e164=TRACKING
    )


@pytest.mark.parametrize("skew", [-FIVE_MINUTES, FIVE_MINUTES])
def test_twilio_signatures_carry_no_time_so_a_skewed_server_clock_changes_nothing(
    client, twilio_number, monkeypatch, skew
):
    real_now = timezone.now
    skewed_now = real_now() + dt.timedelta(seconds=skew)
    monkeypatch.setattr(timezone, "now", lambda: skewed_now)

    response = send(client, "voice", voice_params())
    refused = send(client, "voice", voice_params(sid="CA" + "b" * 32), signature="forged")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert refused.status_code == 403
    call = Call.objects.get()
    assert (call.external_id, call.status) == (SID, "ringing")
    assert call.started_at == skewed_now  # the server's clock, however wrong, not a refusal
