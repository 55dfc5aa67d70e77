"""Long request lines: a query string over the API's limit answers in the
problem shape and changes nothing."""

from rest_framework.test import APITestCase

from accounts.models import User
from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings.models import Booking
from bookings.tests.factories import make_slot
from sessions_app.models import Session
from studio.middleware import QUERY_STRING_LIMIT

PROBLEM_KEYS = {"type", "title", "status", "code", "detail"}
QUERY_DETAIL = "The query string is too long; it may be at most 4096 characters."


def padded(path: str, length: int) -> str:
    """`path` with a query string of exactly `length` characters."""
    return f"{path}?pad={'x' * (length - len('pad='))}"


class QueryStringLimitTests(APITestCase):
    def assert_uri_too_long(self, response) -> None:
        self.assertEqual(response.status_code, 414, response.content[:300])
        self.assertRegex(response["Content-Type"], r"^application/(problem\+)?json")
        body = response.json()
        self.assertEqual(set(body), PROBLEM_KEYS)
        self.assertEqual(
            body,
            {
                "type": "about:blank",
                "title": "Request-URI Too Long",
                "status": 414,
                "code": "uri_too_long",
                "detail": QUERY_DETAIL,
            },
        )

    def test_limit_is_four_kibibytes(self):
        self.assertEqual(QUERY_STRING_LIMIT, 4096)

    def test_long_query_string_on_lists_answers_414(self):
        self.client.force_authenticate(InstructorFactory())
        for path in ["/api/sessions/instructor/", "/api/sessions/", "/api/public/sessions/"]:
            with self.subTest(path=path):
                response = self.client.get(padded(path, QUERY_STRING_LIMIT + 1))
                self.assert_uri_too_long(response)

    def test_query_string_at_the_limit_is_served(self):
        response = self.client.get(padded("/api/public/sessions/", QUERY_STRING_LIMIT))
        self.assertEqual(response.status_code, 200, response.content[:300])

    def test_long_query_string_is_measured_as_sent(self):
        # 700 characters, 4200 once percent-encoded as UTF-8.
        response = self.client.get("/api/public/sessions/", {"search": "é" * 700})
        self.assert_uri_too_long(response)

    def test_booking_with_a_long_query_string_answers_414_and_books_nothing(self):
        slot = make_slot()
        self.client.force_authenticate(ClientFactory())
        response = self.client.post(
            padded("/api/bookings/", 5000), {"time_slot": slot.pk}, format="json"
        )
        self.assert_uri_too_long(response)
        self.assertFalse(Booking.objects.exists())
        slot.refresh_from_db()
        self.assertEqual(slot.booked, 0)

    def test_writes_with_a_long_query_string_change_nothing(self):
        self.client.force_authenticate(InstructorFactory())
        session = {
            "title": "Yoga",
            "category": "yoga",
            "time_slots": [{"start": "2031-01-10T07:00", "end": "2031-01-10T08:00", "capacity": 5}],
        }
        response = self.client.post(padded("/api/sessions/", 5000), session, format="json")
        self.assert_uri_too_long(response)
        self.assertFalse(Session.objects.exists())
        self.client.force_authenticate(None)
        registration = {
            "email": "new@client.example",
            "password": "sturdy-Pass-123",
            "name": "New",
            "role": "client",
        }
        response = self.client.post(padded("/api/register/", 5000), registration, format="json")
        self.assert_uri_too_long(response)
        self.assertFalse(User.objects.filter(email="new@client.example").exists())

    def test_query_string_is_checked_before_the_viewing_zone_is_read(self):
        path = "/api/public/sessions/?tz=Mars/Base&pad=" + "x" * QUERY_STRING_LIMIT
        self.assert_uri_too_long(self.client.get(path))

    def test_refusal_carries_the_security_headers(self):
        response = self.client.get(padded("/api/public/sessions/", 5000))
        self.assertEqual(response.headers.get("X-Content-Type-Options"), "nosniff")
        self.assertEqual(response.headers.get("X-Frame-Options"), "DENY")

    def test_pages_outside_the_api_are_not_limited_here(self):
        response = self.client.get(padded("/admin/login/", 5000))
        self.assertEqual(response.status_code, 200)
