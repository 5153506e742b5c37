"""`GET /dni/v1/<public key>.js`: the website snippet, with the account's key and our API base.

The source (`snippet.js`) is read once at import. Served, it loses its indentation and its
comment-only lines (safe for this file: it has no multi-line strings or template literals), so
the source can explain itself and the script still stays below its 10,240-byte budget (9,859
bytes before the key and the API base are filled in, with the consent mode). Put a comment on
a line of its own: a comment after code is served as it is.
"""

import json
import re
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse

from campaigns.models import Account

MAX_BYTES = 10_240


def _compact(source: str) -> str:
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"


SNIPPET = _compact((Path(__file__).parent / "snippet.js").read_text(encoding="utf-8"))
PLACEHOLDER = re.compile(r"__CALLPATH_(KEY|API)__")


def _js_string(value: str) -> str:
    # JSON is a JS string literal; escaping <, > and & as well keeps it inert if the snippet
    # is ever pasted inline into a page's <script> (no "</script>" can close the tag).
    text = json.dumps(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _api_base(request) -> str:
    return settings.PUBLIC_BASE_URL or request.build_absolute_uri("/").rstrip("/")


def _account_exists(public_key: str) -> bool:
    return Account.objects.filter(public_key=public_key).exists()


def snippet(request, public_key: str) -> HttpResponse:
    """The snippet for this key, cacheable for 5 minutes; 404 (a JS comment) for an unknown key.

    The 404 is cached only for a minute, so a key created just now starts to work soon."""
    if not _account_exists(public_key):
        response = HttpResponse(
            "/* Callpath: no account has this public key. */\n",
            status=404,
            content_type="application/javascript; charset=utf-8",
        )
        response["Cache-Control"] = "public, max-age=60"
        return response
    # One pass, so a key that happens to contain a placeholder's name is not filled in twice.
    values = {"KEY": _js_string(public_key), "API": _js_string(_api_base(request))}
    body = PLACEHOLDER.sub(lambda match: values[match.group(1)], SNIPPET)
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response
