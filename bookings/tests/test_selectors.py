"""A client's bookings cost a fixed number of queries whatever their number."""

from datetime import timedelta

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import now
from rest_framework.test import APITestCase

from accounts.tests.factories import ClientFactory
from bookings.tests.factories import book, make_slot, move_to_past
from testing.api import sign_in

MANY = 30


class BookingQueryCountTests(APITestCase):
    def setUp(self):
        cache.clear()
        self.client_user = ClientFactory()
        sign_in(self.client, self.client_user)
        self.made = 0

    def add_bookings(self, count: int) -> list:
        """`count` bookings on slots a day apart, every third one in the past."""
        bookings = []
        for _ in range(count):
            self.made += 1
            slot = make_slot(start=now() + timedelta(days=self.made))
            bookings.append(book(slot, self.client_user))
            if self.made % 3 == 0:
                move_to_past(slot, ago=timedelta(days=self.made))
        return bookings

    def queries(self, url: str, params: dict | None = None) -> tuple[int, dict]:
        with CaptureQueriesContext(connection) as captured:
            response = self.client.get(url, params or {})
        self.assertEqual(response.status_code, 200, response.content)
        return len(captured), response.json()

    def test_booking_history_costs_the_same_for_one_booking_as_for_many(self):
        for when in [None, "upcoming", "past"]:
            for page_size in [5, 100]:
                with self.subTest(when=when, page_size=page_size):
                    self.client_user.bookings.all().delete()
                    params = {"page_size": page_size, **({"when": when} if when else {})}
                    self.add_bookings(3)
                    few, _ = self.queries("/api/bookings/", params)
                    self.add_bookings(MANY)

                    many, body = self.queries("/api/bookings/", params)

                    self.assertEqual(many, few)
                    self.assertGreater(len(body["results"]), 3)
                    # the user, the count, the bookings with slot, session and instructor
                    self.assertLessEqual(many, 3)

    def test_booking_detail_costs_two_queries(self):
        booking = self.add_bookings(1)[0]
        count, body = self.queries(f"/api/bookings/{booking.pk}/")
        self.assertEqual(body["id"], booking.pk)
        # the user, the booking with slot, session and instructor; no more
        self.assertLessEqual(count, 2)
