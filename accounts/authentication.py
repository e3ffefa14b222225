"""DRF authentication for ``Authorization: Bearer ed_live_…``."""

from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from .models import ApiKey, User
from .services import api_key_authenticate_request


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticates with an API key; ``request.auth`` is the ApiKey, ``request.user`` its owner. Failures
    count against the client IP, as on the parse endpoint."""

    def authenticate(self, request: Request) -> tuple[User, ApiKey]:
        key = api_key_authenticate_request(request._request)
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
