"""The project's errors: one class per code of the API contract.

Services raise these; the exception handler turns each into the one JSON
problem body of the contract. Views never build error responses by hand.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _


class StudioError(Exception):
    status: int = 500
    code: str = "server_error"
    message: str = _("Something went wrong on our side.")

    def __init__(self, message: str | None = None, *, errors: dict[str, Any] | None = None):
        self.message = message if message is not None else self.message
        self.errors = errors
        super().__init__(str(self.message))


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


class InvalidTimezoneError(ValidationFailedError):
    code = "invalid_timezone"
    message = _("Unknown time zone; use an IANA name such as Asia/Kolkata.")


class NotAuthenticatedError(StudioError):
    status = 401
    code = "not_authenticated"
    message = _("Authentication credentials were not provided.")


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


class NotFoundError(StudioError):
    status = 404
    code = "not_found"
    message = _("Not found.")


class ConflictError(StudioError):
    status = 409
    code = "conflict"
    message = _("The request conflicts with the current state.")


class SlotFullError(ConflictError):
    code = "slot_full"
    message = _("This time slot is fully booked.")


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


class CapacityBelowBookedError(ConflictError):
    code = "capacity_below_booked"
    message = _("The capacity cannot be set below the number of confirmed bookings.")


class HasBookingsError(ConflictError):
    code = "has_bookings"
    message = _("This cannot be deleted because it holds bookings.")


class RequestTooLargeError(StudioError):
    status = 413
    code = "request_too_large"
    message = _("The request body is too large; an API request body is at most 256 KiB.")


class ServiceUnavailableError(StudioError):
    status = 503
    code = "service_unavailable"
    message = _("The service is temporarily unavailable; try again shortly.")
    retry_after: int | None = 5
