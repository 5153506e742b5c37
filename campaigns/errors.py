"""Domain errors that services raise; the API's exception handler turns them into responses.
Services never import DRF."""


class DomainError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class Conflict(DomainError):
    """The request is well formed but the current state forbids it (e.g. deleting history)."""

    status_code = 409
    code = "conflict"


class Invalid(DomainError):
    """Input that only the service can judge (it needs the database), reported per field."""
