"""Cancelling a booking through POST /api/bookings/{id}/cancel/ and DELETE /api/bookings/{id}/."""

from datetime import timedelta

from django.utils.timezone import now
from rest_framework import status

from accounts.tests.factories import ClientFactory
from bookings.models import BookingStatus
from bookings.tests.factories import book, make_slot, move_to_past
from testing.api import (
    BOOKING_KEYS,
    BookingApiTestCase,
    booking_cancel_url,
    booking_url,
    from_iso,
    sign_in,
)
from testing.problems import assert_problem


class BookingCancelViewTests(BookingApiTestCase):
    def cancel_both_ways(self):
        """(name, request) for both ways of cancelling."""
        return [
            ("POST cancel", lambda pk: self.client.post(booking_cancel_url(pk))),
            ("DELETE", lambda pk: self.client.delete(booking_url(pk))),
        ]

    def test_cancelling_returns_the_cancelled_booking_and_frees_the_seat(self):
        for name, cancel in self.cancel_both_ways():
            with self.subTest(name):
                slot = make_slot(capacity=3)
                book(slot, ClientFactory())
                booking = book(slot, self.me)
                available = slot.available

                response = cancel(booking.pk)

                self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
                body = response.json()
                self.assertEqual(set(body), BOOKING_KEYS)
                self.assertEqual(body["id"], booking.pk)
                self.assertEqual(body["status"], "cancelled")
                self.assertIsNotNone(body["cancelled_at"])
                self.assertLess(abs(from_iso(body["cancelled_at"]) - now()), timedelta(minutes=1))
                self.assertEqual(body["time_slot"]["available"], available + 1)
                self.assertEqual(body["time_slot"]["booked"], 1)
                slot.refresh_from_db()
                self.assertEqual(slot.available, available + 1)
                booking.refresh_from_db()
                self.assertEqual(booking.status, BookingStatus.CANCELLED)

    def test_cancelling_twice_is_a_no_op(self):
        for name, cancel in self.cancel_both_ways():
            with self.subTest(name):
                slot = make_slot(capacity=3)
                book(slot, ClientFactory())
                booking = book(slot, self.me)
                first = cancel(booking.pk).json()

                response = cancel(booking.pk)

                self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
                body = response.json()
                self.assertEqual(body["status"], "cancelled")
                self.assertEqual(body["cancelled_at"], first["cancelled_at"])
                self.assertEqual(body["time_slot"]["booked"], 1)
                slot.refresh_from_db()
                self.assertEqual(slot.booked, 1)

    def test_cancelling_after_the_slot_started_is_cancellation_closed(self):
        for name, cancel in self.cancel_both_ways():
            with self.subTest(name):
                slot = make_slot(capacity=3)
                booking = book(slot, self.me)
                move_to_past(slot)
                before = self.state()

                response = cancel(booking.pk)

                assert_problem(self, response, status.HTTP_409_CONFLICT, "cancellation_closed")
                self.assertEqual(self.state(), before)
                booking.refresh_from_db()
                self.assertEqual(booking.status, BookingStatus.CONFIRMED)

    def test_cancelling_frees_the_seat_of_a_full_slot_for_someone_else(self):
        slot = make_slot(capacity=1)
        booking = book(slot, self.me)
        self.client.post(booking_cancel_url(booking.pk))
        sign_in(self.client, ClientFactory())

        response = self.post_booking(slot.pk)

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)

    def test_cancelling_an_unknown_booking_is_not_found(self):
        for name, cancel in self.cancel_both_ways():
            with self.subTest(name):
                assert_problem(self, cancel(987654), status.HTTP_404_NOT_FOUND, "not_found")
