"""One error body for the whole API (RFC 9457 problem details).

Every error of a DRF view passes through `exception_handler`; errors raised
outside DRF (unknown URLs, the time-zone middleware, Django's 500 page) are
answered by `problem_response` with the same body.
"""

import logging
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import set_rollback

from studio import errors

logger = logging.getLogger(__name__)

BEARER_CHALLENGE = 'Bearer realm="api"'


def problem_body(
    status: int, code: str, detail: str, errors_: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": str(detail),
    }
    if errors_ is not None:
        body["errors"] = errors_
    return body


def _headers_for(error: errors.StudioError) -> dict[str, str]:
    headers = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = BEARER_CHALLENGE
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return headers


def problem_response(error: errors.StudioError) -> JsonResponse:
    """The problem body of `error` as a plain Django response."""
    response = JsonResponse(
        problem_body(error.status, error.code, error.message, error.errors),
        status=error.status,
    )
    for name, value in _headers_for(error).items():
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


class _TransientError(errors.StudioError):
    """An error whose status and code come from another framework's exception."""

    def __init__(self, message: str, *, status: int, code: str):
        super().__init__(message)
        self.status = status
        self.code = code


def _from_drf(exc: drf.APIException) -> errors.StudioError:
    """The project error that answers a DRF exception."""
    if isinstance(exc, drf.ValidationError):
        return errors.ValidationFailedError(errors=_field_errors(exc.detail))
    if isinstance(exc, drf.NotAuthenticated):
        return errors.NotAuthenticatedError()
    if isinstance(exc, drf.AuthenticationFailed):
        # The only authenticator is JWT: every failure is a bad token.
        return errors.TokenNotValidError(_drf_detail(exc))
    if isinstance(exc, drf.PermissionDenied):
        return errors.ForbiddenError(_drf_detail(exc))
    if isinstance(exc, drf.NotFound):
        return errors.NotFoundError()
    if isinstance(exc, drf.Throttled):
        error = _TransientError(
            _("Too many requests; try again in %(seconds)d seconds.")
            % {"seconds": max(1, int(exc.wait or 1))},
            status=429,
            code="throttled",
        )
        error.retry_after = max(1, int(exc.wait or 1))
        return error
    codes = {
        drf.ParseError: "parse_error",
        drf.MethodNotAllowed: "method_not_allowed",
        drf.NotAcceptable: "not_acceptable",
        drf.UnsupportedMediaType: "unsupported_media_type",
    }
    code = next(
        (value for cls, value in codes.items() if isinstance(exc, cls)),
        str(exc.default_code),
    )
    return _TransientError(_drf_detail(exc), status=exc.status_code, code=code)


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
        # An error is JSON whatever the view renders on success (the OpenAPI
        # document is YAML, Swagger UI is HTML).
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
    headers = _headers_for(error)
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    return Response(
        problem_body(error.status, error.code, error.message, error.errors),
        status=error.status,
        headers=headers,
    )
