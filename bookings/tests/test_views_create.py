"""Booking a seat through POST /api/bookings/: the answer, and every refusal
in the contract's order."""

from datetime import timedelta

from django.utils.timezone import now
from rest_framework import status

from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings.models import Booking, BookingStatus
from bookings.services import time_slot_cancel
from bookings.tests.factories import book, make_slot
from sessions_app.models import TimeSlot
from testing.api import (
    BOOKING_KEYS,
    BOOKING_SESSION_KEYS,
    BOOKINGS,
    SLOT_KEYS,
    BookingApiTestCase,
    booking_cancel_url,
    from_iso,
)
from testing.problems import assert_problem


class BookingCreateViewTests(BookingApiTestCase):
    def test_client_books_a_slot_and_gets_the_booking_object(self):
        instructor = InstructorFactory(name="Priya Raman")
        slot = make_slot(instructor=instructor, capacity=4, title="Evening Flow")

        response = self.post_booking(slot.pk)

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        body = response.json()
        self.assertEqual(set(body), BOOKING_KEYS)
        self.assertEqual(body["status"], "confirmed")
        self.assertIsNone(body["cancelled_at"])
        self.assertLess(abs(from_iso(body["created_at"]) - now()), timedelta(minutes=1))
        self.assertEqual(set(body["time_slot"]), SLOT_KEYS)
        self.assertEqual(
            {k: v for k, v in body["time_slot"].items() if k not in ("start", "end")},
            {
                "id": slot.pk,
                "session": slot.session_id,
                "timezone": "Asia/Kolkata",
                "capacity": 4,
                "booked": 1,
                "available": 3,
                "is_full": False,
                "status": "open",
                "waitlisted": 0,
            },
        )
        self.assertEqual(from_iso(body["time_slot"]["start"]), slot.start)
        self.assertEqual(from_iso(body["time_slot"]["end"]), slot.end)
        self.assertEqual(set(body["session"]), BOOKING_SESSION_KEYS)
        self.assertEqual(
            body["session"],
            {
                "id": slot.session_id,
                "title": "Evening Flow",
                "category": "yoga",
                "instructor": {"id": instructor.pk, "name": "Priya Raman"},
            },
        )
        booking = Booking.objects.get(pk=body["id"])
        self.assertEqual(booking.client, self.me)
        self.assertEqual(booking.status, BookingStatus.CONFIRMED)
        slot.refresh_from_db()
        self.assertEqual(slot.booked, 1)

    def test_booking_the_last_seat_shows_the_slot_full(self):
        slot = make_slot(capacity=1)

        response = self.post_booking(slot.pk)

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        time_slot = response.json()["time_slot"]
        self.assertEqual((time_slot["available"], time_slot["is_full"]), (0, True))
        self.assertEqual(time_slot["status"], "full")

    def test_create_without_a_time_slot_is_invalid(self):
        response = self.client.post(BOOKINGS, {}, format="json")

        self.assert_invalid(response, "time_slot")
        self.assertFalse(Booking.objects.exists())

    def test_create_with_an_unknown_time_slot_is_invalid(self):
        response = self.post_booking(987654)

        self.assert_invalid(response, "time_slot")
        self.assertFalse(Booking.objects.exists())

    def test_create_with_an_id_beyond_the_database_range_is_invalid(self):
        for value in [2**63, 10**30]:
            with self.subTest(value=value):
                response = self.post_booking(value)

                self.assert_invalid(response, "time_slot")

    def test_create_with_a_non_integer_time_slot_is_invalid(self):
        slot = make_slot()
        for value in ["abc", "", None, 1.5, [slot.pk], {"id": slot.pk}, 0, -1]:
            with self.subTest(value=value):
                response = self.post_booking(value)

                self.assert_invalid(response, "time_slot")
        self.assertFalse(Booking.objects.exists())

    def test_create_with_a_body_that_is_not_json_is_a_parse_error(self):
        response = self.client.post(
            BOOKINGS, data='{"time_slot": ', content_type="application/json"
        )

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "parse_error")
        self.assertFalse(Booking.objects.exists())

    def test_create_on_a_slot_the_studio_cancelled_is_slot_cancelled(self):
        slot = make_slot()
        time_slot_cancel(time_slot=slot, by=None)

        response = self.post_booking(slot.pk)

        assert_problem(self, response, status.HTTP_409_CONFLICT, "slot_cancelled")
        self.assertFalse(Booking.objects.exists())

    def test_create_on_a_started_slot_is_slot_expired(self):
        slot = make_slot(start=now() - timedelta(minutes=1))

        response = self.post_booking(slot.pk)

        assert_problem(self, response, status.HTTP_409_CONFLICT, "slot_expired")
        self.assertFalse(Booking.objects.exists())

    def test_create_on_a_slot_already_held_is_already_booked(self):
        slot = make_slot()
        book(slot, self.me)
        before = self.state()

        response = self.post_booking(slot.pk)

        assert_problem(self, response, status.HTTP_409_CONFLICT, "already_booked")
        self.assertEqual(self.state(), before)

    def test_create_on_an_overlapping_slot_is_time_conflict(self):
        start = now() + timedelta(days=3)
        book(make_slot(start=start, minutes=60), self.me)
        overlapping = make_slot(start=start + timedelta(minutes=59), minutes=60)
        before = self.state()

        response = self.post_booking(overlapping.pk)

        assert_problem(self, response, status.HTTP_409_CONFLICT, "time_conflict")
        self.assertEqual(self.state(), before)

    def test_create_on_a_full_slot_is_slot_full(self):
        slot = make_slot(capacity=2)
        book(slot, ClientFactory())
        book(slot, ClientFactory())
        before = self.state()

        response = self.post_booking(slot.pk)

        body = assert_problem(self, response, status.HTTP_409_CONFLICT, "slot_full")
        self.assertEqual(body["title"], "Conflict")
        self.assertEqual(self.state(), before)

    def test_create_on_a_cancelled_full_slot_is_slot_cancelled(self):
        slot = make_slot(capacity=1)
        book(slot, ClientFactory())
        TimeSlot.objects.filter(pk=slot.pk).update(is_cancelled=True)

        response = self.post_booking(slot.pk)

        assert_problem(self, response, status.HTTP_409_CONFLICT, "slot_cancelled")

    def test_create_on_a_full_slot_already_held_is_already_booked(self):
        slot = make_slot(capacity=1)
        book(slot, self.me)

        response = self.post_booking(slot.pk)

        assert_problem(self, response, status.HTTP_409_CONFLICT, "already_booked")

    def test_client_can_book_a_slot_again_after_cancelling_it(self):
        slot = make_slot(capacity=1)
        first = self.post_booking(slot.pk).json()
        self.client.post(booking_cancel_url(first["id"]))

        response = self.post_booking(slot.pk)

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        body = response.json()
        self.assertNotEqual(body["id"], first["id"])
        self.assertEqual(body["status"], "confirmed")
        self.assertEqual(body["time_slot"]["booked"], 1)
        self.assertEqual(Booking.objects.filter(time_slot=slot).count(), 2)
