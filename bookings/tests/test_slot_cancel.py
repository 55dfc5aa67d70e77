"""The studio cancels a time slot: `bookings.services.time_slot_cancel`."""

from datetime import timedelta
from unittest import mock

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import book, book_and_cancel, move_to_past, wait
from core.errors import SlotCancelledError, SlotExpiredError
from core.models import ActionLogEntry
from sessions_app.models import TimeSlot
from sessions_app.tests.factories import TimeSlotFactory
from testing.races import stale_first_read
from testing.timetable import SessionServiceTestCase, db_state, hours_from_now


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

    def test_time_slot_cancel_cancels_the_waitlisted_bookings_too_and_empties_the_waitlist(self):
        self.slot.capacity = 1
        self.slot.save(update_fields=["capacity"])
        seated = book(self.slot)
        waiting = [wait(self.slot), wait(self.slot)]

        count = services.time_slot_cancel(time_slot=self.slot, by=None)

        self.assertEqual(count, 3)
        slot = TimeSlot.objects.get(pk=self.slot.pk)
        self.assertEqual((slot.booked, slot.waitlisted, slot.is_cancelled), (0, 0, True))
        for booking in [seated, *waiting]:
            booking.refresh_from_db()
            self.assertEqual(booking.status, BookingStatus.CANCELLED)
            self.assertEqual(booking.cancelled_at, slot.cancelled_at)

    def test_time_slot_cancel_marks_no_booking_late_even_inside_the_cancellation_window(self):
        late_slot = TimeSlotFactory(start=hours_from_now(1))
        seated = book(late_slot)
        waiting = wait(late_slot)
        self.assertLess(seated.cancel_before, hours_from_now(0))

        services.time_slot_cancel(time_slot=late_slot, by=None)

        for booking in (seated, waiting):
            booking.refresh_from_db()
            self.assertEqual(booking.status, BookingStatus.CANCELLED)
            self.assertFalse(booking.late)

    def test_time_slot_cancel_leaves_expired_bookings_as_they_were(self):
        expired = wait(self.slot)
        Booking.objects.filter(pk=expired.pk).update(status=BookingStatus.EXPIRED)
        TimeSlot.objects.filter(pk=self.slot.pk).update(waitlisted=0)

        self.assertEqual(services.time_slot_cancel(time_slot=self.slot, by=None), 0)

        expired.refresh_from_db()
        self.assertEqual((expired.status, expired.cancelled_at), (BookingStatus.EXPIRED, None))

    def test_time_slot_cancel_refuses_a_slot_that_has_started_and_writes_nothing(self):
        book(self.slot)
        wait(self.slot)
        move_to_past(self.slot)
        before = db_state()

        with self.assertRaises(SlotExpiredError):
            services.time_slot_cancel(time_slot=self.slot, by=None)

        self.assertEqual(db_state(), before)
        self.assertFalse(TimeSlot.objects.get(pk=self.slot.pk).is_cancelled)

    def test_time_slot_cancel_refuses_a_slot_that_started_this_very_moment(self):
        move_to_past(self.slot, ago=timedelta(0))

        with self.assertRaises(SlotExpiredError):
            services.time_slot_cancel(time_slot=self.slot, by=None)

    def test_time_slot_cancel_of_a_cancelled_slot_that_has_since_started_changes_nothing(self):
        services.time_slot_cancel(time_slot=self.slot, by=None)
        move_to_past(self.slot)
        before = db_state()

        self.assertEqual(services.time_slot_cancel(time_slot=self.slot, by=None), 0)
        self.assertEqual(db_state(), before)

    def test_time_slot_cancel_takes_its_locks_in_one_call(self):
        book(self.slot)
        wait(self.slot)

        with mock.patch.object(services, "lock_objects", wraps=services.lock_objects) as lock:
            services.time_slot_cancel(time_slot=self.slot, by=None)

        self.assertEqual(lock.call_count, 1)


class TimeSlotCancelPromotionTests(SessionServiceTestCase):
    """A client of the cancelled slot is free at that time again: where they
    wait on an overlapping slot with a free seat, they move up."""

    def setUp(self):
        start = hours_from_now(48)
        self.other = TimeSlotFactory(start=start, capacity=1)
        self.cancelled = TimeSlotFactory(start=start + timedelta(minutes=30), capacity=5)
        self.holder = book(self.other)
        self.client_user = ClientFactory()
        # The client waits on the other slot, then books an overlapping one.
        services.booking_create(
            client=self.client_user, time_slot_id=self.other.pk, waitlist=True, by=None
        )
        book(self.cancelled, self.client_user)
        # A seat frees up on the other slot while the client holds the overlapping one.
        services.booking_cancel(booking=self.holder, by=None)
        self.other.refresh_from_db()

    def waiting_booking(self) -> Booking:
        return Booking.objects.get(client=self.client_user, time_slot=self.other)

    def test_a_passed_over_waiter_stays_waiting_while_busy(self):
        self.assertEqual((self.other.booked, self.other.waitlisted), (0, 1))
        self.assertEqual(self.waiting_booking().status, BookingStatus.WAITLISTED)

    def test_cancelling_the_slot_that_kept_a_waiter_busy_promotes_them(self):
        services.time_slot_cancel(time_slot=self.cancelled, by=None)

        self.assertEqual(self.waiting_booking().status, BookingStatus.CONFIRMED)
        self.other.refresh_from_db()
        self.assertEqual((self.other.booked, self.other.waitlisted), (1, 0))

    def test_the_promotion_takes_no_further_lock_call(self):
        with mock.patch.object(services, "lock_objects", wraps=services.lock_objects) as lock:
            services.time_slot_cancel(time_slot=self.cancelled, by=None)

        self.assertEqual(lock.call_count, 1)
        self.assertEqual(self.waiting_booking().status, BookingStatus.CONFIRMED)

    def test_a_waiter_missed_by_the_first_read_is_promoted_on_a_rerun(self):
        # The first read of the waiting clients misses the client, so their
        # row is not locked; the cancel runs again with it locked.
        with stale_first_read(services, "waiting_clients", []) as calls:
            count = services.time_slot_cancel(time_slot=self.cancelled, by=None)

        self.assertEqual(count, 1)
        self.assertEqual(calls, [[], [self.client_user.pk]])
        self.assertEqual(self.waiting_booking().status, BookingStatus.CONFIRMED)
        self.assertEqual(ActionLogEntry.objects.filter(action="time_slot.cancelled").count(), 1)
