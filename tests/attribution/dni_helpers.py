"""Shared helpers for the DNI tests: an account with pools, and a browser-like client."""

import json

from django.test import Client

from attribution.dni import config

BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)
ORIGIN = "https://shop.example.com"


def browser() -> Client:
    config.clear()
    return Client(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.7")


def post(client: Client, body, *, origin: str | None = ORIGIN, **extra):
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        "/dni/v1/sessions", data, content_type="text/plain;charset=UTF-8", **headers, **extra
    )
