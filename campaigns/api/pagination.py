from rest_framework import exceptions, serializers
from rest_framework.pagination import CursorPagination

MAX_PAGE_SIZE = 500


class IdCursorPagination(CursorPagination):
    """Cursor pagination: stable under inserts, and no COUNT(*) over large tables.

    `page_size` is 1 to 500 (default 50). Anything else is a 400 naming the range, rather than
    DRF's silent fallback (a typo giving 50 rows) or clamp (asking 1,000 and getting 500)."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise serializers.ValidationError(
                {
                    self.page_size_query_param: [
                        f"Send a whole number from 1 to {self.max_page_size}, not '{raw[:20]}'."
                    ]
                }
            )
        return size

    def decode_cursor(self, request):
        # DRF answers 404 to a cursor it cannot read; it is bad input, said as such.
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise serializers.ValidationError(
                {self.cursor_query_param: ["Not a cursor we gave out: follow `next` as given."]}
            ) from None

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
                parameter["description"] = (
                    f"Results per page, 1 to {self.max_page_size} (default {self.page_size}); "
                    "anything else is a 400."
                )
        return parameters


class StartedAtCursorPagination(IdCursorPagination):
    ordering = ("-started_at", "-id")
