"""Request-size limits and rate-limit headers, for every route (API, DNI, Twilio webhooks, admin).

A body larger than `DATA_UPLOAD_MAX_MEMORY_SIZE` (a view may set a smaller `max_body_bytes`
with `body_limit`) is answered 413 with the API's error shape before anything reads it:

- with a Content-Length, by the header alone (DRF reads JSON through the request stream, which
  Django's own check on `request.body` never sees);
- without one (`Transfer-Encoding: chunked`), by reading at most limit + 1 bytes from a WSGI
  server that marks its input as terminated (gunicorn decodes the chunks and sets
  `wsgi.input_terminated`); the bytes read become the request's body, with their length as its
  Content-Length, so the view reads them as if they had been sent with one. Django alone reads
  no body at all without a Content-Length;
- `RequestDataTooBig` raised later (a multipart form's fields) is a 413 too, not Django's 400.

Multipart bodies are left to Django, which applies the limit to their fields, not their files.

On the way out, the rate-limit budget a request was counted against (`request.ratelimit`, a
`campaigns.ratelimit.Usage` set by the API throttle or the DNI view) becomes RateLimit-* headers.
"""

import io

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.handlers.asgi import ASGIRequest
from django.http import JsonResponse

from campaigns import ratelimit

CHUNK = 64 * 1024


def body_limit(max_bytes: int):
    """A smaller body limit for one view (the DNI endpoint takes a few hundred bytes)."""

    def decorate(view):
        view.max_body_bytes = max_bytes
        return view

    return decorate


def too_large(limit: int, size: int | None = None) -> JsonResponse:
    sent = f"The body is {size:,} bytes" if size is not None else "The body is too large"
    message = (
        f"{sent}; this endpoint takes at most {limit:,} bytes. Send a smaller body, "
        "or split a batch into several requests."
    )
    return JsonResponse({"code": "request_too_large", "message": message, "errors": {}}, status=413)


class RequestLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and not _is_multipart(request):
            response = _check_body(request, limit)
            if response is not None:
                return response
        response = self.get_response(request)
        usage = getattr(request, "ratelimit", None)
        if usage is not None:
            for name, value in ratelimit.headers(usage).items():
                response[name] = value
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        limit = getattr(view_func, "max_body_bytes", None)
        size = _content_length(request)
        if limit is not None and size is not None and size > limit:
            return too_large(limit, size)
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig):
            return too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return None


def _is_multipart(request) -> bool:
    return request.META.get("CONTENT_TYPE", "").startswith("multipart/")


def _content_length(request) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def _check_body(request, limit: int) -> JsonResponse | None:
    size = _content_length(request)
    if size is not None:
        return too_large(limit, size) if size > limit else None
    if isinstance(request, ASGIRequest):
        # The ASGI handler has spooled the whole body already: measure it, and give it the
        # length DRF needs to read it at all.
        stream = request._stream
        size = stream.seek(0, io.SEEK_END)
        stream.seek(0)
        if size > limit:
            return too_large(limit, size)
        if size:
            request.META["CONTENT_LENGTH"] = str(size)
        return None
    environ = getattr(request, "environ", {})
    if "chunked" not in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None
    if not environ.get("wsgi.input_terminated") or "wsgi.input" not in environ:
        return None  # reading to EOF could block; Django reads no body here anyway
    data = _read_at_most(environ["wsgi.input"], limit + 1)
    if len(data) > limit:
        return too_large(limit)
    # Django built the request's stream for a body of Content-Length 0; give it the body.
    request._stream = io.BytesIO(data)
    request.META["CONTENT_LENGTH"] = str(len(data))
    return None


def _read_at_most(stream, size: int) -> bytes:
    parts, left = [], size
    while left > 0:
        part = stream.read(min(CHUNK, left))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)
