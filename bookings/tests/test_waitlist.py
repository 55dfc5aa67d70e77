"""The waitlist and the cancellation policy in the booking services (API.md
section 7: joining, expiry, policy); promotion is test_waitlist_promotion."""

from datetime import timedelta
from unittest import mock

from django.core.management import call_command
from django.test import override_settings
from django.utils.timezone import now

from accounts.tests.factories import ClientFactory
from bookings import selectors, services
from bookings.models import BookingStatus
from bookings.tests.factories import book, cancel_slot, make_slot, move_to_past
from bookings.tests.waitlists import WaitlistTestCase, join, positions
from core.errors import (
    AlreadyBookedError,
    CancellationClosedError,
    SlotCancelledError,
    SlotExpiredError,
    SlotFullError,
    TimeConflictError,
    WaitlistFullError,
)
from core.models import ActionLogEntry
from sessions_app import services as session_services


class WaitlistJoinTests(WaitlistTestCase):
    def test_joining_a_full_slot_waits_with_a_position(self):
        slot = self.full_slot()

        first, second = join(slot), join(slot)

        self.assertEqual(first.status, BookingStatus.WAITLISTED)
        self.assertEqual((first.waitlist_position, second.waitlist_position), (1, 2))
        self.assertEqual(positions(slot)[second.pk], 2)
        self.assertEqual(slot.waitlisted, 2)
        self.assertEqual(slot.booked, 1)
        self.assert_counters_exact(slot)

    def test_joining_a_slot_with_a_free_seat_books_it(self):
        slot = make_slot(capacity=2)

        booking = join(slot)

        self.assertEqual(booking.status, BookingStatus.CONFIRMED)
        self.assertIsNone(booking.waitlist_position)
        self.assertEqual((slot.booked, slot.waitlisted), (1, 0))

    def test_a_full_slot_without_the_waitlist_is_still_slot_full(self):
        slot = self.full_slot()

        with self.assertRaises(SlotFullError):
            services.booking_create(client=ClientFactory(), time_slot_id=slot.pk, by=None)

    @override_settings(STUDIO_WAITLIST_SIZE=2)
    def test_a_waitlist_holds_at_most_the_setting_then_waitlist_full(self):
        slot = self.full_slot()
        join(slot)
        join(slot)

        with self.assertRaises(WaitlistFullError) as caught:
            join(slot)

        self.assertEqual((caught.exception.status, caught.exception.code), (409, "waitlist_full"))
        slot.refresh_from_db()
        self.assertEqual(slot.waitlisted, 2)
        self.assert_counters_exact(slot)

    def test_waiting_on_a_slot_counts_as_already_booked(self):
        slot = self.full_slot()
        client = ClientFactory()
        join(slot, client)

        for waitlist in (True, False):
            with self.subTest(waitlist=waitlist), self.assertRaises(AlreadyBookedError):
                services.booking_create(
                    client=client, time_slot_id=slot.pk, waitlist=waitlist, by=None
                )

    def test_an_overlapping_confirmed_booking_is_a_time_conflict_before_the_waitlist(self):
        slot = self.full_slot()
        client = ClientFactory()
        book(make_slot(start=slot.start + timedelta(minutes=30)), client)

        with self.assertRaises(TimeConflictError):
            join(slot, client)

    def test_a_waiting_booking_blocks_no_other_booking(self):
        slot = self.full_slot()
        client = ClientFactory()
        join(slot, client)
        other = make_slot(start=slot.start + timedelta(minutes=30))

        booking = book(other, client)

        self.assertEqual(booking.status, BookingStatus.CONFIRMED)

    def test_the_usual_checks_come_first_in_their_order(self):
        cancelled = self.full_slot()
        cancel_slot(cancelled)
        started = move_to_past(self.full_slot())
        for slot, error in ((cancelled, SlotCancelledError), (started, SlotExpiredError)):
            with self.subTest(error.__name__), self.assertRaises(error):
                join(slot)

    def test_joining_writes_an_action_log_entry(self):
        slot = self.full_slot()

        booking = join(slot)

        entry = ActionLogEntry.objects.filter(action="booking.waitlisted").get()
        self.assertEqual(entry.object_id, booking.pk)
        self.assertEqual(entry.data, {"time_slot": slot.pk, "position": 1})

    def test_the_slot_shows_how_many_wait_and_none_once_started(self):
        slot = self.full_slot()
        join(slot)
        join(slot)
        self.assertEqual(slot.waiting, 2)

        move_to_past(slot)

        self.assertEqual(slot.waiting, 0)


class ExpiryTests(WaitlistTestCase):
    def test_a_waiter_shows_expired_once_the_slot_starts_and_blocks_nothing(self):
        slot = self.full_slot(capacity=1)
        waiting = join(slot)
        move_to_past(slot)

        waiting = selectors.booking_list(client=waiting.client).get(pk=waiting.pk)
        selectors.with_waitlist_positions([waiting])

        self.assertEqual(waiting.current_status, BookingStatus.EXPIRED)
        self.assertIsNone(waiting.waitlist_position)
        with self.assertRaises(CancellationClosedError):
            services.booking_cancel(booking=waiting, by=None)
        # The session may still be edited: its started slot's waiter holds no seat.
        session_services.session_update(
            session=slot.session, data={"title": "Evening Yoga"}, by=None
        )

    def test_the_command_writes_expired_and_resets_the_counter_once(self):
        slot = self.full_slot(capacity=1)
        waiters = [join(slot), join(slot)]
        upcoming = self.full_slot(capacity=1)
        still = join(upcoming)
        move_to_past(slot)

        call_command("expire_waitlists", stdout=mock.MagicMock())
        call_command("expire_waitlists", stdout=mock.MagicMock())

        for booking in waiters:
            booking.refresh_from_db()
            self.assertEqual(booking.status, BookingStatus.EXPIRED)
        still.refresh_from_db()
        self.assertEqual(still.status, BookingStatus.WAITLISTED)
        self.assert_counters_exact(slot, upcoming)
        self.assertEqual(ActionLogEntry.objects.filter(action="booking.expired").count(), 2)
        self.assertEqual(services.waitlist_expire(by=None), 0)


class CancellationPolicyTests(WaitlistTestCase):
    def test_cancel_before_is_the_start_minus_the_window(self):
        slot = make_slot(start=now() + timedelta(days=2))

        booking = book(slot)

        self.assertEqual(booking.cancel_before, slot.start - timedelta(hours=12))

    def test_cancelling_before_cancel_before_is_not_late(self):
        booking = book(make_slot(start=now() + timedelta(days=2)))

        self.assertFalse(services.booking_cancel(booking=booking, by=None).late)

    def test_cancelling_after_cancel_before_is_late(self):
        booking = book(make_slot(start=now() + timedelta(hours=3)))

        cancelled = services.booking_cancel(booking=booking, by=None)

        self.assertEqual(cancelled.status, BookingStatus.CANCELLED)
        self.assertTrue(cancelled.late)

    def test_changing_the_setting_later_changes_no_existing_booking(self):
        slot = make_slot(start=now() + timedelta(hours=3))
        booking = book(slot)

        with override_settings(STUDIO_CANCELLATION_WINDOW_HOURS=1):
            later = book(slot)
            cancelled = services.booking_cancel(booking=booking, by=None)
            on_time = services.booking_cancel(booking=later, by=None)

        self.assertEqual(cancelled.cancel_before, slot.start - timedelta(hours=12))
        self.assertTrue(cancelled.late)
        self.assertEqual(on_time.cancel_before, slot.start - timedelta(hours=1))
        self.assertFalse(on_time.late)

    def test_cancelling_after_the_start_is_still_cancellation_closed(self):
        booking = book(make_slot())
        move_to_past(booking.time_slot)
        booking.refresh_from_db()

        with self.assertRaises(CancellationClosedError):
            services.booking_cancel(booking=booking, by=None)
