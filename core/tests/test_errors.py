"""The one error body: every failure of every kind answers in the contract's shape."""

import io
import json
import re
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import Http404
from django.test import RequestFactory, SimpleTestCase, override_settings
from django.urls import path
from rest_framework import exceptions as drf
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIClient, APITestCase
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from core import errors
from core.exception_handler import exception_handler, problem_response, to_studio_error
from core.parsers import JSONParser
from studio.views import csrf_failure
from testing.problems import assert_problem


class Payload(serializers.Serializer):
    name = serializers.CharField()
    slots = serializers.ListField(
        child=serializers.DictField(child=serializers.IntegerField()), required=False
    )


class Nested(serializers.Serializer):
    end = serializers.DateTimeField()


class NestedPayload(serializers.Serializer):
    time_slots = Nested(many=True)


class NeverThrottle(BaseThrottle):
    def allow_request(self, request, view):
        return False

    def wait(self):
        return 42


def view(raise_exc):
    class RaisingView(APIView):
        permission_classes = [AllowAny]
        authentication_classes = []

        def get(self, request):
            raise raise_exc

    return RaisingView.as_view()


class NestedView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def post(self, request):
        NestedPayload(data=request.data).is_valid(raise_exception=True)
        return Response({})


class ThrottledView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [NeverThrottle]

    def get(self, request):
        return Response({})


def django_view_that_breaks(request):
    raise RuntimeError("secret /srv/path SELECT * FROM accounts_user")


urlpatterns = [
    path("api/slot-full/", view(errors.SlotFullError())),
    path("api/not-found/", view(Http404())),
    path("api/django-invalid/", view(DjangoValidationError({"capacity": ["Too many."]}))),
    path("api/db-down/", view(OperationalError("connection refused"))),
    path("api/bug/", view(RuntimeError("secret /srv/path SELECT * FROM accounts_user"))),
    path("api/nested/", NestedView.as_view()),
    path("api/throttled/", ThrottledView.as_view()),
    path("api/django-bug/", django_view_that_breaks),
]


@override_settings(ROOT_URLCONF="core.tests.test_errors")
class ExceptionHandlerTests(APITestCase):
    def test_domain_error_answers_with_its_status_code_and_message(self):
        body = assert_problem(self, self.client.get("/api/slot-full/"), 409, "slot_full")
        self.assertEqual(body["title"], "Conflict")
        self.assertEqual(body["detail"], "This time slot is fully booked.")

    def test_django_404_answers_not_found(self):
        body = assert_problem(self, self.client.get("/api/not-found/"), 404, "not_found")
        self.assertEqual(body["title"], "Not Found")

    def test_django_validation_error_answers_invalid_with_field_errors(self):
        body = assert_problem(self, self.client.get("/api/django-invalid/"), 400, "invalid")
        self.assertEqual(body["errors"], {"capacity": ["Too many."]})

    def test_nested_serializer_errors_keep_the_shape_of_the_body(self):
        response = self.client.post(
            "/api/nested/", {"time_slots": [{"end": "2027-01-10T07:00"}, {"end": "never"}]}
        )
        body = assert_problem(self, response, 400, "invalid")
        self.assertEqual(body["errors"]["time_slots"][0], {})
        self.assertEqual(list(body["errors"]["time_slots"][1]), ["end"])

    def test_malformed_json_answers_parse_error(self):
        response = self.client.post("/api/nested/", "{not json", content_type="application/json")
        assert_problem(self, response, 400, "parse_error")

    def test_json_nested_too_deeply_answers_parse_error(self):
        response = self.client.post("/api/nested/", "[" * 100_000, content_type="application/json")
        assert_problem(self, response, 400, "parse_error")

    def test_oversized_body_answers_413_and_reaches_no_view(self):
        body = json.dumps({"time_slots": [], "padding": "x" * 300_000})
        response = self.client.post("/api/nested/", body, content_type="application/json")
        assert_problem(self, response, 413, "request_too_large")

    @override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=64)
    def test_parser_reads_no_more_than_the_limit_from_a_stream(self):
        # A chunked body has no Content-Length for Django to check first.
        stream = io.BytesIO(json.dumps({"padding": "x" * 1000}).encode())
        with self.assertRaises(errors.RequestTooLargeError):
            JSONParser().parse(stream)
        self.assertEqual(stream.tell(), 65)

    def test_unsupported_media_type_answers_in_the_same_shape(self):
        response = self.client.post("/api/nested/", "a=b", content_type="text/plain")
        assert_problem(self, response, 415, "unsupported_media_type")

    def test_wrong_method_answers_method_not_allowed(self):
        assert_problem(self, self.client.delete("/api/nested/"), 405, "method_not_allowed")

    def test_throttled_answers_429_with_retry_after(self):
        response = self.client.get("/api/throttled/")
        assert_problem(self, response, 429, "throttled")
        self.assertEqual(response["Retry-After"], "42")

    def test_unreachable_database_answers_503_with_retry_after(self):
        with (
            self.assertLogs("core.exception_handler", "WARNING"),
            self.assertLogs("django.request", "ERROR"),
        ):
            response = self.client.get("/api/db-down/")
        assert_problem(self, response, 503, "service_unavailable")
        self.assertIn("Retry-After", response)

    def test_unexpected_error_is_logged_and_answers_500_without_internals(self):
        with (
            self.assertLogs("core.exception_handler", "ERROR") as logs,
            self.assertLogs("django.request", "ERROR"),
        ):
            response = self.client.get("/api/bug/")
        body = assert_problem(self, response, 500, "server_error")
        text = response.content.decode()
        for leak in ["Traceback", "SELECT", "/srv/path", "RuntimeError"]:
            self.assertNotIn(leak, text)
        self.assertIn("RuntimeError", "\n".join(logs.output))
        self.assertEqual(body["title"], "Internal Server Error")


@override_settings(ROOT_URLCONF="core.tests.test_errors", DEBUG=False)
class DjangoLevelErrorTests(SimpleTestCase):
    def test_error_outside_drf_under_api_answers_500_json(self):
        client = APIClient(raise_request_exception=False)
        with self.assertLogs("django.request", "ERROR"):
            response = client.get("/api/django-bug/")
        assert_problem(self, response, 500, "server_error")
        self.assertNotIn("SELECT", response.content.decode())


class UnknownApiPathTests(APITestCase):
    def test_unknown_api_path_answers_not_found_json(self):
        response = self.client.get("/api/no-such-thing/")
        assert_problem(self, response, 404, "not_found")

    def test_missing_trailing_slash_is_named_in_the_detail(self):
        response = self.client.post("/api/login", {"email": "a@b.co", "password": "x"})
        self.assertEqual(response.status_code, 404)
        self.assertIn("/api/login/", response.json()["detail"])

    def test_unknown_path_without_slash_suggests_nothing(self):
        response = self.client.get("/api/no-such-thing")
        self.assertEqual(response.status_code, 404)
        self.assertNotIn("did you mean", response.json()["detail"])


class InvalidTimezoneRequestTests(APITestCase):
    def test_unknown_tz_parameter_is_refused_before_the_view_runs(self):
        from accounts.models import User

        response = self.client.post(
            "/api/register/?tz=Mars/Olympus",
            {
                "email": "new@example.com",
                "password": "sturdy-Pass-123",
                "name": "N",
                "role": "client",
            },
        )
        assert_problem(self, response, 400, "invalid_timezone")
        self.assertFalse(User.objects.exists())

    def test_unknown_timezone_header_is_refused(self):
        response = self.client.get("/api/health/", headers={"X-Timezone": "Atlantis/Capital"})
        assert_problem(self, response, 400, "invalid_timezone")

    def test_known_zone_passes(self):
        response = self.client.get("/api/health/?tz=America/New_York")
        self.assertEqual(response.status_code, 200)


handler500 = "studio.views.server_error"


class ProblemContentTypeTests(APITestCase):
    """Errors are served as application/problem+json (RFC 9457), also to a
    client that asks for application/json: its body is the same JSON."""

    ACCEPTS = {
        "no Accept": {},
        "JSON": {"HTTP_ACCEPT": "application/json"},
        "anything": {"HTTP_ACCEPT": "*/*"},
    }

    def answers(self):
        """(what, response, status, code) of errors raised at every level."""
        for accept, headers in self.ACCEPTS.items():
            yield accept, self.client.get("/api/me/", **headers), 401, "not_authenticated"
            yield accept, self.client.post("/api/login/", {}, **headers), 400, "invalid"
            yield (
                accept,
                self.client.get("/api/me/?tz=Mars/Base", **headers),
                400,
                "invalid_timezone",
            )
            yield accept, self.client.get("/api/nothing-here/", **headers), 404, "not_found"
            yield accept, self.client.delete("/api/health/", **headers), 405, "method_not_allowed"

    def test_every_kind_of_error_is_served_as_problem_json(self):
        for accept, response, status, code in self.answers():
            with self.subTest(accept=accept, path=response.wsgi_request.path, code=code):
                self.assertEqual(response["Content-Type"], "application/problem+json")
                self.assertEqual(json.loads(response.content)["code"], code)
                self.assertEqual(response.status_code, status)

    def test_success_answers_stay_application_json(self):
        for accept, headers in self.ACCEPTS.items():
            with self.subTest(accept=accept):
                response = self.client.get("/api/health/", **headers)

                self.assertEqual(response.status_code, 200)
                self.assertEqual(response["Content-Type"], "application/json")


class CsrfTests(SimpleTestCase):
    def test_post_to_an_unknown_api_path_is_404_json_even_with_csrf_checks(self):
        client = APIClient(enforce_csrf_checks=True)
        response = client.post("/api/bookings//cancel/")
        assert_problem(self, response, 404, "not_found")

    def test_csrf_failure_under_api_answers_403_json(self):
        response = csrf_failure(RequestFactory().post("/api/anything/"), reason="no cookie")
        self.assertEqual(response.status_code, 403)
        self.assertEqual(json.loads(response.content)["code"], "permission_denied")

    def test_csrf_failure_outside_api_keeps_django_page(self):
        response = csrf_failure(RequestFactory().post("/admin/login/"), reason="no cookie")
        self.assertEqual(response.status_code, 403)
        self.assertIn("text/html", response["Content-Type"])


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
