"""`X-Twilio-Signature`: compute and verify it exactly as twilio-python's RequestValidator does
(PROTOCOLS.md §1.9). Pure: no Django, no settings, no I/O.

Form requests: HMAC-SHA1 keyed by the auth token over the full URL Twilio requested, followed
by each POST parameter name (sorted, code-point order) glued to each of its values (distinct
values, sorted), base64. JSON requests: the URL carries `bodySHA256` (hex SHA-256 of the raw
body) and the signature covers the URL alone. Twilio's back end is inconsistent about the
standard port, so a signature over the URL with or without `:443`/`:80` is accepted.
"""

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qs, urlparse

BODY_HASH_PARAM = "bodySHA256"
# A Django QueryDict (every value of a repeated name), or a plain mapping of names to a value
# or to a list of values.
Params = Mapping[str, str | Iterable[str]]


def _values(params: Params, name: str) -> list[str]:
    # A QueryDict's [] gives only the last value of a repeated name: its getlist gives them all.
    getlist = getattr(params, "getlist", None)
    if getlist is not None:
        return list(getlist(name))
    value = params[name]
    return [value] if isinstance(value, str) else list(value)


def compute_signature(*, token: str, url: str, params: Params | None = None) -> str:
    """The base64 HMAC-SHA1 Twilio would send for `url` and `params`."""
    text = url
    for name in sorted(set(params or {})):
        for value in sorted(set(_values(params, name))):
            text += name + value
    digest = hmac.new(token.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def body_hash(body: bytes) -> str:
    """Hex SHA-256 of a raw JSON body, as Twilio puts it in `bodySHA256` (hex, not base64)."""
    return hashlib.sha256(body).hexdigest()


# Both helpers re-serialise through urlparse().geturl() even when nothing changes, as
# twilio-python does, so edge cases (a bare trailing "?") normalise the same way.


def with_port(url: str) -> str:
    """`url` with its scheme's standard port written out (a port already there is kept)."""
    parts = urlparse(url)
    if parts.port:
        return parts.geturl()
    port = 443 if parts.scheme == "https" else 80
    return parts._replace(netloc=f"{parts.netloc}:{port}").geturl()


def without_port(url: str) -> str:
    """`url` with any port removed (as twilio-python does: whatever the port)."""
    parts = urlparse(url)
    if not parts.port:
        return parts.geturl()
    return parts._replace(netloc=parts.netloc.split(":")[0]).geturl()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def is_valid(
    *,
    token: str,
    url: str,
    signature: str | None,
    params: Params | None = None,
    body: bytes | None = None,
) -> bool:
    """Whether `signature` proves Twilio sent this request with `token`.

    Pass `body` (the raw bytes) for a JSON request whose URL carries `bodySHA256`: the hash is
    checked and the signature is over the URL alone. A missing signature, an empty token or a
    malformed URL never verifies."""
    if not token or not signature:
        return False
    try:
        candidates = {without_port(url), with_port(url)}
    except ValueError:  # a port that is not a number
        return False
    body_ok = True
    query = parse_qs(urlparse(url).query)
    if body is not None and BODY_HASH_PARAM in query:
        body_ok = _same(body_hash(body), query[BODY_HASH_PARAM][0])
        params = None
    matches = [
        _same(compute_signature(token=token, url=candidate, params=params), signature)
        for candidate in candidates
    ]
    return body_ok and any(matches)
