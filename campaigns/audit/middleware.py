"""Sets the audit context (`context.serving`) for the length of each request."""

from campaigns.audit import context


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with context.serving(request):
            return self.get_response(request)
