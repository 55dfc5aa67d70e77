"""The studio cancels a time slot: `bookings.services.time_slot_cancel`."""

from bookings import services
from bookings.models import Booking, BookingStatus
from sessions_app.models import TimeSlot
from sessions_app.tests.factories import TimeSlotFactory
from studio.errors import SlotCancelledError
from studio.testing import (
    SessionServiceTestCase,
    book,
    book_and_cancel,
    db_state,
    hours_from_now,
)


class TimeSlotCancelTests(SessionServiceTestCase):
    def setUp(self):
        self.slot = TimeSlotFactory(capacity=5)

    def test_time_slot_cancel_cancels_the_confirmed_bookings_and_frees_every_seat(self):
        bookings = [book(self.slot) for _ in range(3)]

        count = services.time_slot_cancel(time_slot=self.slot, by=None)

        self.assertEqual(count, 3)
        slot = TimeSlot.objects.get(pk=self.slot.pk)
        self.assertTrue(slot.is_cancelled)
        self.assertIsNotNone(slot.cancelled_at)
        self.assertEqual(slot.booked, 0)
        self.assertEqual(slot.status, "cancelled")
        for booking in bookings:
            booking.refresh_from_db()
            self.assertEqual(booking.status, BookingStatus.CANCELLED)
            self.assertEqual(booking.cancelled_at, slot.cancelled_at)

    def test_time_slot_cancel_refreshes_the_slot_it_was_given(self):
        book(self.slot)

        services.time_slot_cancel(time_slot=self.slot, by=None)

        self.assertTrue(self.slot.is_cancelled)
        self.assertEqual(self.slot.booked, 0)

    def test_time_slot_cancel_leaves_bookings_cancelled_earlier_as_they_were(self):
        earlier = book_and_cancel(self.slot)
        book(self.slot)

        count = services.time_slot_cancel(time_slot=self.slot, by=None)

        self.assertEqual(count, 1)
        self.assertEqual(Booking.objects.get(pk=earlier.pk).cancelled_at, earlier.cancelled_at)

    def test_time_slot_cancel_leaves_other_slots_bookings_alone(self):
        other_slot = TimeSlotFactory(session=self.slot.session, start=hours_from_now(72))
        other = book(other_slot)
        book(self.slot)

        services.time_slot_cancel(time_slot=self.slot, by=None)

        other.refresh_from_db()
        other_slot.refresh_from_db()
        self.assertEqual(other.status, BookingStatus.CONFIRMED)
        self.assertEqual((other_slot.booked, other_slot.is_cancelled), (1, False))

    def test_time_slot_cancel_of_a_slot_without_bookings_returns_zero(self):
        self.assertEqual(services.time_slot_cancel(time_slot=self.slot, by=None), 0)
        self.assertTrue(TimeSlot.objects.get(pk=self.slot.pk).is_cancelled)

    def test_time_slot_cancel_twice_changes_nothing_the_second_time(self):
        book(self.slot)
        services.time_slot_cancel(time_slot=self.slot, by=None)
        before = db_state()
        cancelled_at = TimeSlot.objects.get(pk=self.slot.pk).cancelled_at

        count = services.time_slot_cancel(time_slot=self.slot, by=None)

        self.assertEqual(count, 0)
        self.assertEqual(db_state(), before)
        self.assertEqual(TimeSlot.objects.get(pk=self.slot.pk).cancelled_at, cancelled_at)

    def test_a_cancelled_slot_takes_no_more_bookings(self):
        services.time_slot_cancel(time_slot=self.slot, by=None)

        with self.assertRaises(SlotCancelledError):
            book(self.slot)
        self.assertFalse(Booking.objects.exists())
