"""The one error body: every failure of every kind answers in the contract's shape."""

import io
import json

from django.test import RequestFactory, SimpleTestCase, override_settings
from rest_framework.test import APIClient, APITestCase

from core import errors
from core.parsers import JSONParser
from studio.views import csrf_failure
from testing.problems import assert_problem


@override_settings(ROOT_URLCONF="core.tests.error_views")
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


@override_settings(ROOT_URLCONF="core.tests.error_views", DEBUG=False)
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
