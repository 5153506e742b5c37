"""Fixed-window rate limits on a shared cache, so a crawler cannot drain a pool.

With Redis (CACHE_URL) the counter is Redis' atomic INCR, shared by every web process; the demo
uses the in-process cache. A window is one minute: `hit` returns the seconds until the window
ends once the limit is passed, else None."""

import time

from django.core.cache import cache

WINDOW_SECONDS = 60


def hit(name: str, *, limit: int, now: float | None = None) -> int | None:
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    key = f"rl:{name}:{window}"
    # add() is SET NX: only the first request of a window creates the counter, with its expiry.
    cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr: count this request as the first
        cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
        count = 1
    if count <= limit:
        return None
    return max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
