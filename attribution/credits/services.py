"""Writes of the credits: each call's touchpoints with every model's share, replaced whole.

Both entry points are idempotent: a call's rows are deleted and written again in one
transaction, so a rerun (a retried task, a replayed hook) leaves the same rows.

Concurrency: recomputes of one account take a transaction-level advisory lock on it —
exclusive for `recompute_credits`, shared for each chunk of the bulk path. Chunks cover disjoint
calls and run side by side; a per-call recompute waits for the chunks in flight (seconds), and
chunks queued after it wait for it. Each chunk reads and writes under its lock in one
transaction, so a per-call recompute can never slip between a chunk's read and its write and
be overwritten with older data.
"""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from typing import Protocol

from django.db import connection, transaction
from django.utils import timezone

from attribution.credits import copying, markov, rules, selectors, threads
from attribution.models.credits import RemovalEffect, Touchpoint

# Calls per chunk transaction of the bulk path: ~1.6 touch rows each, a few MB in Python.
CHUNK_CALLS = 50_000
# Chunks in flight at once, each on its own connection: PostgreSQL's share of a chunk (delete,
# gather, COPY ingest) is ~3× the Python share, so two keep both cores of a small machine busy.
WRITERS = 2
# pg_advisory_xact_lock(key, account id): this key names "recomputing an account's credits".
_LOCK_KEY = 0x43524544  # "CRED"


class Progress(Protocol):
    """What the bulk path reports to: a tqdm bar fits."""

    total: float | None

    def update(self, n: float) -> object: ...


@transaction.atomic
def recompute_credits(*, account, call_ids: Iterable[int]) -> int:
    """Replace the touchpoints of these calls of the account (ids of other accounts' calls
    are ignored), with the account's stored removal effects for the data-driven model.
    Call it when a call is recorded or its session, start or campaign changes. Idempotent.
    Waits for bulk chunks in flight on the account. Returns the number of rows written."""
    ids = sorted(set(call_ids))
    if not ids:
        return 0
    _lock(account, shared=False)
    shares = copying.Shares(selectors.removal_effects(account=account))
    Touchpoint.objects.filter(account=account, call_id__in=ids).delete()
    rows = selectors.touchpoints_of_calls(account=account, call_ids=ids)
    return copying.copy_touchpoints(account=account, rows=rows, shares=shares)


def recompute_account_credits(*, account, progress: Progress | None = None) -> int:
    """Recompute and store the account's removal effects, then replace the touchpoints of all
    its calls, one transaction per chunk of CHUNK_CALLS calls (a reader sees each call's rows
    whole, old or new, and rows of deleted calls go too). Idempotent; a rerun after a failure
    halfway finishes the job. Returns the number of rows written."""
    refresh_removal_effects(account=account)
    effects = selectors.removal_effects(account=account)
    chunks = selectors.call_chunks(account=account, size=CHUNK_CALLS)
    if progress is not None:
        progress.total = sum(count for *_, count in chunks)
    written = 0
    ranges = [(low, high) for low, high, _ in chunks]
    recomputed = threads.each(
        lambda bounds: _recompute_chunk(account, effects, *bounds), ranges, workers=WRITERS
    )
    for rows, (*_, count) in zip(recomputed, chunks, strict=True):
        written += rows
        if progress is not None:
            progress.update(count)
    return written


def refresh_removal_effects(*, account, now: dt.datetime | None = None) -> dict:
    """Recompute and store the account's removal effects over its journeys of the trailing
    90 days (selectors.transition_counts, markov.removal_effects), replacing the old ones in
    one transaction. Idempotent. Returns them by campaign id (None: Unattributed), as stored."""
    now = now or timezone.now()
    effects = markov.removal_effects(selectors.transition_counts(account=account, now=now))
    stored = {state: _quantize(effect) for state, effect in effects.items()}
    with transaction.atomic():
        RemovalEffect.objects.filter(account=account).delete()
        RemovalEffect.objects.bulk_create(
            RemovalEffect(account=account, campaign_id=state, effect=effect, computed_at=now)
            for state, effect in stored.items()
        )
    return stored


@transaction.atomic
def _recompute_chunk(account, effects: dict, low: int, high: int | None) -> int:
    _lock(account, shared=True)
    old = Touchpoint.objects.filter(account=account, call_id__gte=low)
    (old.filter(call_id__lt=high) if high is not None else old).delete()
    rows = selectors.touchpoints_of_call_range(account=account, low=low, high=high)
    return copying.copy_touchpoints(account=account, rows=rows, shares=copying.Shares(effects))


def _lock(account, *, shared: bool) -> None:
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [_LOCK_KEY, account.pk])


def _quantize(effect: Fraction) -> Decimal:
    """A removal effect as stored: 15 places, half-even (exact Fraction → Decimal)."""
    return Decimal(round(effect * rules.UNIT)).scaleb(-rules.PLACES)
