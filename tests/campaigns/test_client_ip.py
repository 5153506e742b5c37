"""The client address behind proxies is the one our nearest trusted proxy saw: a made-up
X-Forwarded-For cannot dodge a DNI rate limit or an admin log-in lockout."""

import pytest
from django.test import RequestFactory

from campaigns.ratelimit import client_ip


def request(forwarded: str | None = None, peer: str = "10.0.0.2"):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=peer, **headers)


def test_without_a_proxy_the_peer_is_the_client_whatever_the_header_says(settings):
    settings.BEHIND_PROXY = False

    assert client_ip(request("198.51.100.9")) == "10.0.0.2"


@pytest.mark.parametrize(
    ("hops", "forwarded", "client"),
    [
        (1, "203.0.113.5", "203.0.113.5"),
        # The client put 1.2.3.4 in the header; our proxy appended the address it really saw.
        (1, "1.2.3.4, 203.0.113.5", "203.0.113.5"),
        # A CDN then our load balancer: the client is two entries from the right.
        (2, "1.2.3.4, 203.0.113.5, 192.0.2.10", "203.0.113.5"),
        (2, "203.0.113.5", "203.0.113.5"),
    ],
)
def test_behind_proxies_the_client_is_the_entry_the_nearest_trusted_proxy_added(
    settings, hops, forwarded, client
):
    settings.BEHIND_PROXY = True
    settings.TRUSTED_PROXY_HOPS = hops

    assert client_ip(request(forwarded)) == client


def test_behind_a_proxy_without_the_header_the_peer_is_the_client(settings):
    settings.BEHIND_PROXY = True

    assert client_ip(request()) == "10.0.0.2"
    assert client_ip(request(" , ")) == "10.0.0.2"
