"""The project's errors: one class per code the API answers.

Each error owns what its answer needs: the HTTP status, the stable `code`,
a one-sentence message and the headers that go with it (`WWW-Authenticate`
for a refused sign-in, `Retry-After` for a retry that should wait). Services
raise these; the exception handler translates other frameworks' exceptions
into them and renders `body()`, `status` and `headers`. Views never build
error responses by hand.
"""

from http import HTTPStatus
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class StudioError(Exception):
    status: int = 500
    code: str = "server_error"
    message: str = _("Something went wrong on our side.")

    def __init__(self, message: str | None = None, *, errors: dict[str, Any] | None = None):
        self.message = message if message is not None else self.message
        self.errors = errors
        super().__init__(str(self.message))

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers that belong to this answer."""
        return {}

    def body(self) -> dict[str, Any]:
        """The RFC 9457 problem-details body of this error: the one error
        shape of the API, for every answer and every schema example."""
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": HTTPStatus(self.status).phrase,
            "status": self.status,
            "code": self.code,
            "detail": str(self.message),
        }
        if self.errors is not None:
            body["errors"] = self.errors
        return body


class ValidationFailedError(StudioError):
    """Bad input; `errors` maps field names to lists of messages."""

    status = 400
    code = "invalid"
    message = _("The request has invalid fields.")


class BadRequestError(StudioError):
    """A request too malformed to reach a view: a bad Host header, say."""

    status = 400
    code = "bad_request"
    message = _("The request is malformed.")


class ParseError(BadRequestError):
    """A body that is not valid JSON; the message says where it breaks."""

    code = "parse_error"
    message = _("Malformed request.")


class InvalidTimezoneError(ValidationFailedError):
    code = "invalid_timezone"
    message = _("Unknown time zone; use an IANA name such as Asia/Kolkata.")


class NotAuthenticatedError(StudioError):
    """No valid credentials. The answer names the scheme to sign in with, as
    RFC 9110 requires of a 401."""

    status = 401
    code = "not_authenticated"
    message = _("Authentication credentials were not provided.")
    challenge: str = 'Bearer realm="api"'

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": self.challenge}


class InvalidCredentialsError(NotAuthenticatedError):
    code = "invalid_credentials"
    message = _("No active account matches this email and password.")


class TokenNotValidError(NotAuthenticatedError):
    code = "token_not_valid"
    message = _("The token is invalid, expired or revoked.")


class ForbiddenError(StudioError):
    status = 403
    code = "permission_denied"
    message = _("You do not have permission to perform this action.")


class InstructorSignupClosedError(ForbiddenError):
    """Registering as an instructor while the studio's sign-up for
    instructors is closed (`STUDIO_INSTRUCTOR_SIGNUP=closed`)."""

    code = "instructor_signup_closed"
    message = _("Signing up as an instructor is closed; the studio grants the instructor role.")


class NotFoundError(StudioError):
    status = 404
    code = "not_found"
    message = _("Not found.")


class MethodNotAllowedError(StudioError):
    status = 405
    code = "method_not_allowed"
    message = _("This method is not allowed on this endpoint.")


class NotAcceptableError(StudioError):
    """An `Accept` header that rules out JSON."""

    status = 406
    code = "not_acceptable"
    message = _("Could not satisfy the request Accept header.")


class PreconditionFailedError(StudioError):
    """A conditional request (`If-Match`, `If-Unmodified-Since`) whose
    condition does not hold."""

    status = 412
    code = "precondition_failed"
    message = _("A precondition of the request does not hold.")


class ConflictError(StudioError):
    status = 409
    code = "conflict"
    message = _("The request conflicts with the current state.")


class SlotFullError(ConflictError):
    code = "slot_full"
    message = _("This time slot is fully booked.")


class WaitlistFullError(ConflictError):
    code = "waitlist_full"
    message = _("The waitlist of this time slot is full.")


class SlotExpiredError(ConflictError):
    code = "slot_expired"
    message = _("This time slot has already started or ended.")


class SlotCancelledError(ConflictError):
    code = "slot_cancelled"
    message = _("The studio cancelled this time slot.")


class AlreadyBookedError(ConflictError):
    code = "already_booked"
    message = _("You already hold a booking on this time slot.")


class TimeConflictError(ConflictError):
    code = "time_conflict"
    message = _("You hold a booking on another time slot at the same time.")


class CancellationClosedError(ConflictError):
    code = "cancellation_closed"
    message = _("This booking can no longer be cancelled: its time slot has started.")


class AttendanceClosedError(ConflictError):
    """Outside the attendance window; the bookings app, whose rule the window
    is, raises it with a message naming the window's bounds."""

    code = "attendance_closed"
    message = _("Attendance cannot be marked at this time.")


class AboutSlot:
    """A conflict about one time slot, which it names as `time_slot_id`
    (None: about no one slot), and `field`, the slot's field it is about
    (None: the slot as a whole), so a form can show it on the slot's row. The
    API answers with the `detail` only."""

    field: str | None = None

    def __init__(
        self,
        message: str | None = None,
        *,
        time_slot_id: int | None = None,
        errors: dict[str, Any] | None = None,
    ):
        super().__init__(message, errors=errors)
        self.time_slot_id = time_slot_id


class CapacityBelowBookedError(AboutSlot, ConflictError):
    code = "capacity_below_booked"
    field = "capacity"
    message = _("The capacity cannot be set below the number of confirmed bookings.")


class HasBookingsError(AboutSlot, ConflictError):
    code = "has_bookings"
    message = _("This cannot be deleted because it holds bookings.")


class IdempotencyKeyInUseError(ConflictError):
    """A request with this `Idempotency-Key` is still running; retry later."""

    code = "idempotency_key_in_use"
    message = _("A request with this Idempotency-Key is still running; retry shortly.")


class UnprocessableContentError(StudioError):
    """Well-formed input that cannot be acted on."""

    status = 422
    code = "unprocessable_content"
    message = _("The request is well-formed but cannot be processed.")


class IdempotencyKeyReusedError(UnprocessableContentError):
    """An `Idempotency-Key` already used with another request body."""

    code = "idempotency_key_reused"
    message = _("This Idempotency-Key was already used with a different request body.")


class RequestTooLargeError(StudioError):
    status = 413
    code = "request_too_large"
    message = _("The request body is too large; an API request body is at most 256 KiB.")


class UriTooLongError(StudioError):
    """A request line over a limit: the query string of an API request
    (refused by the application) or the whole line (refused by gunicorn)."""

    status = 414
    code = "uri_too_long"
    message = _("The request line is too long.")

    @classmethod
    def for_query_string(cls, limit: int) -> "UriTooLongError":
        return cls(
            gettext("The query string is too long; it may be at most %(limit)d characters.")
            % {"limit": limit}
        )

    @classmethod
    def for_request_line(cls, limit: int) -> "UriTooLongError":
        return cls(
            gettext("The request line is too long; it may be at most %(limit)d bytes.")
            % {"limit": limit}
        )


class UnsupportedMediaTypeError(StudioError):
    """A body in a media type other than JSON."""

    status = 415
    code = "unsupported_media_type"
    message = _("The request body must be JSON.")


class ExpectationFailedError(StudioError):
    """An `Expect` header other than `100-continue` (refused by gunicorn)."""

    status = 417
    code = "expectation_failed"
    message = _("The request's Expect header cannot be met.")


class ThrottledError(StudioError):
    """Too many requests; `Retry-After` says how many seconds to wait."""

    status = 429
    code = "throttled"

    def __init__(self, wait: float | None = None):
        self.retry_after = max(1, int(wait or 1))
        super().__init__(
            gettext("Too many requests; try again in %(seconds)d seconds.")
            % {"seconds": self.retry_after}
        )

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class RequestHeadersTooLargeError(StudioError):
    """Too many request headers, or one too large (refused by gunicorn)."""

    status = 431
    code = "request_headers_too_large"
    message = _("The request headers are too large or too many.")


class TransferCodingNotImplementedError(StudioError):
    """A `Transfer-Encoding` other than chunked (refused by gunicorn)."""

    status = 501
    code = "not_implemented"
    message = _("The request's transfer coding is not supported.")


class ServiceUnavailableError(StudioError):
    """Worth retrying: the database is unreachable or a lock wait ran out."""

    status = 503
    code = "service_unavailable"
    message = _("The service is temporarily unavailable; try again shortly.")
    retry_after: int = 5

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


def _error_classes(cls: type[StudioError] = StudioError) -> list[type[StudioError]]:
    return [cls, *(sub for child in cls.__subclasses__() for sub in _error_classes(child))]


# Every code the API answers, in a stable order: the `code` enum of the schema.
PROBLEM_CODES: list[str] = sorted({cls.code for cls in _error_classes()})
