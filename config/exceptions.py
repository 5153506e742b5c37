"""One error shape for the whole API:

    {"code": "invalid", "message": "caller_number: '12ab' is not a phone number",
     "errors": {"caller_number": ["'12ab' is not a phone number"]}}

`errors` holds DRF's field messages: an object for one item, a list aligned with the input for a
batch (`errors[1]` is the second item's). `message` is a sentence a person can act on."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from campaigns.errors import DomainError


def _first_message(errors, path: str = "") -> str:
    if isinstance(errors, dict):
        for key, value in errors.items():
            found = _first_message(value, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(errors, list):
        for index, value in enumerate(errors):
            if isinstance(value, dict | list):
                found = _first_message(value, f"{path}[{index}]" if path else f"[{index}]")
            else:
                found = f"{path}: {value}" if path and path != "non_field_errors" else str(value)
            if found:
                return found
    elif errors:
        return f"{path}: {errors}" if path else str(errors)
    return ""


def _align_batch_errors(errors, context):
    """DRF reports a batch's errors as {index: errors}; integrators get a list aligned with
    what they sent, `{}` for the good items."""
    request = context.get("request")
    try:
        data = getattr(request, "data", None)
    except (exceptions.ParseError, exceptions.UnsupportedMediaType):
        # A body that cannot be parsed (text/plain, multipart without a boundary) is not a
        # batch; reading it here must not turn the 400 being answered into a 500.
        data = None
    if not (isinstance(errors, dict) and isinstance(data, list) and errors):
        return errors
    if not all(isinstance(key, int) or str(key).isdigit() for key in errors):
        return errors
    by_index = {int(key): value for key, value in errors.items()}
    return [by_index.get(index, {}) for index in range(len(data))]


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        body = {"code": exc.code, "message": exc.message, "errors": exc.fields}
        return Response(body, status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _align_batch_errors(exc.detail, context)
        message = _first_message(errors) or "The request is not valid."
        if isinstance(errors, list) and not any(isinstance(e, dict | list) for e in errors):
            errors = {"non_field_errors": errors}
        response.data = {"code": "invalid", "message": message, "errors": errors}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        code = getattr(detail, "code", None) or exc.default_code
        response.data = {"code": code, "message": str(detail), "errors": {}}
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def not_found(request, exception=None):
    """Django's 404 for a URL no route matches (`/api/v1/calls/0.5/`): the API's error shape
    under /api/, where clients parse JSON; Django's own page elsewhere (the admin)."""
    if request.path.startswith("/api/"):
        body = {"code": "not_found", "message": f"No such path: {request.path}", "errors": {}}
        return JsonResponse(body, status=404)
    return page_not_found(request, exception)
