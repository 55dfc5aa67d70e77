from rest_framework.test import APITestCase

from sessions_app.tests.factories import TimeSlotFactory
from testing.api import PUBLIC
from testing.problems import assert_problem


class PaginationTests(APITestCase):
    def setUp(self):
        for _ in range(3):
            TimeSlotFactory()

    def test_page_size_picks_the_number_of_results(self):
        response = self.client.get(PUBLIC, {"page_size": 2})

        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(response.json()["results"]), 2)

    def test_an_empty_page_size_is_the_default(self):
        response = self.client.get(PUBLIC, {"page_size": "", "page": ""})

        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(response.json()["results"]), 3)

    def test_a_page_size_above_the_maximum_gives_the_maximum(self):
        response = self.client.get(PUBLIC, {"page_size": 10**30})

        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(response.json()["results"]), 3)

    def test_a_page_size_that_is_not_a_whole_number_from_1_is_refused(self):
        for value in ["abc", "0", "-5", "2.5", " 2", "+2", "1_0"]:
            with self.subTest(value=value):
                response = self.client.get(PUBLIC, {"page_size": value})

                body = assert_problem(self, response, 400, "invalid")
                self.assertEqual(set(body["errors"]), {"page_size"})

    def test_a_page_that_is_not_a_whole_number_from_1_is_refused(self):
        for value in ["abc", "0", "-1", "1.5", " 1", "+1", "1e3", "１"]:
            with self.subTest(value=value):
                response = self.client.get(PUBLIC, {"page": value})

                body = assert_problem(self, response, 400, "invalid")
                self.assertEqual(set(body["errors"]), {"page"})

    def test_a_page_past_the_last_is_not_found(self):
        assert_problem(self, self.client.get(PUBLIC, {"page": 2}), 404, "not_found")
        assert_problem(self, self.client.get(PUBLIC, {"page": 10**30}), 404, "not_found")

    def test_pages_from_1_and_last_pick_their_results(self):
        first = self.client.get(PUBLIC, {"page": 1, "page_size": 2}).json()
        last = self.client.get(PUBLIC, {"page": "last", "page_size": 2}).json()

        self.assertEqual(len(first["results"]), 2)
        self.assertEqual(len(last["results"]), 1)
        self.assertEqual(
            first["results"][0]["id"], self.client.get(PUBLIC).json()["results"][0]["id"]
        )

    def test_an_empty_filter_counts_as_not_given(self):
        params = {name: "" for name in ["category", "instructor", "date_from", "date_to"]}
        response = self.client.get(PUBLIC, {**params, "available": "", "search": ""})

        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(response.json()["results"]), 3)


class QueryParameterSchemaTests(APITestCase):
    def setUp(self):
        self.schema = self.client.get("/api/schema/?format=json").json()

    def test_schema_says_page_size_starts_at_1(self):
        parameters = self.schema["paths"][PUBLIC]["get"]["parameters"]
        page_size = next(p for p in parameters if p["name"] == "page_size")

        self.assertEqual(page_size["schema"], {"type": "integer", "minimum": 1})

    def test_schema_says_an_optional_query_parameter_may_be_given_empty(self):
        for path, operations in self.schema["paths"].items():
            for method, operation in operations.items():
                for parameter in operation.get("parameters", []):
                    # An empty `tz` names no zone: it is a 400 `invalid_timezone`.
                    if parameter["in"] == "query" and parameter["name"] != "tz":
                        with self.subTest(path=path, method=method, name=parameter["name"]):
                            self.assertIs(parameter.get("allowEmptyValue"), True)
