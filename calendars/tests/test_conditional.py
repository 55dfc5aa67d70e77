"""Polling: ETag and Last-Modified, 304 while nothing changed, and a cost in
queries that does not grow with the feed."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.http import http_date, parse_http_date
from django.utils.timezone import now
from rest_framework.test import APITestCase

from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings import services as booking_services
from bookings.tests.factories import book, make_slot
from calendars.tests.factories import feed_path, session_calendar_path
from sessions_app.models import Session, TimeSlot
from testing.calendars import calendar_events
from testing.problems import assert_problem


class ConditionalRequestTests(APITestCase):
    def setUp(self):
        self.client_user = ClientFactory()
        self.booking = book(make_slot(start=now() + timedelta(days=2)), self.client_user)
        self.path = feed_path(self.client_user)
        self.first = self.client.get(self.path)

    def test_the_feed_carries_an_etag_and_last_modified(self):
        self.assertRegex(self.first["ETag"], r'^"[0-9a-f]+"$')
        self.assertTrue(self.first["Last-Modified"].endswith(" GMT"))
        self.assertIn("no-cache", self.first["Cache-Control"])

    def test_a_matching_if_none_match_is_304_without_a_body(self):
        response = self.client.get(self.path, headers={"If-None-Match": self.first["ETag"]})

        self.assertEqual(response.status_code, 304)
        self.assertEqual(response.content, b"")
        self.assertEqual(response["ETag"], self.first["ETag"])
        self.assertEqual(response["Last-Modified"], self.first["Last-Modified"])

    def test_an_if_modified_since_not_older_than_the_feed_is_304(self):
        for since in [
            self.first["Last-Modified"],
            http_date((now() + timedelta(hours=1)).timestamp()),
        ]:
            with self.subTest(since=since):
                response = self.client.get(self.path, headers={"If-Modified-Since": since})

                self.assertEqual(response.status_code, 304)
                self.assertEqual(response.content, b"")

    def test_an_older_if_modified_since_gets_the_calendar(self):
        since = http_date((now() - timedelta(days=1)).timestamp())

        response = self.client.get(self.path, headers={"If-Modified-Since": since})

        self.assertEqual(len(calendar_events(self, response)), 1)

    def test_another_etag_gets_the_calendar(self):
        response = self.client.get(self.path, headers={"If-None-Match": '"something-else"'})

        self.assertEqual(len(calendar_events(self, response)), 1)

    def test_a_change_gives_a_new_etag_and_a_full_answer(self):
        booking_services.booking_cancel(booking=self.booking, by=self.client_user)

        response = self.client.get(self.path, headers={"If-None-Match": self.first["ETag"]})

        self.assertEqual(response.status_code, 200)
        self.assertNotEqual(response["ETag"], self.first["ETag"])
        self.assertGreaterEqual(
            parse_http_date(response["Last-Modified"]),
            parse_http_date(self.first["Last-Modified"]),
        )

    def test_a_new_booking_gives_a_new_etag(self):
        book(make_slot(start=now() + timedelta(days=4)), self.client_user)

        response = self.client.get(self.path, headers={"If-None-Match": self.first["ETag"]})

        self.assertEqual(len(calendar_events(self, response)), 2)

    def test_a_failing_if_match_is_a_412_problem(self):
        response = self.client.get(self.path, headers={"If-Match": '"something-else"'})

        assert_problem(self, response, 412, "precondition_failed")

    def test_the_public_session_calendar_answers_304_too(self):
        path = session_calendar_path(self.booking.time_slot.session_id)
        first = self.client.get(path)

        response = self.client.get(path, headers={"If-None-Match": first["ETag"]})

        self.assertEqual(response.status_code, 304)
        self.assertEqual(response["ETag"], first["ETag"])


def add_slots(session: Session, count: int) -> list[TimeSlot]:
    """`count` one-hour slots of `session`, a day apart from tomorrow on."""
    start = now() + timedelta(days=1)
    return TimeSlot.objects.bulk_create(
        TimeSlot(
            session=session,
            start=start + timedelta(days=day),
            end=start + timedelta(days=day, hours=1),
            capacity=5,
        )
        for day in range(count)
    )


class QueryCountTests(APITestCase):
    """A feed of 500 events costs the queries of one of 5."""

    def queries(self, path: str, events: int, expected: int | None = None) -> int:
        """The queries a GET of `path` (a calendar of `events` events) costs;
        with `expected`, asserts that number."""
        if expected is not None:
            with self.assertNumQueries(expected):
                response = self.client.get(path)
            self.assertEqual(len(calendar_events(self, response)), events)
            return expected
        with CaptureQueriesContext(connection) as captured:
            response = self.client.get(path)
        self.assertEqual(len(calendar_events(self, response)), events)
        return len(captured)

    def client_feed_queries(self, bookings: int, expected: int | None = None) -> int:
        client = ClientFactory()
        slots = add_slots(make_slot(start=now() - timedelta(days=1)).session, bookings)
        for slot in slots:
            book(slot, client)
        return self.queries(feed_path(client), bookings, expected)

    def instructor_feed_queries(self, slots: int, expected: int | None = None) -> int:
        instructor = InstructorFactory()
        session = make_slot(instructor=instructor, start=now() - timedelta(days=1)).session
        add_slots(session, slots - 1)
        return self.queries(feed_path(instructor), slots, expected)

    def test_a_clients_feed_costs_a_fixed_number_of_queries(self):
        few = self.client_feed_queries(5)

        self.assertLessEqual(few, 6)
        self.client_feed_queries(500, expected=few)

    def test_an_instructors_feed_costs_a_fixed_number_of_queries(self):
        few = self.instructor_feed_queries(5)

        self.assertLessEqual(few, 5)
        self.instructor_feed_queries(500, expected=few)

    def test_a_public_session_calendar_costs_a_fixed_number_of_queries(self):
        few = add_slots(make_slot(start=now() + timedelta(hours=2)).session, 4)[0].session_id
        many = add_slots(make_slot(start=now() + timedelta(hours=2)).session, 499)[0].session_id

        count = self.queries(session_calendar_path(few), 5)

        self.assertLessEqual(count, 5)
        self.queries(session_calendar_path(many), 500, expected=count)
