"""The error classes against the contract: every code the API answers has its
class, status and message, and DRF's own exceptions map onto them."""

import json
import re
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import Http404
from django.test import SimpleTestCase
from rest_framework import exceptions as drf

from core import errors
from core.exception_handler import exception_handler, problem_response, to_studio_error

# Every code the API answers: the contract's table, then the codes the README
# lists beyond it.
CONTRACT_CODES = {
    "invalid": 400,
    "parse_error": 400,
    "invalid_timezone": 400,
    "not_authenticated": 401,
    "token_not_valid": 401,
    "invalid_credentials": 401,
    "permission_denied": 403,
    "instructor_signup_closed": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "slot_full": 409,
    "waitlist_full": 409,
    "slot_expired": 409,
    "slot_cancelled": 409,
    "already_booked": 409,
    "time_conflict": 409,
    "cancellation_closed": 409,
    "attendance_closed": 409,
    "capacity_below_booked": 409,
    "has_bookings": 409,
    "idempotency_key_in_use": 409,
    "idempotency_key_reused": 422,
    "throttled": 429,
    "server_error": 500,
}
EXTRA_CODES = {
    "bad_request": 400,
    "not_acceptable": 406,
    "conflict": 409,
    "precondition_failed": 412,
    "request_too_large": 413,
    "uri_too_long": 414,
    "unsupported_media_type": 415,
    "expectation_failed": 417,
    "unprocessable_content": 422,
    "request_headers_too_large": 431,
    "not_implemented": 501,
    "service_unavailable": 503,
}


def error_classes() -> list[type[errors.StudioError]]:
    found, pending = [], [errors.StudioError]
    while pending:
        cls = pending.pop()
        if cls.__module__ == errors.__name__:
            found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def shipped_drf_exceptions() -> list[drf.APIException]:
    """An instance of every APIException subclass DRF ships."""
    arguments = {
        drf.MethodNotAllowed: ("DELETE",),
        drf.UnsupportedMediaType: ("text/plain",),
        drf.Throttled: (42,),
    }
    classes = [
        value
        for value in vars(drf).values()
        if isinstance(value, type)
        and issubclass(value, drf.APIException)
        and value is not drf.APIException
        and value.__module__ == drf.__name__
    ]
    return [cls(*arguments.get(cls, ())) for cls in classes]


class ErrorClassTests(SimpleTestCase):
    def test_every_code_the_api_answers_has_exactly_one_class_with_its_status(self):
        by_code: dict[str, list[type[errors.StudioError]]] = {}
        for cls in error_classes():
            by_code.setdefault(cls.code, []).append(cls)
        self.assertEqual(set(by_code), set(CONTRACT_CODES) | set(EXTRA_CODES))
        for code, status in {**CONTRACT_CODES, **EXTRA_CODES}.items():
            with self.subTest(code=code):
                self.assertEqual(len(by_code[code]), 1, by_code[code])
                self.assertEqual(by_code[code][0].status, status)

    def test_the_readme_lists_every_code(self):
        readme = (Path(settings.BASE_DIR) / "README.md").read_text()
        section = readme.split("### Errors", 1)[1].split("\n## ", 1)[0]
        listed = set(re.findall(r"`([a-z_]+)`", section))
        for cls in error_classes():
            # The README names the contract's conflicts as one group.
            if cls.status != 409:
                with self.subTest(code=cls.code):
                    self.assertIn(cls.code, listed)

    def test_every_drf_exception_translates_to_its_own_project_class(self):
        for exc in shipped_drf_exceptions():
            with self.subTest(exception=type(exc).__name__):
                error = to_studio_error(exc)
                self.assertIsNotNone(error)
                self.assertEqual(type(error).__module__, errors.__name__)
                self.assertIsNot(type(error), errors.StudioError)
                # The class owns the status and the code, not the instance.
                self.assertNotIn("status", vars(error))
                self.assertNotIn("code", vars(error))
                self.assertEqual(error.status, exc.status_code)
                expected = {"authentication_failed": "token_not_valid"}
                self.assertEqual(error.code, expected.get(exc.default_code, exc.default_code))

    def test_every_exception_the_handler_translates_answers_with_a_class_code(self):
        translated = [
            *shipped_drf_exceptions(),
            Http404(),
            DjangoPermissionDenied(),
            DjangoValidationError("Bad."),
            RequestDataTooBig(),
            SuspiciousOperation(),
            OperationalError("connection refused"),
        ]
        codes = {cls.code for cls in error_classes()}
        with self.assertLogs("core.exception_handler", "WARNING"):
            for exc in translated:
                with self.subTest(exception=type(exc).__name__):
                    response = exception_handler(exc, {})
                    self.assertIn(response.data["code"], codes)
                    self.assertEqual(response.data["status"], response.status_code)

    def test_another_librarys_api_exception_answers_as_the_general_error_of_its_status(self):
        class OutsideOpeningHours(drf.APIException):
            status_code = 403
            default_detail = "The studio is closed."
            default_code = "closed"

        error = to_studio_error(OutsideOpeningHours())
        self.assertIs(type(error), errors.ForbiddenError)
        self.assertEqual(error.message, "The studio is closed.")

    def test_another_librarys_422_answers_as_unprocessable_content(self):
        class NotBookable(drf.APIException):
            status_code = 422
            default_detail = "This cannot be booked."

        error = to_studio_error(NotBookable())
        self.assertIs(type(error), errors.UnprocessableContentError)
        self.assertEqual(error.body()["code"], "unprocessable_content")

    def test_an_api_exception_of_a_status_without_a_class_is_an_unexpected_error(self):
        self.assertIsNone(to_studio_error(drf.APIException()))

    def test_errors_carry_their_own_headers(self):
        for cls in error_classes():
            with self.subTest(error=cls.__name__):
                error = cls()
                if issubclass(cls, errors.NotAuthenticatedError):
                    expected = {"WWW-Authenticate": 'Bearer realm="api"'}
                elif cls in (errors.ThrottledError, errors.ServiceUnavailableError):
                    expected = {"Retry-After": str(error.retry_after)}
                else:
                    expected = {}
                self.assertEqual(error.headers, expected)

    def test_throttled_error_waits_at_least_a_second(self):
        self.assertEqual(errors.ThrottledError(42.9).headers, {"Retry-After": "42"})
        self.assertEqual(errors.ThrottledError(None).headers, {"Retry-After": "1"})
        self.assertIn("42 seconds", errors.ThrottledError(42).message)

    def test_the_challenge_of_the_views_authenticator_is_kept(self):
        exc = drf.NotAuthenticated()
        exc.auth_header = 'Token realm="other"'
        response = exception_handler(exc, {})
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response["WWW-Authenticate"], 'Token realm="other"')

    def test_handler_and_plain_response_render_the_same_answer(self):
        error = errors.ThrottledError(7)
        drf_answer = exception_handler(error, {})
        django_answer = problem_response(error)
        self.assertEqual(json.loads(django_answer.content), drf_answer.data)
        self.assertEqual(drf_answer.data, error.body())
        for answer in (drf_answer, django_answer):
            self.assertEqual(answer.status_code, 429)
            self.assertEqual(answer["Retry-After"], "7")
