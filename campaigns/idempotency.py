"""Idempotency keys, the way Stripe has them (https://docs.stripe.com/api/idempotent_requests):
the first response to a POST sent with an `Idempotency-Key` is kept per (account, key) and
replayed to any retry for 24 hours.

- The same key with another request (body, method or path) is refused: `KeyReused`, 422.
- The same key while its first request still runs is refused: `KeyInProgress`, 409; retry later.
- A request that fails with an error stores nothing (its transaction rolls back), so a retry with
  the same key runs again, as Stripe does for requests that failed validation.

The API layer (`campaigns.api.idempotency.idempotent`) runs the request inside `claim`'s
transaction and stores the response there: effects and key commit together or not at all, on
any number of processes. Keys older than 24 hours are purged by a beat task."""

import hashlib
import hmac
import json
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from campaigns.errors import Conflict, DomainError
from campaigns.models import Account, IdempotencyKey

TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class KeyInProgress(Conflict):
    code = "idempotency_key_in_progress"


class KeyReused(DomainError):
    status_code = 422
    code = "idempotency_key_reused"


def fingerprint(*, method: str, path: str, body) -> str:
    """HMAC-SHA256 of the request as Stripe compares it: the same JSON in any key order or
    spacing is the same request. Keyed with SECRET_KEY because a body can be little more than a
    phone number (an erasure request, one call), and a plain hash of that is reversed by hashing
    every number; the row is kept 24 hours."""
    canonical = json.dumps(
        [method.upper(), path, body], sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder
    )
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def claim(*, account: Account, key: str, request_hash: str) -> IdempotencyKey | None:
    """In the caller's transaction: take the key for this request, and return its stored answer
    if it has one (then the caller replays it and runs nothing).

    A transaction-level advisory lock on (account, key) serialises the requests of one key across
    processes; it is held until the caller's transaction ends. Raises `KeyInProgress` when
    another request holds it and `KeyReused` when the stored request differs."""
    if not connection.in_atomic_block:
        raise RuntimeError("claim() must run inside the request's transaction")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"idempotency-key:{account.pk}:{key}"],
        )
        (locked,) = cursor.fetchone()
    if not locked:
        raise KeyInProgress(
            "A request with this Idempotency-Key is still being processed; retry it shortly."
        )
    stored = IdempotencyKey.objects.filter(account=account, key=key).first()
    if stored is not None and stored.created_at <= timezone.now() - TTL:
        stored.delete()  # expired but not purged yet: the key is free again
        stored = None
    if stored is not None and stored.request_hash != request_hash:
        raise KeyReused(
            "This Idempotency-Key was used with another request (a different body or path) "
            "in the last 24 hours. Use a new key for a new request.",
            fields={"Idempotency-Key": ["Already used with another request."]},
        )
    return stored


def remember(
    *,
    account: Account,
    key: str,
    method: str,
    path: str,
    request_hash: str,
    status_code: int,
    body: str,
    content_type: str,
) -> IdempotencyKey:
    """Store the response to replay, in the transaction `claim` ran in."""
    return IdempotencyKey.objects.create(
        account=account,
        key=key,
        method=method.upper(),
        path=path[:2000],
        request_hash=request_hash,
        status_code=status_code,
        response_body=body,
        content_type=content_type,
        created_at=timezone.now(),
    )


def purge_expired_keys(*, now=None, batch_size: int = 10_000) -> int:
    """Delete keys older than 24 hours, one transaction per batch so that a large backlog holds
    no long lock (the created_at index finds them). Idempotent. Returns how many went."""
    cutoff = (now or timezone.now()) - TTL
    deleted = 0
    while True:
        with transaction.atomic():
            expired = IdempotencyKey.objects.filter(created_at__lte=cutoff)
            ids = list(expired.values_list("pk", flat=True)[:batch_size])
            if not ids:
                return deleted
            deleted += IdempotencyKey.objects.filter(pk__in=ids).delete()[0]
