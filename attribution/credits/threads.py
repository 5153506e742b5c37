"""Database work spread over threads, each with its own connection: PostgreSQL then works on
two statements at once (one backend each), while Python waits on neither.

Only outside a transaction: another connection cannot see the caller's uncommitted rows, so
inside one (a test, an eager task within a request) the work runs in order on the caller's
connection."""

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

from django.db import connection


def each(fn: Callable, items: Iterable, *, workers: int) -> Iterator:
    """`fn(item)` for every item, results in the items' order."""
    items = list(items)
    if connection.in_atomic_block or workers <= 1 or len(items) <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_on_own_connection, fn, item) for item in items]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:  # after a failure, start nothing more
                future.cancel()


def _on_own_connection(fn: Callable, item):
    try:
        return fn(item)
    finally:
        connection.close()  # the thread's own: Django opens one per thread
