"""Cancelling through the booking services: a client's cancel (late or not,
and the seat it frees) and the studio cancelling a whole slot."""

from django.utils.timezone import now

from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings import services
from bookings.models import Booking, BookingStatus
from bookings.services import time_slot_cancel
from bookings.tests.factories import book, make_slot, move_to_past
from bookings.tests.service_cases import BookingServiceTestCase
from core.errors import (
    CancellationClosedError,
)


class BookingCancelTests(BookingServiceTestCase):
    def test_booking_cancel_marks_the_booking_cancelled_and_frees_the_seat(self):
        slot = make_slot(capacity=2)
        booking = book(slot, self.client_user)
        before = now()

        cancelled = services.booking_cancel(booking=booking, by=None)

        slot.refresh_from_db()
        self.assertEqual(cancelled.status, BookingStatus.CANCELLED)
        self.assertIsNotNone(cancelled.cancelled_at)
        self.assertGreaterEqual(cancelled.cancelled_at, before)
        self.assertEqual(slot.booked, 0)
        self.assertEqual(slot.available, 2)
        stored = Booking.objects.get(pk=booking.pk)
        self.assertEqual(stored.status, BookingStatus.CANCELLED)
        self.assertEqual(stored.cancelled_at, cancelled.cancelled_at)

    def test_booking_cancel_frees_a_seat_on_a_full_slot(self):
        slot = make_slot(capacity=1)
        booking = book(slot, ClientFactory())

        services.booking_cancel(booking=booking, by=None)
        book(slot, self.client_user)

        slot.refresh_from_db()
        self.assertEqual(slot.booked, 1)

    def test_booking_cancel_twice_changes_nothing_the_second_time(self):
        slot = make_slot(capacity=3)
        book(slot, ClientFactory())
        booking = book(slot, self.client_user)
        first = services.booking_cancel(booking=booking, by=None)
        cancelled_at = first.cancelled_at

        second = services.booking_cancel(booking=first, by=None)

        slot.refresh_from_db()
        self.assertEqual(second.status, BookingStatus.CANCELLED)
        self.assertEqual(second.cancelled_at, cancelled_at)
        self.assertEqual(Booking.objects.get(pk=booking.pk).cancelled_at, cancelled_at)
        self.assertEqual(slot.booked, 1)

    def test_booking_cancel_with_a_stale_copy_does_not_free_the_seat_twice(self):
        slot = make_slot(capacity=3)
        book(slot, ClientFactory())
        booking = book(slot, self.client_user)
        stale = Booking.objects.get(pk=booking.pk)
        services.booking_cancel(booking=booking, by=None)

        again = services.booking_cancel(booking=stale, by=None)

        slot.refresh_from_db()
        self.assertEqual(again.status, BookingStatus.CANCELLED)
        self.assertEqual(slot.booked, 1)

    def test_booking_cancel_is_refused_once_the_slot_has_started(self):
        slot = make_slot(capacity=3)
        booking = book(slot, self.client_user)
        move_to_past(slot)
        booking = Booking.objects.get(pk=booking.pk)
        before = self.state()

        with self.assertRaises(CancellationClosedError) as caught:
            services.booking_cancel(booking=booking, by=None)

        self.assertEqual(
            (caught.exception.status, caught.exception.code), (409, "cancellation_closed")
        )
        self.assertEqual(self.state(), before)
        booking.refresh_from_db()
        self.assertEqual(booking.status, BookingStatus.CONFIRMED)
        self.assertIsNone(booking.cancelled_at)
        slot.refresh_from_db()
        self.assertEqual(slot.booked, 1)

    def test_booking_cancel_of_a_cancelled_booking_stays_a_no_op_after_the_start(self):
        slot = make_slot()
        booking = services.booking_cancel(booking=book(slot, self.client_user), by=None)
        move_to_past(slot)
        booking = Booking.objects.get(pk=booking.pk)
        before = self.state()

        again = services.booking_cancel(booking=booking, by=None)

        self.assertEqual(again.status, BookingStatus.CANCELLED)
        self.assertEqual(self.state(), before)

    def test_booking_cancel_leaves_other_bookings_of_the_slot_alone(self):
        slot = make_slot(capacity=3)
        other = book(slot, ClientFactory())
        booking = book(slot, self.client_user)

        services.booking_cancel(booking=booking, by=None)

        other.refresh_from_db()
        self.assertEqual(other.status, BookingStatus.CONFIRMED)
        self.assertIsNone(other.cancelled_at)


class TimeSlotCancelTests(BookingServiceTestCase):
    def test_time_slot_cancel_cancels_its_confirmed_bookings_and_resets_the_counter(self):
        slot = make_slot(instructor=InstructorFactory(), capacity=3)
        first = book(slot, self.client_user)
        second = book(slot, ClientFactory())

        count = time_slot_cancel(time_slot=slot, by=None)

        slot.refresh_from_db()
        self.assertEqual(count, 2)
        self.assertEqual(slot.booked, 0)
        for booking in (first, second):
            booking.refresh_from_db()
            self.assertEqual(booking.status, BookingStatus.CANCELLED)
            self.assertIsNotNone(booking.cancelled_at)

    def test_booking_cancel_after_the_studio_cancelled_the_slot_changes_nothing(self):
        slot = make_slot(capacity=3)
        booking = book(slot, self.client_user)
        time_slot_cancel(time_slot=slot, by=None)
        booking.refresh_from_db()
        before = self.state()

        again = services.booking_cancel(booking=booking, by=None)

        self.assertEqual(again.status, BookingStatus.CANCELLED)
        self.assertEqual(self.state(), before)
