"""OAuth access tokens for Google and Microsoft destinations, from their refresh tokens.

The access token is cached on the destination (`Target.tokens`, persisted by the outbox) and
refreshed when it is missing or about to expire, and once more when the platform answers 401
(revoked early, clock skew). A failed refresh is never the row's fault: every item is retried,
`AUTH_UNAVAILABLE` when the token endpoint is down, `AUTH_FAILED` when it refuses the
credentials, so rows wait for fixed credentials and the outbox gives up after its max attempts.
No secret is ever put in a Result or a log line.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from django.conf import settings

from attribution.conversions.platforms import base

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Provider:
    name: str
    token_url_setting: str
    scope: str = ""  # Microsoft asks for one on refresh; Google keeps the granted scopes
    client_secret_required: bool = True


GOOGLE = Provider("Google", "GOOGLE_OAUTH_TOKEN_URL")
# https://learn.microsoft.com/advertising/guides/authentication-oauth-get-tokens
# A public client (desktop/mobile app registration) has no secret; Microsoft rotates the
# refresh token on every refresh, so the new one must be saved.
MICROSOFT = Provider(
    "Microsoft",
    "MICROSOFT_OAUTH_TOKEN_URL",
    scope="https://ads.microsoft.com/msads.manage offline_access",
    client_secret_required=False,
)


class AuthError(Exception):
    """No usable access token: `result` is what every item of the batch gets."""

    def __init__(self, result: base.Result):
        super().__init__(result.message)
        self.result = result


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _failed(provider: Provider, message: str) -> AuthError:
    return AuthError(base.Result("retry", "AUTH_FAILED", f"{provider.name} OAuth: {message}"))


def _form(target: base.Target, provider: Provider, tokens: base.TokenStore) -> dict[str, str]:
    creds = target.credentials
    refresh_token = tokens.refresh_token or creds.get("refresh_token", "")
    if not refresh_token or not creds.get("client_id"):
        raise _failed(provider, "the destination has no client_id or refresh_token; reconnect it")
    if provider.client_secret_required and not creds.get("client_secret"):
        raise _failed(provider, "the destination has no client_secret; reconnect it")
    form = {
        "grant_type": "refresh_token",
        "client_id": creds["client_id"],
        "refresh_token": refresh_token,
    }
    if creds.get("client_secret"):
        form["client_secret"] = creds["client_secret"]
    if provider.scope:
        form["scope"] = provider.scope
    return form


def refresh(target: base.Target, http: base.Http, provider: Provider) -> str:
    """Exchange the refresh token for a new access token and save it (and a rotated refresh
    token). Raises AuthError; never raises for transport failures (they become AuthError)."""
    tokens = _tokens(target)
    form = _form(target, provider, tokens)
    url = getattr(settings, provider.token_url_setting)
    try:
        response = http.post(url, data=form, headers={"Accept": "application/json"})
    except httpx.TransportError as exc:
        failure = base.transport_failure(exc)
        raise AuthError(
            base.Result("retry", "AUTH_UNAVAILABLE", f"{provider.name} OAuth: {failure.message}")
        ) from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise AuthError(
            base.Result(
                "retry",
                "AUTH_UNAVAILABLE",
                f"{provider.name} OAuth: token endpoint answered HTTP {response.status_code}",
                base.retry_after(response),
            )
        )
    body = _json(response)
    if response.status_code != 200 or not body.get("access_token"):
        # e.g. 400 invalid_grant: the refresh token was revoked or expired.
        error = str(body.get("error") or f"HTTP {response.status_code}")
        description = str(body.get("error_description") or "")
        logger.warning(
            "%s token refresh refused for destination %s: %s", provider.name, target.id, error
        )
        raise _failed(
            provider, base.scrub(f"token refresh refused ({error}): {description}", target, 200)
        )
    expires_at = _now() + dt.timedelta(seconds=int(body.get("expires_in") or 3600))
    tokens.save(
        access_token=body["access_token"],
        expires_at=expires_at,
        refresh_token=body.get("refresh_token", ""),
    )
    return body["access_token"]


def access_token(target: base.Target, http: base.Http, provider: Provider) -> str:
    """The cached token while valid, else a fresh one."""
    tokens = _tokens(target)
    if tokens.valid(_now()):
        return tokens.access_token
    return refresh(target, http, provider)


def call(
    target: base.Target,
    http: base.Http,
    provider: Provider,
    request: Callable[[str], httpx.Response],
    unauthorized: Callable[[httpx.Response], bool] = lambda r: r.status_code == 401,
) -> httpx.Response:
    """`request(token)` with a valid token; on an unauthorized answer, refresh once and retry
    once. Raises AuthError when no token can be had or a fresh one is refused too; transport
    errors of `request` propagate to the adapter."""
    response = request(access_token(target, http, provider))
    if not unauthorized(response):
        return response
    response = request(refresh(target, http, provider))
    if unauthorized(response):
        raise _failed(provider, "the platform refused a freshly refreshed access token")
    return response


def results(
    target: base.Target,
    http: base.Http,
    provider: Provider,
    request: Callable[[str], httpx.Response],
    interpret: Callable[[base.Target, httpx.Response, int], list[base.Result]],
    n: int,
    unauthorized: Callable[[httpx.Response], bool] = lambda r: r.status_code == 401,
) -> list[base.Result]:
    """`call`, then the platform's `interpret` of the answer for its `n` items; no token, or a
    transport failure, is the same result for every item."""
    try:
        response = call(target, http, provider, request, unauthorized)
    except AuthError as exc:
        return base.all_items(n, exc.result)
    except httpx.TransportError as exc:
        return base.all_items(n, base.transport_failure(exc))
    return interpret(target, response, n)


def _tokens(target: base.Target) -> base.TokenStore:
    # A target without a cache (a one-off send) still works; the token just is not kept.
    return target.tokens if target.tokens is not None else base.TokenStore()


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
