"""The OpenAPI document is one typed clients can be generated from: named,
tagged and described operations, integer ids, deprecated aliases, the
viewing time zone wherever it is checked, typed problems, and shapes that say
what is always there."""

import json
import os
import re

from django.core.management import call_command
from django.http import HttpResponse
from django.test import RequestFactory, SimpleTestCase
from drf_spectacular.generators import SchemaGenerator

from core import errors
from core.middleware import ViewingTimezoneMiddleware
from sessions_app.filters import PublicSessionFilter

OPERATION_IDS = {
    ("post", "/api/register/"): "auth_register",
    ("post", "/api/login/"): "auth_login",
    ("post", "/api/refresh-token/"): "auth_refresh",
    ("post", "/api/logout/"): "auth_logout",
    ("post", "/api/password/change/"): "auth_password_change",
    ("post", "/api/password/reset/"): "auth_password_reset",
    ("post", "/api/password/reset/confirm/"): "auth_password_reset_confirm",
    ("get", "/api/me/"): "profile_retrieve",
    ("patch", "/api/me/"): "profile_update",
    ("get", "/api/notifications/"): "notifications_list",
    ("get", "/api/public/sessions/"): "public_sessions_list",
    ("get", "/api/public/sessions/{id}/"): "public_sessions_retrieve",
    ("get", "/api/sessions/"): "sessions_list",
    ("post", "/api/sessions/"): "sessions_create",
    ("get", "/api/sessions/{id}/"): "sessions_retrieve",
    ("put", "/api/sessions/{id}/"): "sessions_update",
    ("patch", "/api/sessions/{id}/"): "sessions_partial_update",
    ("delete", "/api/sessions/{id}/"): "sessions_delete",
    ("get", "/api/sessions/instructor/"): "sessions_list_legacy",
    ("post", "/api/sessions/create/"): "sessions_create_legacy",
    ("put", "/api/sessions/{id}/update/"): "sessions_update_legacy",
    ("patch", "/api/sessions/{id}/update/"): "sessions_partial_update_legacy",
    ("delete", "/api/sessions/{id}/delete/"): "sessions_delete_legacy",
    ("post", "/api/sessions/{id}/time-slots/{slot_id}/cancel/"): "time_slots_cancel",
    ("post", "/api/sessions/{id}/time-slots/{slot_id}/attendance/"): "time_slots_attendance",
    ("get", "/api/bookings/"): "bookings_list",
    ("post", "/api/bookings/"): "bookings_create",
    ("get", "/api/bookings/{id}/"): "bookings_retrieve",
    ("post", "/api/bookings/{id}/cancel/"): "bookings_cancel",
    ("delete", "/api/bookings/{id}/"): "bookings_cancel_legacy",
    ("get", "/api/calendar/"): "calendar_url_retrieve",
    ("post", "/api/calendar/"): "calendar_url_replace",
    ("get", "/api/calendar/{secret}.ics"): "calendar_feed",
    ("get", "/api/public/sessions/{id}/calendar.ics"): "public_session_calendar",
    ("get", "/api/health/"): "health_check",
}

# The older paths, kept working, and the operations they repeat.
ALIASES = {
    ("get", "/api/sessions/instructor/"): ("get", "/api/sessions/"),
    ("post", "/api/sessions/create/"): ("post", "/api/sessions/"),
    ("put", "/api/sessions/{id}/update/"): ("put", "/api/sessions/{id}/"),
    ("patch", "/api/sessions/{id}/update/"): ("patch", "/api/sessions/{id}/"),
    ("delete", "/api/sessions/{id}/delete/"): ("delete", "/api/sessions/{id}/"),
    ("delete", "/api/bookings/{id}/"): ("post", "/api/bookings/{id}/cancel/"),
}

TAGS = [
    "Authentication",
    "Profile",
    "Timetable",
    "Instructor sessions",
    "Bookings",
    "Calendar feeds",
    "Service",
]

# What POST /api/bookings/ can answer 409 with.
BOOKING_CONFLICTS = {
    "slot_cancelled",
    "slot_expired",
    "already_booked",
    "time_conflict",
    "slot_full",
    "waitlist_full",
    "idempotency_key_in_use",
}

PROBLEM = "application/problem+json"


def project_codes() -> set[str]:
    """Every `code` of an error class of core/errors.py."""
    codes, pending = set(), [errors.StudioError]
    while pending:
        cls = pending.pop()
        codes.add(cls.code)
        pending.extend(cls.__subclasses__())
    return codes


class SchemaTestCase(SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.schema = SchemaGenerator().get_schema(request=None, public=True)
        cls.components = cls.schema["components"]["schemas"]

    def operations(self):
        for path, operations in self.schema["paths"].items():
            for method, operation in operations.items():
                yield method, path, operation

    def resolve(self, node: dict) -> dict:
        while "$ref" in node:
            node = self.components[node["$ref"].rsplit("/", 1)[1]]
        return node

    def walk(self, node, seen=None):
        """Every schema object under `node`, following references once each."""
        seen = set() if seen is None else seen
        if isinstance(node, list):
            for item in node:
                yield from self.walk(item, seen)
            return
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            if node["$ref"] in seen:
                return
            seen.add(node["$ref"])
            yield from self.walk(self.resolve(node), seen)
            return
        yield node
        for value in node.values():
            yield from self.walk(value, seen)

    def json_body(self, media_owner: dict) -> dict | None:
        media = media_owner.get("content", {}).get("application/json")
        return media["schema"] if media else None


class OperationTests(SchemaTestCase):
    def test_every_operation_has_its_fixed_operation_id(self):
        found = {(method, path): op["operationId"] for method, path, op in self.operations()}

        self.assertEqual(found, OPERATION_IDS)

    def test_operation_ids_are_unique(self):
        ids = [op["operationId"] for _, _, op in self.operations()]

        self.assertEqual(len(ids), len(set(ids)))

    def test_every_operation_has_a_summary_and_a_description(self):
        for method, path, operation in self.operations():
            with self.subTest(method=method, path=path):
                self.assertTrue(operation.get("summary", "").strip())
                self.assertTrue(operation.get("description", "").strip())

    def test_every_operation_has_one_tag_of_the_declared_list(self):
        declared = [tag["name"] for tag in self.schema["tags"]]
        self.assertEqual(declared, TAGS)
        for tag in self.schema["tags"]:
            self.assertTrue(tag["description"].strip(), tag)
        used = set()
        for method, path, operation in self.operations():
            with self.subTest(method=method, path=path):
                self.assertEqual(len(operation["tags"]), 1)
                self.assertIn(operation["tags"][0], TAGS)
                used.add(operation["tags"][0])
        self.assertEqual(used, set(TAGS))

    def test_only_the_aliases_are_deprecated_and_they_repeat_their_operation(self):
        deprecated = {
            (method, path) for method, path, op in self.operations() if op.get("deprecated")
        }
        self.assertEqual(deprecated, set(ALIASES))
        for (method, path), (target_method, target_path) in ALIASES.items():
            with self.subTest(method=method, path=path):
                alias = self.schema["paths"][path][method]
                target = self.schema["paths"][target_path][target_method]
                self.assertIn(f"{target_method.upper()} {target_path}", alias["description"])
                self.assertEqual(set(alias["responses"]), set(target["responses"]))
                self.assertEqual(alias.get("requestBody"), target.get("requestBody"))

    def test_every_path_parameter_is_an_integer_but_the_feed_secret(self):
        checked = 0
        for method, path, operation in self.operations():
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "path":
                    continue
                with self.subTest(method=method, path=path, name=parameter["name"]):
                    self.assertTrue(parameter["required"])
                    self.assertTrue(parameter.get("description"))
                    if (path, parameter["name"]) == ("/api/calendar/{secret}.ics", "secret"):
                        self.assertEqual(parameter["schema"]["type"], "string")
                    else:
                        self.assertEqual(parameter["schema"]["type"], "integer")
                    checked += 1
        self.assertGreaterEqual(checked, 15)

    def test_the_document_names_a_relative_server(self):
        self.assertEqual(self.schema["servers"][0]["url"], "/")

    def test_the_document_validates_without_warnings(self):
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)


class TimezoneParameterTests(SchemaTestCase):
    def answers_with_datetimes(self, operation: dict) -> bool:
        for code, response in operation["responses"].items():
            schema = self.json_body(response)
            if (
                code < "300"
                and schema is not None
                and any(node.get("format") == "date-time" for node in self.walk(schema))
            ):
                return True
        return False

    def refused_by_the_middleware(self, method: str, path: str) -> bool:
        """Whether ViewingTimezoneMiddleware answers a request of this
        operation (its path parameters filled in) 400 `invalid_timezone`, for
        an unknown `tz` and for an unknown `X-Timezone` alike."""
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        middleware = ViewingTimezoneMiddleware(lambda request: HttpResponse())
        factory = RequestFactory()
        answers = [
            middleware(factory.generic(method.upper(), f"{concrete}?tz=Mars/Base")),
            middleware(factory.generic(method.upper(), concrete, HTTP_X_TIMEZONE="Mars/Base")),
        ]
        refused = [
            answer.status_code == 400 and json.loads(answer.content)["code"] == "invalid_timezone"
            for answer in answers
        ]
        self.assertEqual(refused[0], refused[1], (method, path))
        return refused[0]

    def declares_the_viewing_zone(self, operation: dict) -> bool:
        parameters = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
        declared = {("query", "tz"), ("header", "X-Timezone")} & parameters
        self.assertIn(len(declared), (0, 2), "tz and X-Timezone come together")
        return bool(declared)

    def test_tz_and_x_timezone_are_declared_wherever_the_middleware_refuses_an_unknown_zone(
        self,
    ):
        refused = 0
        for method, path, operation in self.operations():
            with self.subTest(method=method, path=path):
                self.assertTrue(path.startswith("/api/"))
                can_refuse = self.refused_by_the_middleware(method, path)
                self.assertEqual(self.declares_the_viewing_zone(operation), can_refuse)
                if can_refuse:
                    refused += 1
                    examples = operation["responses"]["400"]["content"][PROBLEM]["examples"]
                    codes = {example["value"]["code"] for example in examples.values()}
                    self.assertIn("invalid_timezone", codes)
        # Every API request is checked, so every operation of the document.
        self.assertEqual(refused, len(OPERATION_IDS))

    def test_tz_says_whether_the_answer_shows_its_datetimes_in_the_zone(self):
        with_datetimes = 0
        for method, path, operation in self.operations():
            with self.subTest(method=method, path=path):
                tz = next(
                    p for p in operation["parameters"] if (p["in"], p["name"]) == ("query", "tz")
                )
                if self.answers_with_datetimes(operation):
                    with_datetimes += 1
                    self.assertIn("every datetime of the answer is shown", tz["description"])
                else:
                    self.assertIn("this answer shows no datetimes", tz["description"])
                self.assertIn("invalid_timezone", tz["description"])
        self.assertGreaterEqual(with_datetimes, 15)

    def test_the_public_timetable_reads_its_date_filters_in_the_viewing_zone(self):
        parameters = self.schema["paths"]["/api/public/sessions/"]["get"]["parameters"]
        names = {p["name"] for p in parameters}

        self.assertTrue({"date_from", "date_to", "tz", "X-Timezone"} <= names)


class ProblemTests(SchemaTestCase):
    def test_problem_code_is_an_enum_of_every_code_of_the_error_classes(self):
        problem = self.components["Problem"]
        code = self.resolve(problem["properties"]["code"]["allOf"][0])

        self.assertEqual(
            problem["properties"]["code"]["allOf"][0]["$ref"].rsplit("/")[-1], "ProblemCodeEnum"
        )
        self.assertEqual(set(code["enum"]), project_codes())
        self.assertEqual(len(code["enum"]), len(set(code["enum"])))

    def test_a_problem_always_carries_all_but_errors(self):
        problem = self.components["Problem"]

        self.assertEqual(set(problem["required"]), {"type", "title", "status", "code", "detail"})
        for value in problem["properties"].values():
            self.assertNotIn("default", value)

    def test_field_errors_are_lists_of_messages_or_nested_errors(self):
        field_errors = self.components["Problem"]["properties"]["errors"]

        self.assertEqual(field_errors["type"], "object")
        kinds = field_errors["additionalProperties"]["anyOf"]
        self.assertIn({"type": "array", "items": {"type": "string"}}, kinds)
        self.assertIn({"type": "object", "additionalProperties": True}, kinds)
        (nested_list,) = [k for k in kinds if k["type"] == "array" and "anyOf" in k["items"]]
        self.assertEqual(
            {item["type"] for item in nested_list["items"]["anyOf"]}, {"object", "array"}
        )
        self.assertEqual(len(kinds), 3)

    def test_every_error_answer_is_a_problem_in_the_problem_media_type(self):
        for method, path, operation in self.operations():
            for code, response in operation["responses"].items():
                if code >= "400":
                    with self.subTest(method=method, path=path, code=code):
                        self.assertEqual(set(response["content"]), {PROBLEM})
                        ref = response["content"][PROBLEM]["schema"]["$ref"]
                        self.assertEqual(ref, "#/components/schemas/Problem")

    def test_429_and_503_declare_retry_after(self):
        seen = set()
        for method, path, operation in self.operations():
            for code in ["429", "503"]:
                if code in operation["responses"]:
                    seen.add(code)
                    with self.subTest(method=method, path=path, code=code):
                        header = operation["responses"][code]["headers"]["Retry-After"]
                        self.assertEqual(header["schema"]["type"], "integer")
        self.assertEqual(seen, {"429", "503"})

    def test_every_operation_that_takes_a_body_declares_413(self):
        for method, path, operation in self.operations():
            with self.subTest(method=method, path=path):
                self.assertEqual("413" in operation["responses"], "requestBody" in operation)

    def test_booking_conflict_examples_cover_every_code_booking_can_meet(self):
        answer = self.schema["paths"]["/api/bookings/"]["post"]["responses"]["409"]
        examples = answer["content"][PROBLEM]["examples"].values()

        self.assertEqual({example["value"]["code"] for example in examples}, BOOKING_CONFLICTS)

    def test_session_edits_show_both_timetable_conflicts_and_deletes_has_bookings(self):
        paths = self.schema["paths"]
        for method, path, expected in [
            ("put", "/api/sessions/{id}/", {"capacity_below_booked", "has_bookings"}),
            ("patch", "/api/sessions/{id}/", {"capacity_below_booked", "has_bookings"}),
            ("delete", "/api/sessions/{id}/", {"has_bookings"}),
        ]:
            with self.subTest(method=method, path=path):
                media = paths[path][method]["responses"]["409"]["content"][PROBLEM]
                codes = {example["value"]["code"] for example in media["examples"].values()}
                self.assertEqual(codes, expected)

    def test_sign_in_endpoints_document_their_own_401_and_no_other(self):
        responses = {
            path: self.schema["paths"][path]["post"]["responses"]
            for path in ["/api/login/", "/api/refresh-token/", "/api/register/"]
        }
        login = responses["/api/login/"]["401"]["content"][PROBLEM]["examples"]
        refresh = responses["/api/refresh-token/"]["401"]["content"][PROBLEM]["examples"]

        self.assertEqual({e["value"]["code"] for e in login.values()}, {"invalid_credentials"})
        self.assertEqual({e["value"]["code"] for e in refresh.values()}, {"token_not_valid"})
        self.assertNotIn("401", responses["/api/register/"])


class ShapeTests(SchemaTestCase):
    def patch_bodies(self):
        for method, path, operation in self.operations():
            if method == "patch":
                yield path, self.json_body(operation["requestBody"])

    def test_no_patch_request_field_has_a_default(self):
        checked = 0
        for path, body in self.patch_bodies():
            for node in self.walk(body):
                for name, field in node.get("properties", {}).items():
                    with self.subTest(path=path, field=name):
                        self.assertNotIn(
                            "default", self.resolve(field) if "$ref" in field else field
                        )
                        checked += 1
        self.assertGreater(checked, 5)

    def test_patch_bodies_require_nothing_at_their_top(self):
        for path, body in self.patch_bodies():
            with self.subTest(path=path):
                self.assertNotIn("required", self.resolve(body))

    def test_post_and_put_defaults_are_the_ones_the_server_applies(self):
        defaults = {}
        for name, component in self.components.items():
            if name.endswith("Request") and not name.startswith("Patched"):
                for field, value in component.get("properties", {}).items():
                    if "default" in value:
                        defaults[(name, field)] = value["default"]

        self.assertEqual(
            defaults,
            {
                ("BookingCreateRequest", "waitlist"): False,
                ("SessionCreateRequest", "description"): "",
                ("SessionUpdateRequest", "description"): "",
            },
        )

    def test_answers_require_every_field_they_always_carry(self):
        for name in ["User", "Session", "SessionDetail", "TimeSlot", "Booking", "Notification"]:
            with self.subTest(component=name):
                component = self.components[name]
                self.assertEqual(set(component["required"]), set(component["properties"]))
        self.assertIn("timezone", self.components["User"]["required"])

    def test_pages_require_next_and_previous_which_may_be_null(self):
        for name in ["PaginatedBookingList", "PaginatedSessionList", "PaginatedNotificationList"]:
            with self.subTest(component=name):
                page = self.components[name]
                self.assertEqual(set(page["required"]), {"count", "next", "previous", "results"})
                self.assertTrue(page["properties"]["next"]["nullable"])
                self.assertTrue(page["properties"]["previous"]["nullable"])

    def test_input_datetimes_are_strings_that_say_how_studio_time_is_read(self):
        for name, field in [
            ("TimeSlotInputRequest", "start"),
            ("TimeSlotInputRequest", "end"),
            ("RecurrenceRequest", "start"),
        ]:
            with self.subTest(component=name, field=field):
                schema = self.components[name]["properties"][field]
                self.assertEqual(schema["type"], "string")
                self.assertNotIn("format", schema)
                self.assertIn("without an offset it is read in the studio's", schema["description"])
        # Answers always carry the offset.
        self.assertEqual(self.components["TimeSlot"]["properties"]["start"]["format"], "date-time")

    def public_parameter(self, name: str) -> dict:
        parameters = self.schema["paths"]["/api/public/sessions/"]["get"]["parameters"]
        return next(p for p in parameters if p["name"] == name)

    def test_available_is_a_boolean(self):
        self.assertEqual(self.public_parameter("available")["schema"], {"type": "boolean"})

    def test_query_enums_reuse_the_model_enums(self):
        bookings = self.schema["paths"]["/api/bookings/"]["get"]["parameters"]
        status = next(p for p in bookings if p["name"] == "status")

        self.assertEqual(
            self.public_parameter("category")["schema"],
            {"$ref": "#/components/schemas/CategoryEnum"},
        )
        self.assertEqual(status["schema"], {"$ref": "#/components/schemas/BookingStatusEnum"})

    def test_search_declares_the_length_the_filter_enforces(self):
        limit = PublicSessionFilter.base_filters["search"].extra["max_length"]

        self.assertEqual(self.public_parameter("search")["schema"]["maxLength"], limit)
