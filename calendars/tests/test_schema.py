from django.test import SimpleTestCase
from drf_spectacular.generators import SchemaGenerator
from icalendar import Calendar

FEEDS = ["/api/calendar/{secret}.ics", "/api/public/sessions/{id}/calendar.ics"]


class CalendarSchemaTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.schema = SchemaGenerator().get_schema(request=None, public=True)

    def test_the_feeds_answer_text_calendar_with_an_example_that_parses(self):
        for path in FEEDS:
            with self.subTest(path=path):
                answer = self.schema["paths"][path]["get"]["responses"]["200"]

                self.assertEqual(set(answer["content"]), {"text/calendar"})
                examples = answer["content"]["text/calendar"]["examples"]
                self.assertTrue(examples)
                for example in examples.values():
                    calendar = Calendar.from_ical(example["value"])
                    self.assertTrue(calendar.walk("VEVENT"))

    def test_the_feeds_document_304_with_their_validators_and_errors_as_problems(self):
        for path in FEEDS:
            with self.subTest(path=path):
                responses = self.schema["paths"][path]["get"]["responses"]

                self.assertNotIn("content", responses["304"])
                self.assertEqual(set(responses["304"]["headers"]), {"ETag", "Last-Modified"})
                for code in ["404", "406", "412"]:
                    self.assertEqual(set(responses[code]["content"]), {"application/problem+json"})

    def test_the_feeds_need_no_sign_in_and_only_get(self):
        for path in FEEDS:
            with self.subTest(path=path):
                operations = self.schema["paths"][path]

                self.assertEqual(set(operations), {"get"})
                self.assertEqual(operations["get"]["security"], [{}])
                self.assertNotIn("401", operations["get"]["responses"])

    def test_the_feed_address_is_shown_and_replaced_when_signed_in(self):
        operations = self.schema["paths"]["/api/calendar/"]

        self.assertEqual(set(operations), {"get", "post"})
        for method in ["get", "post"]:
            with self.subTest(method=method):
                self.assertIn({"jwtAuth": []}, operations[method]["security"])
                answer = operations[method]["responses"]["200"]["content"]["application/json"]
                self.assertTrue(answer["examples"])
                self.assertNotIn("requestBody", operations[method])
