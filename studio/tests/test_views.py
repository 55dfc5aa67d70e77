from unittest import mock

from django.db import OperationalError
from rest_framework.test import APITestCase

from testing.problems import assert_problem

ACCOUNT_PATHS = [
    "/api/register/",
    "/api/login/",
    "/api/refresh-token/",
    "/api/logout/",
    "/api/me/",
    "/api/password/change/",
    "/api/password/reset/",
    "/api/password/reset/confirm/",
]


class HealthTests(APITestCase):
    def test_health_reports_ok_when_the_database_answers(self):
        response = self.client.get("/api/health/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "ok", "database": "ok"})

    def test_health_ignores_a_bad_token(self):
        response = self.client.get("/api/health/", headers={"Authorization": "Bearer junk"})
        self.assertEqual(response.status_code, 200)

    def test_health_answers_503_in_the_error_shape_when_the_database_is_unreachable(self):
        with (
            mock.patch("studio.views.connection.cursor", side_effect=OperationalError("refused")),
            self.assertLogs("studio.views", "WARNING"),
            self.assertLogs("django.request", "ERROR"),
        ):
            response = self.client.get("/api/health/")
        body = assert_problem(self, response, 503, "service_unavailable")
        self.assertNotIn("refused", body["detail"])


class SchemaTests(APITestCase):
    def setUp(self):
        response = self.client.get("/api/schema/?format=json")
        self.assertEqual(response.status_code, 200)
        self.schema = response.json()

    def test_schema_is_openapi_3(self):
        self.assertTrue(self.schema["openapi"].startswith("3."))

    def test_schema_lists_every_account_and_service_endpoint(self):
        for path in [*ACCOUNT_PATHS, "/api/health/"]:
            with self.subTest(path=path):
                self.assertIn(path, self.schema["paths"])

    def test_schema_declares_the_bearer_scheme(self):
        schemes = self.schema["components"]["securitySchemes"]
        self.assertIn({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}, schemes.values())

    def test_schema_documents_request_and_response_bodies(self):
        register = self.schema["paths"]["/api/register/"]["post"]
        self.assertIn("requestBody", register)
        self.assertIn("201", register["responses"])
        self.assertIn("400", register["responses"])
        self.assertIn("429", register["responses"])
        me = self.schema["paths"]["/api/me/"]
        self.assertEqual(set(me) & {"get", "patch", "put"}, {"get", "patch"})
        self.assertIn("401", me["get"]["responses"])

    def test_every_paginated_list_documents_404_for_a_page_past_the_last(self):
        lists = [
            "/api/bookings/",
            "/api/sessions/",
            "/api/sessions/instructor/",
            "/api/public/sessions/",
        ]
        for path in lists:
            with self.subTest(path=path):
                responses = self.schema["paths"][path]["get"]["responses"]
                problem = responses["404"]["content"]["application/problem+json"]["schema"]
                self.assertTrue(problem["$ref"].endswith("/Problem"))

    def test_a_page_past_the_last_is_a_404_problem(self):
        response = self.client.get("/api/public/sessions/", {"page": 2})

        assert_problem(self, response, 404, "not_found")

    def test_every_operation_with_a_body_documents_415_for_another_media_type(self):
        for path, operations in self.schema["paths"].items():
            for method, operation in operations.items():
                with self.subTest(path=path, method=method):
                    documented = "415" in operation["responses"]
                    self.assertEqual(documented, "requestBody" in operation)

    def test_every_operation_documents_406_for_an_accept_header_without_json(self):
        for path, operations in self.schema["paths"].items():
            for method, operation in operations.items():
                with self.subTest(path=path, method=method):
                    self.assertIn("406", operation["responses"])

    def test_an_accept_header_without_json_is_a_406_problem(self):
        response = self.client.get("/api/health/", headers={"Accept": "text/html"})

        assert_problem(self, response, 406, "not_acceptable")

    def test_error_responses_use_the_problem_schema(self):
        problem = self.schema["paths"]["/api/login/"]["post"]["responses"]["400"]
        # Served, and documented, as RFC 9457's media type only.
        self.assertEqual(set(problem["content"]), {"application/problem+json"})
        ref = problem["content"]["application/problem+json"]["schema"]["$ref"]
        self.assertTrue(ref.endswith("/Problem"))


class DocsTests(APITestCase):
    def test_swagger_ui_loads_from_local_static_files(self):
        response = self.client.get("/api/docs/")
        self.assertEqual(response.status_code, 200)
        page = response.content.decode()
        self.assertIn("/static/drf_spectacular_sidecar/swagger-ui-dist/", page)
        self.assertNotIn("cdn.", page)
        self.assertNotIn("unpkg", page)
        self.assertIn("/api/schema/", page)


class BadRequestTests(APITestCase):
    def test_bad_host_header_under_api_answers_400_json(self):
        with self.assertLogs("django.security.DisallowedHost", "ERROR"):
            response = self.client.get("/api/health/", HTTP_HOST="evil.example")
        assert_problem(self, response, 400, "bad_request")

    def test_bad_host_header_outside_api_keeps_django_page(self):
        with self.assertLogs("django.security.DisallowedHost", "ERROR"):
            response = self.client.get("/admin/", HTTP_HOST="evil.example")
        self.assertEqual(response.status_code, 400)
        self.assertIn("text/html", response["Content-Type"])


class SchemaAndDocsErrorTests(APITestCase):
    """The schema is YAML and the docs HTML, but their errors are problem bodies in JSON."""

    def test_a_wrong_method_on_the_schema_or_the_docs_is_a_json_problem(self):
        for path in ["/api/schema/", "/api/docs/"]:
            for method in ["post", "put", "patch", "delete"]:
                with self.subTest(path=path, method=method):
                    response = getattr(self.client, method)(path)

                    assert_problem(self, response, 405, "method_not_allowed")
                    self.assertEqual(response["Content-Type"], "application/problem+json")

    def test_options_on_the_docs_is_a_json_problem_not_a_server_error(self):
        response = self.client.options("/api/docs/")

        assert_problem(self, response, 405, "method_not_allowed")
        self.assertEqual(response["Content-Type"], "application/problem+json")

    def test_an_unacceptable_schema_format_is_a_json_problem(self):
        response = self.client.get("/api/schema/", HTTP_ACCEPT="text/csv")

        assert_problem(self, response, 406, "not_acceptable")
        self.assertEqual(response["Content-Type"], "application/problem+json")
