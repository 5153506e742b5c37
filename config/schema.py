"""The API's error answers in the OpenAPI schema, documented once for every operation.

drf-spectacular documents what a view returns when it succeeds; the errors come from one place
(`config.exceptions.api_exception_handler`), so they are documented from one place too, by the
postprocessing hook below, from what an operation takes: a key (401, 403), input (400), a path
id (404), a body (415 when it is not JSON), an `Idempotency-Key` (409, 422), a DELETE of
something with history (409). Every one has the error shape of `config.exceptions`. The same
hook documents the batch POSTs (one object or a list) as such. The rate limiter documents its
own 429 and 413 (`campaigns.api.throttling.document_limits`). schemathesis checks all of it
against the running app (tests/test_api_schemathesis.py)."""

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": "The one error shape of the API.",
    "properties": {
        "code": {"type": "string", "description": "Machine-readable: `invalid`, `not_found`, …"},
        "message": {"type": "string", "description": "A sentence a person can act on."},
        "errors": {
            "description": "Field messages: an object for one item, a list aligned with the "
            "input for a batch (`{}` for the good items).",
            "oneOf": [{"type": "object", "additionalProperties": True}, {"type": "array"}],
        },
    },
    "required": ["code", "message", "errors"],
}

BAD_INPUT = "Bad input: `errors` names each field and what is wrong; nothing was written."
NO_KEY = "No API key, or a key that is not valid (revoked or unknown)."
ROLE = "This key's role may not do this (see the roles in the README)."
NOT_FOUND = "No such object in this key's account (another account's objects are 404 too)."
CONFLICT = "The current state forbids it; the message says why and what to do instead."
MEDIA_TYPE = "The body is not JSON (`Content-Type: application/json`)."
KEY_REUSED = "This `Idempotency-Key` was used with another request."

BODY_METHODS = {"post", "put", "patch"}


def error_response(description: str, headers: dict | None = None) -> dict:
    """An error answer with the one error shape (and any headers it carries)."""
    response = {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}
        },
    }
    if headers:
        response["headers"] = headers
    return response


def api_operations(result):
    """(method, operation) of every /api/v1/ operation in a generated schema, with the Error
    component in place for the hooks that document answers."""
    result.setdefault("components", {}).setdefault("schemas", {}).setdefault(
        ERROR_COMPONENT, ERROR_SCHEMA
    )
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield method, operation


def _errors_for(method: str, operation: dict) -> dict[str, str]:
    parameters = operation.get("parameters", [])
    where = {parameter.get("in") for parameter in parameters}
    headers = {
        parameter.get("name", "").lower()
        for parameter in parameters
        if parameter.get("in") == "header"
    }
    errors = {"401": NO_KEY, "403": ROLE}
    if method in BODY_METHODS or "query" in where or "header" in where:
        errors["400"] = BAD_INPUT
    if "requestBody" in operation:
        errors["415"] = MEDIA_TYPE
    if "path" in where:
        errors["404"] = NOT_FOUND
    if method == "delete" or "idempotency-key" in headers:
        errors["409"] = CONFLICT
    if "idempotency-key" in headers:
        errors["422"] = KEY_REUSED
    return errors


def _one_or_many(schema: dict | None) -> dict | None:
    """{X} or a list of X, for a `Paginated<X>List` reference; None for anything else."""
    ref = (schema or {}).get("$ref", "")
    name = ref.rsplit("/", 1)[-1]
    if not (name.startswith("Paginated") and name.endswith("List")):
        return None
    item = {"$ref": f"#/components/schemas/{name[len('Paginated') : -len('List')]}"}
    return {"oneOf": [item, {"type": "array", "items": item}]}


def _document_batch(operation: dict) -> None:
    """A POST that takes one object or a list (calls, costs, outcomes) answers in kind:
    drf-spectacular, told `many=True`, documents a paginated page, which a POST never answers.
    Its body and its answers become "one X or a list of X"."""
    batch = False
    for code, response in operation["responses"].items():
        content = response.get("content", {}).get("application/json")
        if str(code).startswith("2") and content and _one_or_many(content.get("schema")):
            content["schema"] = _one_or_many(content["schema"])
            batch = True
    if not batch:
        return
    for content in operation.get("requestBody", {}).get("content", {}).values():
        item = content.get("schema")
        if item and "$ref" in item:
            content["schema"] = {"oneOf": [item, {"type": "array", "items": item}]}


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: the error answers of every /api/v1/ operation
    (module docstring). An error a view documents itself is left as it is."""
    for method, operation in api_operations(result):
        if method == "post":
            _document_batch(operation)
        for code, description in _errors_for(method, operation).items():
            operation["responses"].setdefault(code, error_response(description))
    return result
