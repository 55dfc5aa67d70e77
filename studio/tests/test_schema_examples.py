"""The examples Swagger UI shows are in the documented shapes, and error examples are
the answers the API gives."""

import jsonschema
from django.db import OperationalError
from django.http import Http404
from django.test import SimpleTestCase
from drf_spectacular.generators import SchemaGenerator
from rest_framework import exceptions as drf
from rest_framework.exceptions import ValidationError as DRFValidationError

from core import errors
from core.exception_handler import exception_handler
from core.schema import CONFLICT_EXAMPLES, PROBLEM_EXAMPLES

# Operations whose request body (for writes) and success answer carry examples.
DOCUMENTED = {
    ("/api/register/", "post"): "201",
    ("/api/login/", "post"): "200",
    ("/api/refresh-token/", "post"): "200",
    ("/api/me/", "get"): "200",
    ("/api/me/", "patch"): "200",
    ("/api/public/sessions/", "get"): "200",
    ("/api/public/sessions/{id}/", "get"): "200",
    ("/api/sessions/", "post"): "201",
    ("/api/sessions/create/", "post"): "201",
    ("/api/bookings/", "post"): "201",
    ("/api/bookings/", "get"): "200",
    ("/api/bookings/{id}/", "get"): "200",
    ("/api/bookings/{id}/cancel/", "post"): "200",
    ("/api/bookings/{id}/", "delete"): "200",
    ("/api/sessions/{id}/time-slots/{slot_id}/cancel/", "post"): "200",
    ("/api/sessions/{id}/time-slots/{slot_id}/attendance/", "post"): "200",
    ("/api/calendar/", "get"): "200",
    ("/api/calendar/", "post"): "200",
}


def json_schema(node):
    """OpenAPI 3.0's `nullable` spelled as JSON Schema, so jsonschema can check it."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if "type" in node:
            node["type"] = [node["type"], "null"]
        if "enum" in node:
            node["enum"] = [*node["enum"], None]
        if "$ref" in node or "allOf" in node or "oneOf" in node:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


class SchemaExampleTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.schema = SchemaGenerator().get_schema(request=None, public=True)

    def media(self, body):
        # Success answers and request bodies are JSON; problems, problem+json.
        content = body.get("content", {})
        return content.get("application/json") or content.get("application/problem+json", {})

    def check(self, media, where):
        examples = media.get("examples", {})
        document = {"components": json_schema(self.schema["components"])}
        for name, example in examples.items():
            with self.subTest(where=where, example=name):
                validator = jsonschema.Draft202012Validator(
                    {**json_schema(media["schema"]), **document}
                )
                errors = [error.message for error in validator.iter_errors(example["value"])]
                self.assertEqual(errors, [])
        return examples

    def test_every_example_matches_its_schema(self):
        checked = 0
        for path, operations in self.schema["paths"].items():
            for method, operation in operations.items():
                body = operation.get("requestBody")
                if body:
                    checked += len(self.check(self.media(body), f"{method} {path} request"))
                for code, answer in operation["responses"].items():
                    checked += len(self.check(self.media(answer), f"{method} {path} {code}"))
        self.assertGreater(checked, 30)

    def test_main_operations_show_request_and_answer_examples(self):
        for (path, method), success in DOCUMENTED.items():
            with self.subTest(path=path, method=method):
                operation = self.schema["paths"][path][method]
                if method in ("post", "put", "patch") and "requestBody" in operation:
                    self.assertTrue(self.media(operation["requestBody"]).get("examples"))
                self.assertTrue(self.media(operation["responses"][success]).get("examples"))

    def test_error_examples_use_the_problem_shape_of_their_status(self):
        for path, operations in self.schema["paths"].items():
            for method, operation in operations.items():
                for code, answer in operation["responses"].items():
                    if code < "400":
                        continue
                    for name, example in self.media(answer).get("examples", {}).items():
                        with self.subTest(path=path, method=method, example=name):
                            self.assertEqual(example["value"]["status"], int(code))

    def test_every_error_answer_shows_an_example(self):
        for path, operations in self.schema["paths"].items():
            for method, operation in operations.items():
                for code, answer in operation["responses"].items():
                    if code >= "400":
                        with self.subTest(path=path, method=method, code=code):
                            self.assertTrue(self.media(answer).get("examples"))

    def test_list_examples_come_in_the_page_envelope(self):
        answer = self.schema["paths"]["/api/bookings/"]["get"]["responses"]["200"]
        example = next(iter(self.media(answer)["examples"].values()))["value"]
        self.assertEqual(set(example), {"count", "next", "previous", "results"})
        self.assertEqual(example["results"][0]["status"], "confirmed")

    def test_bearer_scheme_guards_signed_in_operations(self):
        schemes = self.schema["components"]["securitySchemes"]
        self.assertEqual(
            schemes["jwtAuth"], {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        )
        self.assertIn({"jwtAuth": []}, self.schema["paths"]["/api/me/"]["get"]["security"])
        self.assertNotIn("security", self.schema["paths"]["/api/login/"]["post"])

    def test_a_bookings_cancelled_at_is_documented_as_nullable(self):
        booking = self.schema["components"]["schemas"]["Booking"]["properties"]
        self.assertTrue(booking["cancelled_at"].get("nullable"))


# Errors whose examples show a message formatted for one request.
FORMATTED_MESSAGES = {
    errors.AttendanceClosedError,
    errors.InvalidTimezoneError,
    errors.ThrottledError,
    errors.UnsupportedMediaTypeError,
    errors.UriTooLongError,
}


def rendered(exc: Exception) -> tuple[int, dict]:
    response = exception_handler(exc, {})
    return response.status_code, response.data


def error_examples(schema: dict):
    """(where, status, example value) of every error example in the schema."""
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for code, answer in operation["responses"].items():
                if code < "400":
                    continue
                media = answer.get("content", {}).get("application/problem+json", {})
                for name, example in media.get("examples", {}).items():
                    yield f"{method} {path} {code} {name}", int(code), example["value"]


class ErrorExampleTests(SimpleTestCase):
    """Error examples are the answers the exception handler gives."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.schema = SchemaGenerator().get_schema(request=None, public=True)

    def test_every_error_example_is_what_the_handler_renders_for_its_error_class(self):
        classes = {
            cls.code: cls
            for cls in vars(errors).values()
            if isinstance(cls, type) and issubclass(cls, errors.StudioError)
        }
        checked = 0
        for where, status, value in error_examples(self.schema):
            with self.subTest(where=where):
                cls = classes[value["code"]]
                # The example's error, rebuilt from its class with its message.
                if cls is errors.ThrottledError:
                    error = cls(42)
                else:
                    error = cls(value["detail"], errors=value.get("errors"))
                self.assertEqual(rendered(error), (status, value))
                if "errors" not in value and cls not in FORMATTED_MESSAGES:
                    self.assertEqual(value["detail"], str(cls.message))
                checked += 1
        self.assertGreater(checked, 100)

    def test_the_examples_every_operation_falls_back_on_are_real_answers(self):
        answers = {
            "400": DRFValidationError({"field": ["This field is required."]}),
            "401": drf.NotAuthenticated(),
            "403": drf.PermissionDenied(),
            "404": Http404(),
            "406": drf.NotAcceptable(),
            "415": drf.UnsupportedMediaType("text/plain"),
            "429": drf.Throttled(42),
            "503": OperationalError("connection refused"),
        }
        self.assertEqual(set(answers) | {"413", "414"}, set(PROBLEM_EXAMPLES))
        with self.assertLogs("core.exception_handler", "WARNING"):
            for status, exc in answers.items():
                with self.subTest(status=status):
                    example = PROBLEM_EXAMPLES[status]
                    self.assertEqual(rendered(exc), (int(status), example.value))
        too_large = self.client.post(
            "/api/login/", "[" + "1," * 200_000 + "1]", content_type="application/json"
        )
        example = PROBLEM_EXAMPLES["413"]
        self.assertEqual((too_large.status_code, too_large.json()), (413, example.value))
        long_query = self.client.get("/api/public/sessions/", {"search": "s" * 5000})
        example = PROBLEM_EXAMPLES["414"]
        self.assertEqual((long_query.status_code, long_query.json()), (414, example.value))

    def test_conflict_examples_are_the_timetable_errors(self):
        for method, raised in [
            ("DELETE", [errors.HasBookingsError()]),
            ("other", [errors.CapacityBelowBookedError(), errors.HasBookingsError()]),
        ]:
            with self.subTest(method=method):
                examples = CONFLICT_EXAMPLES[method]
                self.assertEqual(
                    [rendered(error) for error in raised],
                    [(409, example.value) for example in examples],
                )
