"""Shared pieces of the outbox tests: destinations of each kind pointed at a local server, and a
local server that answers like the platforms (and counts what it accepted)."""

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from attribution.conversions import destinations
from attribution.models import Destination

SETTINGS = {
    "webhook": ({"url": "{base}/hook"}, {"secret": "whsec-test"}),
    "meta": ({"pixel_id": "1234567890"}, {"access_token": "meta-token"}),
    "microsoft_ads": (
        {"customer_id": "111", "account_id": "222"},
        {"client_id": "ms-client", "refresh_token": "ms-refresh", "developer_token": "ms-dev"},
    ),
    "google_ads": (
        {"customer_id": "1234567890"},
        {
            "client_id": "g-client",
            "client_secret": "g-secret",
            "refresh_token": "g-refresh",
            "developer_token": "g-dev",
        },
    ),
    "google_data_manager": (
        {"customer_id": "1234567890"},
        {"client_id": "g-client", "client_secret": "g-secret", "refresh_token": "g-refresh"},
    ),
}


def make_destination(account, kind: str, *, base: str = "http://127.0.0.1:9", rules=None, **extra):
    config, credentials = SETTINGS[kind]
    config = {key: value.format(base=base) for key, value in config.items()}
    return destinations.create_destination(
        account=account,
        name=extra.pop("name", f"{kind} destination"),
        kind=kind,
        base_url=base,
        config={**config, **extra.pop("config", {})},
        credentials=dict(credentials),
        rules=rules if rules is not None else [{"trigger": "won", "action": "Purchase"}],
        **extra,
    )


def won_rule(action="Purchase", **extra) -> dict:
    return {"trigger": "won", "action": action, **extra}


class Receiver:
    """A local HTTP server for the webhook and Meta adapters: records every request and
    answers 200 (Meta: `events_received`), or what `answer(path, body)` returns as
    (status, body, headers)."""

    def __init__(self, answer=None):
        self.requests: list[tuple[str, dict, dict]] = []
        self.answer = answer
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw or b"{}")
                receiver.requests.append((self.path, body, dict(self.headers)))
                status, answer, headers = (
                    receiver.answer(self.path, body) if receiver.answer else (200, None, {})
                )
                if answer is None:
                    answer = {"events_received": len(body.get("data", []))}
                data = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def money(value) -> Decimal:
    return Decimal(str(value))


__all__ = ["Destination", "Receiver", "make_destination", "money", "won_rule"]
