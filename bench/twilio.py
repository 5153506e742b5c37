"""Twilio status callbacks per second through the full webhook path (signature check, locked
read of the call, `record_calls`, attribution, spam rules, TwiML answer), under gunicorn,
driven by wrk with 32 connections (6 sync workers unless BENCH_WORKERS says otherwise).

The traffic is what a forwarded call really sends after its incoming-call webhook: the dialled
leg's `initiated`, `ringing`, `in-progress` and `completed` callbacks (our `<Number
statusCallback>`) and the parent call's `completed` with its `CallDuration`. Calls are created
first (as the voice webhook would), and there are more callbacks than the run sends, so each
request is a new event for its call, not a replay; events of one call are spread over the run,
a few apart, so concurrent requests sometimes wait on the same call's lock, as they do live.

Baseline in the same run: the database work of one callback (BEGIN, the call locked by
CallSid, its UPDATE, COMMIT) sent by 32 psycopg threads straight to PostgreSQL.
"""

import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dni  # noqa: E402 - sets Django up, and has the gunicorn, wrk and raw-SQL helpers
import psycopg  # noqa: E402
from django.db import connection  # noqa: E402

from calls import services  # noqa: E402
from calls.models import Call  # noqa: E402
from calls.twilio.signature import compute_signature  # noqa: E402
from campaigns import phones  # noqa: E402
from campaigns import services as campaign_services  # noqa: E402
from campaigns.models import TrackingNumber  # noqa: E402

TOKEN = "bench-token"
EVENTS_PER_CALL = 5
WARM_CALLS = 300
# More callbacks than the run can send at the goal's rate, so none is a replay.
CALLS = max(2000, (700 * dni.SECONDS) // EVENTS_PER_CALL)
GOAL_RATE, GOAL_P99_MS = 500, 100

# Each wrk thread runs its own copy of the script: thread `id` of `threads` sends every
# threads-th body from its own offset, so the threads never send the same callback twice.
LUA = """
local bodies = {{{bodies}}}
local signatures = {{{signatures}}}
local threads, created = {threads}, 0
function setup(thread)
  thread:set("id", created)
  created = created + 1
end
local i = 0
request = function()
  local k = ((i * threads + id) % #bodies) + 1
  i = i + 1
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


def ring(account, number, sids: list[str], started_at: datetime) -> None:
    """The calls as the incoming-call webhook leaves them: ringing."""
    items = [
        services.CallInput(
            provider="twilio",
            external_id=sid,
            tracking_e164=number.e164,
            caller_e164=f"+1415555{i % 10000:04d}",
            caller_raw=f"+1415555{i % 10000:04d}",
            started_at=started_at,
            status="ringing",
        )
        for i, sid in enumerate(sids)
    ]
    for start in range(0, len(items), 500):
        services.record_calls(account=account, items=items[start : start + 500])


def callbacks(sid: str, number: TrackingNumber, index: int, started_at: datetime) -> list[dict]:
    """The five status callbacks of one answered, forwarded call, in the order Twilio sends
    them: the dialled leg's four, then the parent's `completed`."""
    common = {
        "AccountSid": "AC" + "0" * 32,
        "From": f"+1415555{index % 10000:04d}",
        "To": number.e164,
        "ApiVersion": "2010-04-01",
        "CallbackSource": "call-progress-events",
    }
    child = {**common, "CallSid": "CA" + sid[2:][::-1], "ParentCallSid": sid}
    child |= {"Direction": "outbound-dial"}
    ended = format_datetime(started_at + timedelta(seconds=75), usegmt=True)
    return [
        child | {"CallStatus": "initiated", "SequenceNumber": "0"},
        child | {"CallStatus": "ringing", "SequenceNumber": "1"},
        child | {"CallStatus": "in-progress", "SequenceNumber": "2"},
        child | {"CallStatus": "completed", "CallDuration": "61", "SequenceNumber": "3"},
        common
        | {
            "CallSid": sid,
            "Direction": "inbound",
            "CallStatus": "completed",
            "CallDuration": "75",
            "Timestamp": ended,
            "SequenceNumber": "0",
        },
    ]


def script(url: str, number, sids: list[str], started_at: datetime) -> str:
    """wrk's Lua: every call's callbacks, interleaved so a call's next event comes a few
    requests after its previous one."""
    per_call = [callbacks(sid, number, i, started_at) for i, sid in enumerate(sids)]
    stride = 7  # calls whose events interleave
    ordered = []
    for group in range(0, len(per_call), stride):
        block = per_call[group : group + stride]
        for step in range(EVENTS_PER_CALL):
            ordered.extend(events[step] for events in block)
    bodies = [urlencode(params) for params in ordered]
    signatures = [compute_signature(token=TOKEN, url=url, params=p) for p in ordered]
    return LUA.format(
        threads=dni.WRK_THREADS,
        bodies=",".join(map(lua_string, bodies)),
        signatures=",".join(map(lua_string, signatures)),
    )


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def raw_callback(sids: list[str]):
    """The database work of one callback, sent straight through psycopg."""
    rng = random.Random(7)

    def work(conn):
        sid = rng.choice(sids)
        with conn.transaction(), conn.cursor() as cursor:
            cursor.execute(
                "SELECT * FROM calls_call WHERE provider = 'twilio' AND external_id = %s "
                "FOR UPDATE",
                (sid,),
            )
            (row,) = cursor.fetchall()
            cursor.execute(
                "UPDATE calls_call SET duration_seconds = duration_seconds + 1, "
                "updated_at = now() WHERE id = %s",
                (row[0],),
            )

    return work


def conninfo() -> str:
    settings = connection.settings_dict
    return psycopg.conninfo.make_conninfo(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
    )


# A callback spends most of its time waiting on PostgreSQL (py-spy: the workers' main threads
# sat in psycopg's wait about half the time), so more sync workers than cores pay: on 2 cores,
# 3 workers gave ~400/s at p99 ~160 ms, 6 gave ~560/s at p99 ~72 ms, 8 no more.
WORKERS = os.environ.get("BENCH_WORKERS", "6")


def main() -> None:
    dni.WORKERS = WORKERS
    wrk = dni.ensure_wrk()
    account, number = make_account()
    port = dni.free_port()
    url = f"http://127.0.0.1:{port}/webhooks/twilio/status"
    started_at = datetime.now(UTC).replace(microsecond=0)
    tag = f"{account.pk:08x}"
    warm = [f"CA{tag}w{i:023x}" for i in range(WARM_CALLS)]
    sids = [f"CA{tag}{i:024x}" for i in range(CALLS)]
    ring(account, number, warm + sids, started_at)
    server = dni.start_gunicorn(port)
    try:
        dni.run_wrk(wrk, url, script(url, number, warm, started_at), seconds=2)
        lua = script(url, number, sids, started_at)
        cpu_before = dni.cpu_seconds(server)
        ours = dni.run_wrk(wrk, url, lua)
        app_cpu = dni.cpu_seconds(server) - cpu_before
    finally:
        server.terminate()
        server.wait()
    calls = Call.objects.filter(account=account, external_id__in=sids)
    sent = round(ours["rate"] * dni.SECONDS)
    reached = calls.exclude(status="ringing").count()
    finished = calls.filter(status="answered", duration_seconds=75).count()
    raw = dni.raw_sql(conninfo(), raw_callback(sids), dni.SECONDS)
    print(
        f"\nTwilio status callbacks, {dni.CONNECTIONS} connections, {dni.SECONDS} s; "
        f"{CALLS} calls x {EVENTS_PER_CALL} callbacks, ~{sent} sent "
        f"({max(0, sent - CALLS * EVENTS_PER_CALL)} replays)"
    )
    print(f"  calls the callbacks answered: {reached}; answered with their 75 s: {finished}")
    print(f"{'':36}{'ops/s':>10}{'p50':>10}{'p99':>10}")
    print(
        f"{'webhooks (gunicorn ' + dni.WORKERS + ' workers)':36}{ours['rate']:>10.0f}"
        f"{ours['p50']:>10}{ours['p99']:>10}   non-2xx: {ours['non_2xx']}"
    )
    label = "the same DB work by raw psycopg"
    print(f"{label:36}{raw['rate']:>10.0f}{raw['p50']:>10}{raw['p99']:>10}")
    print(
        f"  app CPU per callback (gunicorn workers' user+sys / requests): "
        f"{app_cpu / max(sent, 1) * 1000:.2f} ms"
    )
    print(
        f"  webhooks keep {ours['rate'] / raw['rate']:.0%} of the raw rate; goal "
        f"{GOAL_RATE}/s at p99 <= {GOAL_P99_MS} ms"
    )


if __name__ == "__main__":
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    main()
