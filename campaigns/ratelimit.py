"""Fixed-window request counters on the shared cache: the one rate limiter of the REST API
(`campaigns.api.throttling`) and of the DNI endpoint.

With Redis (`CACHE_URL`) the counter is Redis' INCR, atomic across every web process: of N
concurrent requests in a window exactly `limit` pass, whatever the interleaving. The demo uses the
in-process cache (locmem), whose incr holds a lock. A window is aligned on the clock
(`now // window`), so every process agrees on it without talking to the others; the price of a
fixed window is that a client can spend two budgets across a boundary, which a per-minute API
budget tolerates (a GCRA script would smooth it, at the cost of a Lua script per request).

If the cache cannot be reached the limiter fails open: the request passes and a warning is
logged, at most once per `OUTAGE_SECONDS` per process, which also stops trying Redis for that
long, so an outage costs no connection attempt per request. Rate limits protect us from
clients; they must not turn a cache outage into an API outage."""

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
OUTAGE_SECONDS = 5.0

_outage = {"until": 0.0}
_outage_lock = threading.Lock()


@dataclass(frozen=True)
class Usage:
    """One request counted against one budget."""

    limit: int
    count: int  # this request's place in its window, itself included
    reset: int  # whole seconds until the window ends, at least 1
    window: int = WINDOW_SECONDS

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)


def count(
    name: str, *, limit: int, window: int = WINDOW_SECONDS, now: float | None = None
) -> Usage | None:
    """Count one request against the budget `name` (`limit` per `window` seconds) and say where
    it stands. None when the cache is unreachable: the caller lets the request through."""
    now = time.time() if now is None else now
    if now < _outage["until"]:
        return None
    current = int(now // window)
    key = f"rl:{name}:{window}:{current}"
    try:
        # add() is SET NX with the expiry: only a window's first request creates its counter.
        cache.add(key, 0, timeout=window * 2)
        try:
            number = cache.incr(key)
        except ValueError:  # evicted between add and incr: this request is the first
            cache.set(key, 1, timeout=window * 2)
            number = 1
    except Exception as exc:  # any cache failure (redis.RedisError, OSError...) fails open
        _cache_down(exc, now)
        return None
    reset = max(1, int((current + 1) * window - now + 0.999))
    return Usage(limit=limit, count=number, reset=reset, window=window)


def hit(name: str, *, limit: int, now: float | None = None) -> int | None:
    """The DNI endpoint's question: None when the request may pass (or the cache is down),
    else the seconds to wait."""
    usage = count(name, limit=limit, now=now)
    if usage is None or usage.allowed:
        return None
    return usage.reset


def client_ip(request) -> str | None:
    """Who an unauthenticated request is: behind a proxy (BEHIND_PROXY), the address the nearest
    trusted proxy saw, else the peer.

    Each proxy appends the address it received from, so the entries left of our proxies' own are
    whatever the client sent: a rate limit or a log-in lockout keyed on the first entry could be
    dodged with a made-up header. With `TRUSTED_PROXY_HOPS` proxies in front of us (default 1),
    the client is that many entries from the right."""
    forwarded = request.headers.get("X-Forwarded-For") if settings.BEHIND_PROXY else None
    if forwarded:
        entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
        hops = max(1, settings.TRUSTED_PROXY_HOPS)
        if entries:
            return entries[-hops] if len(entries) >= hops else entries[0]
    return request.META.get("REMOTE_ADDR") or None


def headers(usage: Usage) -> dict[str, str]:
    """The budget a request was counted against, as draft-ietf-httpapi-ratelimit-headers-07
    names it: the quota, what is left of it, and the seconds until it resets."""
    return {
        "RateLimit-Limit": str(usage.limit),
        "RateLimit-Remaining": str(usage.remaining),
        "RateLimit-Reset": str(usage.reset),
        "RateLimit-Policy": f"{usage.limit};w={usage.window}",
    }


def _cache_down(exc: Exception, now: float) -> None:
    with _outage_lock:
        if now < _outage["until"]:
            return
        _outage["until"] = now + OUTAGE_SECONDS
    logger.warning(
        "Rate limits are off for %.0f s: the cache is unreachable (%s: %s); requests pass.",
        OUTAGE_SECONDS,
        type(exc).__name__,
        exc,
    )


def reset_outage() -> None:
    """Forget a remembered outage (tests, and a process that knows the cache is back)."""
    _outage["until"] = 0.0
