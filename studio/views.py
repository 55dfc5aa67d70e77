import logging
import sys

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import (
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    ServiceUnavailableError,
    StudioError,
)
from core.exception_handler import database_unavailable, problem_response, to_studio_error
from core.schema import Tags

logger = logging.getLogger(__name__)


class HealthView(APIView):
    """Liveness and database reachability, for load balancers and monitors."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="health_check",
        tags=[Tags.SERVICE],
        summary="Health check",
        description="200 while the service and its database answer; 503 with "
        "`Retry-After` when the database is unreachable.",
        auth=[],
        responses=inline_serializer(
            "Health", {"status": serializers.CharField(), "database": serializers.CharField()}
        ),
    )
    def get(self, request: Request) -> Response:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError as exc:
            logger.warning("Health check cannot reach the database: %s", exc)
            raise ServiceUnavailableError(_("The database is unreachable.")) from exc
        return Response({"status": "ok", "database": "ok"})


@csrf_exempt
def api_not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Any /api/ path that no endpoint serves, in the contract's error shape."""
    message = None
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            message = _("No endpoint at %(path)s; did you mean %(path)s/?") % {"path": request.path}
    return problem_response(NotFoundError(message))


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return problem_response(to_studio_error(exception) or BadRequestError())
    return defaults.bad_request(request, exception)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return problem_response(NotFoundError())
    return defaults.page_not_found(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """The API authenticates with bearer tokens, not cookies; a CSRF refusal
    can only meet a request that no API view serves, and answers in JSON."""
    if request.path.startswith("/api/"):
        return problem_response(ForbiddenError(_("CSRF verification failed.")))
    return csrf.csrf_failure(request, reason)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's last resort for an exception that no view handled, raised
    anywhere: a middleware, the admin, session or user loading.

    A database that cannot answer is a 503 problem on every path, logged as
    one warning line; Django then logs no traceback for it."""
    exc = sys.exc_info()[1]
    if database_unavailable(exc):
        logger.warning("Database unavailable: %s", exc)
        response = problem_response(ServiceUnavailableError())
        # Django's request logger skips a response marked as logged.
        response._has_been_logged = True
        return response
    if request.path.startswith("/api/"):
        return problem_response(StudioError())
    return defaults.server_error(request)
