"""Promotion from the waitlist (API.md section 7): when a client cancels a
seat, and when the timetable raises a capacity or moves a slot; each write
locks the waiting clients it may promote, and runs again when one it did not
lock is due the seat."""

from datetime import timedelta
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import now

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import add_slot, book, make_slot, move_to_past
from bookings.tests.waitlists import WaitlistTestCase, join, positions
from core.errors import (
    StudioError,
)
from core.models import ActionLogEntry
from sessions_app import services as session_services
from sessions_app.models import TimeSlot
from testing.races import stale_first_read


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
        with stale_first_read(services, "waits_overlapping", set()) as calls:
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
        with stale_first_read(session_services, "waiting_clients", []) as calls:
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
        item = {"id": slot.pk, "start": slot.start, "end": slot.end, "capacity": 2}
        with stale_first_read(session_services, "waiting_clients", []) as calls:
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
