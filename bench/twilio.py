"""Twilio status callbacks per second through the full webhook path (signature check, lookup,
`record_calls`, attribution, spam rules), under gunicorn, driven by wrk with 32 connections.

Each request is a signed `completed` status callback for one of 2,000 calls, cycled, so the rate
includes replays (as Twilio's retries are). The baseline in the same run is the webhook's own
write, `record_calls` for one call, called directly in-process on the same database.
"""

import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dni  # noqa: E402 - sets Django up, and has the gunicorn and wrk helpers

from calls import services  # noqa: E402
from calls.twilio.signature import compute_signature  # noqa: E402
from campaigns import phones  # noqa: E402
from campaigns import services as campaign_services  # noqa: E402
from campaigns.models import TrackingNumber  # noqa: E402

CALLS = 2000
TOKEN = "bench-token"

LUA = """
local bodies = {{{bodies}}}
local signatures = {{{signatures}}}
local i = 0
request = function()
  i = i + 1
  local k = (i % #bodies) + 1
  local headers = {{["Content-Type"]="application/x-www-form-urlencoded",
                   ["X-Twilio-Signature"]=signatures[k]}}
  return wrk.format("POST", nil, headers, bodies[k])
end
"""


def make_account():
    account = campaign_services.create_account(
        name=f"bench twilio {time.time_ns()}", twilio_auth_token=TOKEN
    )
    campaign = campaign_services.create_campaign(
        account=account, name="Radio", channel="offline", forward_to="+14155552671"
    )
    # A valid number (Twilio's are; the webhooks ignore a `To` that is not a phone number).
    e164 = phones.parse_configured_number(
        f"+1646{2_000_000 + account.pk % 7_000_000:07d}", region="US"
    )
    number = TrackingNumber.objects.create(
        account=account, campaign=campaign, kind="static", e164=e164
    )
    return account, number


def callback(sid: str, number: TrackingNumber, index: int) -> dict:
    return {
        "CallSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": f"+1415555{index % 10000:04d}",
        "To": number.e164,
        "CallStatus": "completed",
        "CallDuration": "61",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def baseline(account, number) -> dict:
    samples = []
    for i in range(500):
        item = services.CallInput(
            provider="twilio",
            external_id=f"CAbase{i:030d}",
            tracking_e164=number.e164,
            caller_e164=f"+1415555{i:04d}",
            caller_raw="",
            started_at=datetime.now(UTC),
            status="abandoned",
            duration_seconds=61,
        )
        began = time.perf_counter()
        services.record_calls(account=account, items=[item])
        samples.append(time.perf_counter() - began)
    samples.sort()
    return {
        "rate": len(samples) / sum(samples),
        "p50": f"{statistics.median(samples) * 1000:.2f}ms",
        "p99": f"{samples[int(len(samples) * 0.99)] * 1000:.2f}ms",
    }


def main() -> None:
    wrk = dni.ensure_wrk()
    account, number = make_account()
    port = dni.free_port()
    url = f"http://127.0.0.1:{port}/webhooks/twilio/status"
    bodies, signatures = [], []
    for i in range(CALLS):
        params = callback(f"CA{i:032x}", number, i)
        bodies.append(urlencode(params))
        signatures.append(compute_signature(token=TOKEN, url=url, params=params))
    script = LUA.format(
        bodies=",".join(map(lua_string, bodies)), signatures=",".join(map(lua_string, signatures))
    )
    server = dni.start_gunicorn(port)
    try:
        dni.run_wrk(wrk, url, script, seconds=2)  # warm-up: creates the calls
        ours = dni.run_wrk(wrk, url, script)
        stored = account.calls.filter(provider="twilio").count()
    finally:
        server.terminate()
        server.wait()
    raw = baseline(account, number)
    print(f"calls created by the webhooks: {stored} of {CALLS} (the rest were not reached)")
    print(f"\nTwilio status callbacks, {dni.CONNECTIONS} connections, {dni.SECONDS} s")
    print(f"{'':34}{'ops/s':>10}{'p50':>10}{'p99':>10}")
    print(
        f"{'webhooks (gunicorn ' + dni.WORKERS + ' workers)':34}{ours['rate']:>10.0f}"
        f"{ours['p50']:>10}{ours['p99']:>10}   non-2xx: {ours['non_2xx']}"
    )
    print(
        f"{'record_calls in-process, serial':34}{raw['rate']:>10.0f}{raw['p50']:>10}"
        f"{raw['p99']:>10}"
    )


if __name__ == "__main__":
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    main()
