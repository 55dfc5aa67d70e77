"""One error body for the whole API (RFC 9457 problem details).

Every error of a DRF view passes through `exception_handler`; errors raised
outside DRF (unknown URLs, the time-zone middleware, Django's 500 page) are
answered by `problem_response` with the same body. Both only translate
other frameworks' exceptions (DRF, Django, the database driver) into
`core.errors` and render what the error owns: its status, its body and
its headers.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core import errors

logger = logging.getLogger(__name__)

# RFC 9457's media type: what every error is served as, whatever the request's
# Accept header (a client asking for application/json reads it as JSON).
PROBLEM_CONTENT_TYPE = "application/problem+json"


class ProblemJSONRenderer(JSONRenderer):
    media_type = PROBLEM_CONTENT_TYPE


def problem_response(error: errors.StudioError) -> JsonResponse:
    """The answer to `error` as a plain Django response, for errors raised
    outside DRF."""
    response = JsonResponse(error.body(), status=error.status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in error.headers.items():
        response[name] = value
    return response


def _plain(detail: Any) -> Any:
    """DRF's ErrorDetail tree as plain strings, lists and dicts.

    A list serializer reports errors by item index; they become a list again,
    `{}` standing for the items without errors, so the errors nest the way the
    request body does.
    """
    if isinstance(detail, dict):
        if detail and all(isinstance(key, int) for key in detail):
            return [_plain(detail.get(index, {})) for index in range(max(detail) + 1)]
        return {str(key): _plain(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_plain(item) for item in detail]
    return str(detail)


def _field_errors(detail: Any) -> dict[str, Any]:
    plain = _plain(detail)
    if isinstance(plain, dict):
        return plain
    if not isinstance(plain, list):
        plain = [plain]
    return {"non_field_errors": plain}


def _drf_detail(exc: drf.APIException) -> str:
    if isinstance(exc.detail, str):
        return str(exc.detail)
    if isinstance(exc.detail, dict) and isinstance(exc.detail.get("detail"), str):
        return str(exc.detail["detail"])
    return str(exc.default_detail)


# The project error for each DRF exception that keeps DRF's message. Checked
# in order, so a subclass of one of these (simplejwt's InvalidToken is an
# AuthenticationFailed) answers as its parent.
_DRF_WITH_DETAIL: list[tuple[type[drf.APIException], type[errors.StudioError]]] = [
    # The only authenticator is JWT: every failure is a bad token.
    (drf.AuthenticationFailed, errors.TokenNotValidError),
    (drf.ParseError, errors.ParseError),
    (drf.PermissionDenied, errors.ForbiddenError),
    (drf.MethodNotAllowed, errors.MethodNotAllowedError),
    (drf.NotAcceptable, errors.NotAcceptableError),
    (drf.UnsupportedMediaType, errors.UnsupportedMediaTypeError),
]

# Another library's APIException answers as the project's general error of
# its status, with its message; any other status is a bug, answered 500.
_GENERAL_BY_STATUS: dict[int, type[errors.StudioError]] = {
    cls.status: cls
    for cls in [
        errors.BadRequestError,
        errors.NotAuthenticatedError,
        errors.ForbiddenError,
        errors.NotFoundError,
        errors.MethodNotAllowedError,
        errors.NotAcceptableError,
        errors.RequestTooLargeError,
        errors.UriTooLongError,
        errors.UnsupportedMediaTypeError,
        errors.UnprocessableContentError,
        errors.ServiceUnavailableError,
    ]
}


def _from_drf(exc: drf.APIException) -> errors.StudioError | None:
    """The project error that answers a DRF exception."""
    if isinstance(exc, drf.ValidationError):
        return errors.ValidationFailedError(errors=_field_errors(exc.detail))
    if isinstance(exc, drf.NotFound):
        return errors.NotFoundError()
    if isinstance(exc, drf.Throttled):
        return errors.ThrottledError(exc.wait)
    if isinstance(exc, drf.NotAuthenticated):
        error: errors.StudioError = errors.NotAuthenticatedError()
    else:
        cls = next((ours for theirs, ours in _DRF_WITH_DETAIL if isinstance(exc, theirs)), None)
        if cls is None:
            cls = _GENERAL_BY_STATUS.get(exc.status_code)
        if cls is None:
            return None
        error = cls(_drf_detail(exc))
    # DRF names the challenge of the view's first authenticator.
    auth_header = getattr(exc, "auth_header", None)
    if auth_header and isinstance(error, errors.NotAuthenticatedError):
        error.challenge = auth_header
    return error


def database_unavailable(exc: BaseException | None) -> bool:
    """The database cannot answer now: unreachable, connection lost, or a lock
    or statement timeout. Worth retrying, so answered 503."""
    return isinstance(exc, (OperationalError, InterfaceError))


def to_studio_error(exc: Exception) -> errors.StudioError | None:
    """The project error that answers `exc`, or None for an unexpected one."""
    if isinstance(exc, errors.StudioError):
        return exc
    if isinstance(exc, drf.APIException):
        return _from_drf(exc)
    if isinstance(exc, Http404):
        return errors.NotFoundError()
    if isinstance(exc, DjangoPermissionDenied):
        return errors.ForbiddenError()
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return errors.ValidationFailedError(errors=exc.message_dict)
        return errors.ValidationFailedError(errors={"non_field_errors": exc.messages})
    if isinstance(exc, RequestDataTooBig):
        return errors.RequestTooLargeError()
    if isinstance(exc, SuspiciousOperation):
        return errors.BadRequestError()
    if database_unavailable(exc):
        logger.warning("Database unavailable: %s", exc)
        return errors.ServiceUnavailableError()
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    error = to_studio_error(exc)
    if error is None:
        view = context.get("view")
        logger.exception("Unhandled error in %s", type(view).__name__ if view else "a view")
        error = errors.StudioError()
    set_rollback()
    request = context.get("request")
    if request is not None:
        # An error is a problem body whatever the view renders on success (the
        # OpenAPI document is YAML, Swagger UI is HTML, a feed is iCalendar).
        request.accepted_renderer = ProblemJSONRenderer()
        request.accepted_media_type = PROBLEM_CONTENT_TYPE
    return Response(error.body(), status=error.status, headers=error.headers)
