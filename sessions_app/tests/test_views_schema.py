"""The session endpoints' OpenAPI description, and ids beyond the database's range."""

from rest_framework.test import APITestCase

from accounts.tests.factories import InstructorFactory
from testing.api import PUBLIC, SESSIONS, SessionApiTestCase, sign_in
from testing.problems import assert_problem


class SessionSchemaTests(APITestCase):
    def setUp(self):
        self.schema = self.client.get("/api/schema/?format=json").json()

    def test_schema_documents_the_conflicts_of_updating_and_deleting_a_session(self):
        paths = self.schema["paths"]
        operations = [
            paths["/api/sessions/{id}/"]["put"],
            paths["/api/sessions/{id}/"]["patch"],
            paths["/api/sessions/{id}/"]["delete"],
            paths["/api/sessions/{id}/update/"]["put"],
            paths["/api/sessions/{id}/update/"]["patch"],
            paths["/api/sessions/{id}/delete/"]["delete"],
        ]
        for operation in operations:
            with self.subTest(operation=operation["operationId"]):
                problem = operation["responses"]["409"]["content"]["application/problem+json"][
                    "schema"
                ]
                self.assertTrue(problem["$ref"].endswith("/Problem"))

    def test_schema_documents_the_instructor_filter_as_an_id_in_range(self):
        parameters = self.schema["paths"]["/api/public/sessions/"]["get"]["parameters"]
        instructor = next(p for p in parameters if p["name"] == "instructor")

        self.assertEqual(
            instructor["schema"], {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
        )


class HugeIdTests(SessionApiTestCase):
    HUGE = 10**20

    def test_a_session_id_too_large_for_the_database_is_not_found(self):
        sign_in(self.client, InstructorFactory())
        for method, path in [
            ("get", f"{SESSIONS}{self.HUGE}/"),
            ("patch", f"{SESSIONS}{self.HUGE}/"),
            ("delete", f"{SESSIONS}{self.HUGE}/"),
            ("put", f"{SESSIONS}{self.HUGE}/update/"),
            ("delete", f"{SESSIONS}{self.HUGE}/delete/"),
            ("get", f"{PUBLIC}{self.HUGE}/"),
        ]:
            with self.subTest(method=method, path=path):
                assert_problem(self, getattr(self.client, method)(path), 404, "not_found")
