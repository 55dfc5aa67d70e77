"""Races on the waitlist: threads, each with its own database connection,
released together by a barrier. The same assertions hold on SQLite and on
PostgreSQL."""

import random
from collections import Counter
from datetime import timedelta
from typing import Any

from django.db.models import Count
from django.test import TransactionTestCase
from django.utils.timezone import now

from accounts.tests.factories import ClientFactory
from bookings import selectors, services
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import make_slot
from core.errors import StudioError, TimeConflictError
from sessions_app import services as session_services
from sessions_app.models import TimeSlot
from testing.races import race


def outcome(result: Any) -> str:
    if isinstance(result, Booking):
        return result.status
    return type(result).__name__


class WaitlistRaceTestCase(TransactionTestCase):
    def assert_waitlist_consistent(self) -> None:
        """Every invariant of seats and waitlists, over every slot."""
        for slot in TimeSlot.objects.all():
            bookings = Booking.objects.filter(time_slot=slot)
            confirmed = bookings.filter(status=BookingStatus.CONFIRMED)
            waiting = bookings.filter(status=BookingStatus.WAITLISTED)
            self.assertLessEqual(slot.booked, slot.capacity, f"slot {slot.pk} oversold")
            self.assertEqual(slot.booked, confirmed.count(), f"slot {slot.pk} booked")
            self.assertEqual(slot.waitlisted, waiting.count(), f"slot {slot.pk} waitlisted")
            # Confirmed or waiting, never both, for one client on one slot.
            both = bookings.filter(status__in=[BookingStatus.CONFIRMED, BookingStatus.WAITLISTED])
            doubles = both.values("client").annotate(n=Count("id")).filter(n__gt=1)
            self.assertEqual(list(doubles), [], f"slot {slot.pk}")
            if slot.booked < slot.capacity:
                for booking in waiting:
                    overlapping = Booking.objects.filter(
                        client_id=booking.client_id,
                        status=BookingStatus.CONFIRMED,
                        time_slot__start__lt=slot.end,
                        time_slot__end__gt=slot.start,
                    )
                    self.assertTrue(
                        overlapping.exists(),
                        f"booking {booking.pk} waits while slot {slot.pk} has a free seat",
                    )
            positions = sorted(
                b.waitlist_position
                for b in selectors.with_waitlist_positions(
                    list(waiting.select_related("time_slot"))
                )
            )
            self.assertEqual(positions, list(range(1, len(positions) + 1)), f"slot {slot.pk}")
        # No client holds two overlapping confirmed bookings.
        confirmed = list(
            Booking.objects.filter(status=BookingStatus.CONFIRMED).select_related("time_slot")
        )
        for a in confirmed:
            for b in confirmed:
                if a.pk < b.pk and a.client_id == b.client_id:
                    overlap = (
                        a.time_slot.start < b.time_slot.end and b.time_slot.start < a.time_slot.end
                    )
                    self.assertFalse(overlap, f"client {a.client_id} holds {a.pk} and {b.pk}")

    def fill(self, slot: TimeSlot) -> list[Booking]:
        return [
            services.booking_create(client=ClientFactory(), time_slot_id=slot.pk, by=None)
            for _ in range(slot.capacity)
        ]

    def join(self, slot: TimeSlot, client=None) -> Booking:
        return services.booking_create(
            client=client or ClientFactory(), time_slot_id=slot.pk, waitlist=True, by=None
        )


class WaitlistJoinRaceTests(WaitlistRaceTestCase):
    def test_thirty_clients_joining_at_once_fill_the_waitlist_exactly(self):
        slot = make_slot(capacity=2)
        self.fill(slot)
        clients = [ClientFactory() for _ in range(30)]

        def work(index, barrier):
            barrier.wait()
            return self.join(slot, clients[index])

        results = race(30, work)

        counts = Counter(outcome(r) for r in results)
        self.assertEqual(counts, {"waitlisted": 20, "WaitlistFullError": 10}, counts)
        # Each joiner was told a distinct place, and the places are 1 to 20.
        told = sorted(r.waitlist_position for r in results if isinstance(r, Booking))
        self.assertEqual(told, list(range(1, 21)))
        slot.refresh_from_db()
        self.assertEqual(slot.waitlisted, 20)
        self.assert_waitlist_consistent()


class PromotionRaceTests(WaitlistRaceTestCase):
    def test_cancels_racing_each_other_promote_exactly_one_waiter_per_freed_seat(self):
        slot = make_slot(capacity=5)
        seats = self.fill(slot)
        waiters = [self.join(slot) for _ in range(10)]
        leaving = waiters[-3:]

        def work(index, barrier):
            booking = (seats + leaving)[index]
            barrier.wait()
            return services.booking_cancel(booking=booking, by=None)

        results = race(len(seats) + len(leaving), work)

        self.assertEqual(Counter(outcome(r) for r in results), {"cancelled": 8}, results)
        slot.refresh_from_db()
        self.assertEqual((slot.booked, slot.waitlisted), (5, 2))
        promoted = set(
            Booking.objects.filter(time_slot=slot, status=BookingStatus.CONFIRMED).values_list(
                "pk", flat=True
            )
        )
        self.assertEqual(promoted, {w.pk for w in waiters[:5]})
        self.assert_waitlist_consistent()

    def test_capacity_raised_while_clients_cancel_fills_every_seat_in_order(self):
        slot = make_slot(capacity=3)
        seats = self.fill(slot)
        waiters = [self.join(slot) for _ in range(8)]

        def work(index, barrier):
            barrier.wait()
            if index == len(seats):
                current = TimeSlot.objects.select_related("session__instructor").get(pk=slot.pk)
                return session_services.time_slot_update(
                    time_slot=current,
                    start=current.start,
                    end=current.end,
                    capacity=6,
                    by=current.session.instructor,
                )
            return services.booking_cancel(booking=seats[index], by=None)

        results = race(len(seats) + 1, work)

        errors = [r for r in results if isinstance(r, BaseException)]
        self.assertEqual(errors, [])
        slot.refresh_from_db()
        self.assertEqual((slot.capacity, slot.booked, slot.waitlisted), (6, 6, 2))
        still = set(
            Booking.objects.filter(time_slot=slot, status=BookingStatus.WAITLISTED).values_list(
                "pk", flat=True
            )
        )
        self.assertEqual(still, {w.pk for w in waiters[-2:]})
        self.assert_waitlist_consistent()

    def test_a_waiter_booking_an_overlapping_slot_during_a_promotion_never_holds_both(self):
        start = now() + timedelta(days=1)
        for round_ in range(6):
            at = start + timedelta(hours=3 * round_)
            full = make_slot(start=at, capacity=1)
            (seat,) = self.fill(full)
            other = make_slot(start=at + timedelta(minutes=30), capacity=5)
            client = ClientFactory()
            waiting = self.join(full, client)

            def work(index, barrier, seat=seat, other=other, client=client):
                barrier.wait()
                if index == 0:
                    return services.booking_cancel(booking=seat, by=None)
                return services.booking_create(client=client, time_slot_id=other.pk, by=None)

            results = race(2, work)

            self.assertFalse(
                [
                    r
                    for r in results
                    if isinstance(r, BaseException) and not isinstance(r, TimeConflictError)
                ],
                results,
            )
            waiting.refresh_from_db()
            got_other = isinstance(results[1], Booking)
            # Promoted into `full` or booked on `other`, never both.
            self.assertNotEqual(waiting.status == BookingStatus.CONFIRMED, got_other)
        self.assert_waitlist_consistent()

    def test_random_joins_cancels_and_raises_keep_every_invariant(self):
        start = now() + timedelta(days=1)
        slots = [
            make_slot(start=start, capacity=2),
            make_slot(start=start + timedelta(minutes=30), capacity=2),
            make_slot(start=start + timedelta(hours=3), capacity=1),
        ]
        clients = [ClientFactory() for _ in range(12)]

        def work(index, barrier):
            rng = random.Random(index)
            barrier.wait()
            for _ in range(12):
                slot = rng.choice(slots)
                try:
                    if index == 0:
                        current = TimeSlot.objects.select_related("session__instructor").get(
                            pk=slot.pk
                        )
                        session_services.time_slot_update(
                            time_slot=current,
                            start=current.start,
                            end=current.end,
                            capacity=min(current.capacity + 1, 500),
                            by=None,
                        )
                        continue
                    mine = list(
                        Booking.objects.filter(
                            client=clients[index],
                            status__in=[BookingStatus.CONFIRMED, BookingStatus.WAITLISTED],
                        )
                    )
                    if mine and rng.random() < 0.4:
                        services.booking_cancel(booking=rng.choice(mine), by=None)
                    else:
                        self.join(slot, clients[index])
                except StudioError as error:
                    if error.status != 409:
                        raise
            return True

        results = race(len(clients), work)

        self.assertEqual([r for r in results if r is not True], [])
        self.assert_waitlist_consistent()
