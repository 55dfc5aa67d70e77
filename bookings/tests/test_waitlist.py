"""The waitlist and the cancellation policy in the booking services (API.md
section 7: joining, promotion, expiry, policy)."""

from datetime import timedelta
from unittest import mock

from django.core.management import call_command
from django.db import connection
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import now

from accounts.tests.factories import ClientFactory
from bookings import selectors, services
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import add_slot, make_slot, move_to_past
from core.errors import (
    AlreadyBookedError,
    CancellationClosedError,
    SlotCancelledError,
    SlotExpiredError,
    SlotFullError,
    StudioError,
    TimeConflictError,
    WaitlistFullError,
)
from core.models import ActionLogEntry
from sessions_app import services as session_services
from sessions_app.models import TimeSlot
from testing.bookings import book, cancel_slot
from testing.races import stale_first_read


def join(slot: TimeSlot, client=None) -> Booking:
    """`client` (a new one when none is given) books `slot` with the waitlist on."""
    booking = services.booking_create(
        client=client or ClientFactory(), time_slot_id=slot.pk, waitlist=True, by=None
    )
    slot.refresh_from_db()
    return booking


def positions(slot: TimeSlot) -> dict[int, int | None]:
    """Booking id → waitlist position, as the API's selectors compute it."""
    bookings = selectors.with_waitlist_positions(
        list(Booking.objects.filter(time_slot=slot).select_related("time_slot"))
    )
    return {booking.pk: booking.waitlist_position for booking in bookings}


class WaitlistTestCase(TestCase):
    def assert_counters_exact(self, *slots: TimeSlot) -> None:
        for slot in slots:
            slot.refresh_from_db()
            bookings = Booking.objects.filter(time_slot=slot)
            self.assertEqual(slot.booked, bookings.filter(status=BookingStatus.CONFIRMED).count())
            self.assertEqual(
                slot.waitlisted, bookings.filter(status=BookingStatus.WAITLISTED).count()
            )
            self.assertLessEqual(slot.booked, slot.capacity)

    def full_slot(self, capacity: int = 1, **kwargs) -> TimeSlot:
        slot = make_slot(capacity=capacity, **kwargs)
        for _ in range(capacity):
            book(slot)
        return slot


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


class PromotionOnCancelTests(WaitlistTestCase):
    def test_cancelling_a_seat_promotes_the_oldest_waiter(self):
        slot = self.full_slot()
        seat = Booking.objects.get(time_slot=slot)
        first, second = join(slot), join(slot)

        services.booking_cancel(booking=seat, by=seat.client)

        first.refresh_from_db()
        second.refresh_from_db()
        self.assertEqual(first.status, BookingStatus.CONFIRMED)
        self.assertEqual(second.status, BookingStatus.WAITLISTED)
        self.assertEqual(positions(slot)[second.pk], 1)
        self.assert_counters_exact(slot)
        entry = ActionLogEntry.objects.filter(action="booking.promoted").get()
        self.assertEqual((entry.object_id, entry.actor), (first.pk, seat.client))

    def test_a_waiter_holding_an_overlapping_confirmed_booking_is_passed_over(self):
        slot = self.full_slot()
        seat = Booking.objects.get(time_slot=slot)
        busy = ClientFactory()
        blocked = join(slot, busy)
        book(make_slot(start=slot.start + timedelta(minutes=15)), busy)
        later = join(slot)

        services.booking_cancel(booking=seat, by=None)

        blocked.refresh_from_db()
        later.refresh_from_db()
        self.assertEqual(blocked.status, BookingStatus.WAITLISTED)
        self.assertEqual(later.status, BookingStatus.CONFIRMED)
        self.assertEqual(positions(slot)[blocked.pk], 1)
        self.assert_counters_exact(slot)

    def test_a_client_who_frees_their_time_moves_up_where_a_seat_waits(self):
        # The only waiter on `slot` was passed over while booked elsewhere at
        # the same time; cancelling that booking gives them the free seat.
        slot = self.full_slot()
        seat = Booking.objects.get(time_slot=slot)
        client = ClientFactory()
        waiting = join(slot, client)
        elsewhere = book(make_slot(start=slot.start + timedelta(minutes=15)), client)
        services.booking_cancel(booking=seat, by=None)
        waiting.refresh_from_db()
        self.assertEqual(waiting.status, BookingStatus.WAITLISTED)

        services.booking_cancel(booking=elsewhere, by=client)

        waiting.refresh_from_db()
        self.assertEqual(waiting.status, BookingStatus.CONFIRMED)
        self.assert_counters_exact(slot, elsewhere.time_slot)

    def test_a_wait_the_client_took_up_after_the_read_reruns_the_cancel(self):
        # The first read of the client's waits misses the overlapping slot;
        # once the client's row is locked the write sees it and runs again.
        slot = self.full_slot()
        seat = Booking.objects.get(time_slot=slot)
        client = ClientFactory()
        waiting = join(slot, client)
        elsewhere = book(make_slot(start=slot.start + timedelta(minutes=15)), client)
        services.booking_cancel(booking=seat, by=None)
        with stale_first_read(services, "overlapping_waits", set()) as calls:
            services.booking_cancel(booking=elsewhere, by=client)

        self.assertEqual(len(calls), 4)  # read, check (changed); read, check
        waiting.refresh_from_db()
        self.assertEqual(waiting.status, BookingStatus.CONFIRMED)
        self.assert_counters_exact(slot, elsewhere.time_slot)

    def test_cancelling_a_waiting_booking_is_never_late_and_closes_up_the_queue(self):
        slot = self.full_slot(start=now() + timedelta(hours=2))
        first, second, third = join(slot), join(slot), join(slot)

        cancelled = services.booking_cancel(booking=second, by=None)

        self.assertEqual(cancelled.status, BookingStatus.CANCELLED)
        self.assertFalse(cancelled.late)
        self.assertEqual(positions(slot)[first.pk], 1)
        self.assertEqual(positions(slot)[third.pk], 2)
        self.assertIsNone(positions(slot)[second.pk])
        self.assertEqual(Booking.objects.filter(status=BookingStatus.CONFIRMED).count(), 1)
        self.assert_counters_exact(slot)

    def test_a_waiter_who_joins_between_the_read_and_the_lock_is_promoted_on_a_rerun(self):
        # The first read of the waiting clients comes before the client
        # joined (it misses them), so their row is not locked. The write
        # runs again with that client's row locked, and the seat goes to them.
        slot = self.full_slot()
        seat = Booking.objects.get(time_slot=slot)
        late_client = ClientFactory()
        join(slot, late_client)
        with stale_first_read(services, "waiting_clients", []) as calls:
            services.booking_cancel(booking=seat, by=None)

        self.assertEqual(calls, [[], [late_client.pk]])
        promoted = Booking.objects.get(client=late_client)
        self.assertEqual(promoted.status, BookingStatus.CONFIRMED)
        self.assertEqual(ActionLogEntry.objects.filter(action="booking.cancelled").count(), 1)
        self.assert_counters_exact(slot)

    def test_a_write_whose_waiters_keep_changing_gives_up_as_a_503(self):
        slot = self.full_slot()
        seat = Booking.objects.get(time_slot=slot)
        join(slot)

        with (
            mock.patch.object(services, "waiting_clients", return_value=[]),
            self.assertRaises(StudioError) as caught,
        ):
            services.booking_cancel(booking=seat, by=None)

        self.assertEqual(caught.exception.status, 503)
        seat.refresh_from_db()
        self.assertEqual(seat.status, BookingStatus.CONFIRMED)
        self.assert_counters_exact(slot)

    def test_promotion_takes_one_lock_call_per_transaction(self):
        slot = self.full_slot()
        seat = Booking.objects.get(time_slot=slot)
        join(slot)
        join(slot)

        with mock.patch("bookings.services.lock_objects", wraps=services.lock_objects) as lock:
            services.booking_cancel(booking=seat, by=None)

        self.assertEqual(lock.call_count, 1)
        users, slots = lock.call_args.args
        self.assertEqual(users.model.__name__, "User")
        self.assertEqual(slots.model, TimeSlot)

    def test_promotion_queries_stay_flat_however_many_wait(self):
        counts = []
        for waiters in (1, 10):
            slot = self.full_slot(capacity=3)
            for _ in range(waiters):
                join(slot)
            seats = list(Booking.objects.filter(time_slot=slot, status=BookingStatus.CONFIRMED))
            with CaptureQueriesContext(connection) as queries:
                services.booking_cancel(booking=seats[0], by=None)
            counts.append(len(queries))
        self.assertEqual(counts[0], counts[1])


class PromotionOnCapacityRaiseTests(WaitlistTestCase):
    def test_raising_a_capacity_promotes_as_many_waiters_as_new_seats(self):
        slot = self.full_slot(capacity=2)
        waiters = [join(slot) for _ in range(4)]

        session_services.time_slot_update(
            time_slot=slot, start=slot.start, end=slot.end, capacity=5, by=None
        )

        statuses = [Booking.objects.get(pk=w.pk).status for w in waiters]
        self.assertEqual(statuses, [BookingStatus.CONFIRMED] * 3 + [BookingStatus.WAITLISTED])
        self.assertEqual(positions(slot)[waiters[3].pk], 1)
        self.assert_counters_exact(slot)
        self.assertEqual(ActionLogEntry.objects.filter(action="booking.promoted").count(), 3)

    def test_raising_capacities_through_the_session_update_promotes(self):
        slot = self.full_slot(capacity=1)
        other = add_slot(slot.session, start=slot.start + timedelta(days=1), capacity=1)
        book(other)
        on_slot, on_other = join(slot), join(other)
        instructor = slot.session.instructor
        items = [{"id": s.pk, "start": s.start, "end": s.end, "capacity": 2} for s in (slot, other)]

        with mock.patch(
            "sessions_app.services.lock_objects", wraps=session_services.lock_objects
        ) as lock:
            session_services.session_update(
                session=slot.session, data={"time_slots": items}, by=instructor
            )

        self.assertEqual(lock.call_count, 1)
        users = lock.call_args.args[0]
        self.assertEqual(
            set(users.values_list("pk", flat=True)),
            {instructor.pk, on_slot.client_id, on_other.client_id},
        )
        for booking in (on_slot, on_other):
            booking.refresh_from_db()
            self.assertEqual(booking.status, BookingStatus.CONFIRMED)
        self.assert_counters_exact(slot, other)
        entries = ActionLogEntry.objects.filter(action="booking.promoted")
        self.assertEqual({e.actor for e in entries}, {instructor})

    def test_a_raise_where_nobody_may_move_up_leaves_the_seat_free(self):
        slot = self.full_slot(capacity=1)
        busy = ClientFactory()
        waiting = join(slot, busy)
        book(make_slot(start=slot.start), busy)

        session_services.time_slot_update(
            time_slot=slot, start=slot.start, end=slot.end, capacity=2, by=None
        )

        waiting.refresh_from_db()
        self.assertEqual(waiting.status, BookingStatus.WAITLISTED)
        self.assert_counters_exact(slot)

    def test_moving_a_slot_away_from_a_waiters_other_booking_promotes_them(self):
        slot = self.full_slot(capacity=1)
        busy = ClientFactory()
        waiting = join(slot, busy)
        book(make_slot(start=slot.start), busy)
        session_services.time_slot_update(
            time_slot=slot, start=slot.start, end=slot.end, capacity=2, by=None
        )
        waiting.refresh_from_db()
        self.assertEqual(waiting.status, BookingStatus.WAITLISTED)

        later = slot.start + timedelta(hours=3)
        session_services.time_slot_update(
            time_slot=slot, start=later, end=later + timedelta(hours=1), capacity=2, by=None
        )

        waiting.refresh_from_db()
        self.assertEqual(waiting.status, BookingStatus.CONFIRMED)
        self.assert_counters_exact(slot)

    def test_a_waiter_who_joins_between_the_read_and_the_lock_reruns_the_raise(self):
        slot = self.full_slot(capacity=1)
        late_client = ClientFactory()
        join(slot, late_client)
        read = session_services._waiting_users
        calls = []

        def stale_read(slots):
            found = read(slots) if calls else []
            calls.append(found)
            return found

        with mock.patch.object(session_services, "_waiting_users", side_effect=stale_read):
            session_services.time_slot_update(
                time_slot=slot, start=slot.start, end=slot.end, capacity=2, by=None
            )

        self.assertEqual(calls, [[], [late_client.pk]])
        self.assertEqual(Booking.objects.get(client=late_client).status, BookingStatus.CONFIRMED)
        self.assertEqual(ActionLogEntry.objects.filter(action="time_slot.updated").count(), 1)
        self.assert_counters_exact(slot)

    def test_a_session_update_rerun_logs_the_old_values_once(self):
        slot = self.full_slot(capacity=1)
        late_client = ClientFactory()
        join(slot, late_client)
        read = session_services._waiting_users
        calls = []

        def stale_read(slots):
            found = read(slots) if calls else []
            calls.append(found)
            return found

        item = {"id": slot.pk, "start": slot.start, "end": slot.end, "capacity": 2}
        with mock.patch.object(session_services, "_waiting_users", side_effect=stale_read):
            session_services.session_update(
                session=slot.session, data={"title": "Dawn Yoga", "time_slots": [item]}, by=None
            )

        self.assertEqual(len(calls), 2)
        entry = ActionLogEntry.objects.filter(action="session.updated").get()
        self.assertEqual(entry.data["old"], {"title": "Morning Yoga"})
        self.assertEqual(Booking.objects.get(client=late_client).status, BookingStatus.CONFIRMED)

    def test_a_started_slot_promotes_no_one(self):
        slot = self.full_slot(capacity=1)
        waiting = join(slot)
        move_to_past(slot)

        session_services.time_slot_update(
            time_slot=slot, start=slot.start, end=slot.end, capacity=3, by=None
        )

        waiting.refresh_from_db()
        self.assertEqual(waiting.status, BookingStatus.WAITLISTED)
        self.assertEqual(waiting.current_status, BookingStatus.EXPIRED)


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
