"""Error pages: JSON envelope under /api/, plain pages elsewhere."""

from django.http import HttpRequest, HttpResponse
from django.views import defaults

from .exceptions import InternalError, NotFound, error_response


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return error_response(NotFound())
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return error_response(InternalError())
    return defaults.server_error(request)
