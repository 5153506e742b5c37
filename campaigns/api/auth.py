"""Bearer API keys and role checks.

A request authenticated by a key has `request.auth` = the ApiKey (with its account loaded) and
`request.user` = None: keys are not users, and nothing downstream may confuse the two."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from campaigns import selectors, services
from campaigns.models import ApiKey, Role


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw_key = header.partition(" ")
        if scheme.lower() != "bearer" or not raw_key.strip():
            raise exceptions.AuthenticationFailed(
                "Send the key as 'Authorization: Bearer <api key>'."
            )
        api_key = selectors.api_key_for_secret(raw_key=raw_key.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("Unknown API key.")
        if api_key.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        services.touch_api_key(api_key=api_key)
        return (None, api_key)

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An account's API key."}


WRITERS = (Role.ADMIN, Role.INTEGRATION)
ALL_ROLES = tuple(Role.values)


class ReadOnlyOrWriter(permissions.BasePermission):
    """Any key reads; writers write. A view narrows this with `read_roles` / `write_roles`."""

    message = "This API key's role may not do this."

    def has_permission(self, request, view) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            raise exceptions.NotAuthenticated("Send 'Authorization: Bearer <api key>'.")
        if request.method in permissions.SAFE_METHODS:
            allowed = getattr(view, "read_roles", ALL_ROLES)
        else:
            allowed = getattr(view, "write_roles", WRITERS)
        if api_key.role in allowed:
            return True
        self.message = (
            f"A '{api_key.role}' key may not {request.method} here; "
            f"this needs one of: {', '.join(allowed)}."
        )
        return False
