"""A real local HTTP server standing in for an ad platform (and its OAuth token endpoint), plus
the Facts/Target builders the platform adapter tests share.

    with running() as server:
        server.reply("/v1/events:ingest", Reply(429, {"error": {}}, {"Retry-After": "30"}))
        ... adapter.send(target(server.url), items, Http(httpx.Client(timeout=0.5)))
        assert server.requests[0].json() == ...

Replies queue per path (the last one repeats); a reply may be a function of the request (for
answers that depend on the body); a path with no reply answers 404.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from attribution.conversions.platforms.base import Facts, Http, Target, TokenStore

UTC = dt.UTC
OCCURRED = dt.datetime(2026, 11, 20, 19, 32, 45, tzinfo=UTC)
CLICKED = dt.datetime(2026, 11, 18, 15, 0, 0, tzinfo=UTC)


@dataclass
class Reply:
    status: int = 200
    body: dict | str | bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds to sleep before answering (timeouts)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, dict):
            return json.dumps(self.body).encode(), "application/json"
        if isinstance(self.body, str):
            return self.body.encode(), "text/xml; charset=utf-8"
        return self.body, "application/octet-stream"


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str  # with the query string
    headers: dict  # lower-cased names
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)

    def form(self) -> dict:
        return dict(httpx.QueryParams(self.body.decode()))


class PlatformServer:
    def __init__(self) -> None:
        self.replies: dict[str, list[Reply | Callable[[Recorded], Reply]]] = {}
        self.requests: list[Recorded] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                request = Recorded("POST", self.path, headers, body)
                server.requests.append(request)
                reply = server._next(request)
                time.sleep(reply.delay)
                payload, content_type = reply.encoded()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False  # a sleeping handler must not hold up the test
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # A short poll keeps shutdown() (once per test) from costing half a second.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    def reply(self, path: str, *replies: Reply | Callable[[Recorded], Reply]) -> None:
        self.replies[path] = list(replies)

    def on(self, path: str) -> list[Recorded]:
        return [request for request in self.requests if request.path.split("?")[0] == path]

    def _next(self, request: Recorded) -> Reply:
        path = request.path.split("?", 1)[0]
        queue = self.replies.get(path)
        if not queue:
            return Reply(404, {"error": "no reply scripted for " + path})
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        return reply(request) if callable(reply) else reply

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextlib.contextmanager
def running() -> Iterator[PlatformServer]:
    server = PlatformServer()
    try:
        yield server
    finally:
        server.close()


# Building an SSL context costs ~80 ms; every test client shares one.
_SSL = ssl.create_default_context()


def http(timeout: float = 0.5) -> Http:
    """A client with a short timeout, so the timeout tests stay fast."""
    return Http(httpx.Client(timeout=timeout, verify=_SSL))


def facts(**overrides) -> Facts:
    values = {
        "dedup_key": "cv-1-42",
        "action": "987654321",
        "upload": "click",
        "occurred_at": OCCURRED,
        "value": Decimal("150.00"),
        "currency": "USD",
        "time_zone": "America/New_York",
        "session_started_at": CLICKED,
    }
    return Facts(**(values | overrides))


class Saved:
    """Collects what a TokenStore persists."""

    def __init__(self) -> None:
        self.values: list[dict] = []

    def __call__(self, values: dict) -> None:
        self.values.append(values)


def target(
    kind: str,
    base_url: str = "https://platform.invalid",
    config: dict | None = None,
    credentials: dict | None = None,
    tokens: TokenStore | None = None,
    click_window_days: int = 90,
) -> Target:
    return Target(
        id=7,
        kind=kind,
        base_url=base_url,
        config=config or {},
        credentials=credentials or {},
        click_window_days=click_window_days,
        tokens=tokens,
    )


def valid_token(token: str = "cached-token", persist: Saved | None = None) -> TokenStore:
    """A cached access token good for another hour."""
    return TokenStore(
        access_token=token,
        expires_at=dt.datetime.now(UTC) + dt.timedelta(hours=1),
        persist=persist or Saved(),
    )


def assert_json_names(descriptor, data: dict, path: str = "") -> None:
    """Every key at every level is the field's lowerCamelCase `json_name` (json_format.ParseDict
    alone also accepts snake_case, which the REST endpoints do not promise to)."""
    for key, value in data.items():
        field_ = descriptor.fields_by_camelcase_name.get(key)
        assert field_ is not None, f"{path}{key} is not a field's JSON name"
        assert field_.json_name == key, f"{path}{key} is not a field's JSON name"
        message = field_.message_type
        if message is None or message.full_name.startswith("google.protobuf."):
            continue
        for element in value if field_.is_repeated else [value]:
            assert_json_names(message, element, f"{path}{key}.")
