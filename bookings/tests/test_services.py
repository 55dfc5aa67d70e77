"""Booking through the booking services: booking_create's rules in the
contract's order, and the database constraints behind them."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils.timezone import now

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.models import Booking, BookingStatus
from bookings.services import time_slot_cancel
from bookings.tests.factories import add_slot, book, make_slot, move_to_past
from bookings.tests.service_cases import BookingServiceTestCase
from core.errors import (
    AlreadyBookedError,
    SlotCancelledError,
    SlotExpiredError,
    SlotFullError,
    TimeConflictError,
    ValidationFailedError,
)
from sessions_app.models import TimeSlot


class BookingCreateTests(BookingServiceTestCase):
    def test_booking_create_confirms_a_seat_and_counts_it(self):
        slot = make_slot(capacity=3)

        booking = services.booking_create(client=self.client_user, time_slot_id=slot.pk, by=None)

        slot.refresh_from_db()
        self.assertEqual(booking.status, BookingStatus.CONFIRMED)
        self.assertEqual(booking.client, self.client_user)
        self.assertEqual(booking.time_slot_id, slot.pk)
        self.assertIsNone(booking.cancelled_at)
        self.assertIsNotNone(booking.created_at)
        self.assertEqual(slot.booked, 1)
        self.assertEqual(slot.available, 2)

    def test_booking_create_counts_every_booking_on_the_slot(self):
        slot = make_slot(capacity=5)

        for _ in range(3):
            book(slot, ClientFactory())

        slot.refresh_from_db()
        self.assertEqual(slot.booked, 3)
        self.assertEqual(Booking.objects.filter(time_slot=slot).confirmed().count(), 3)

    def test_booking_create_takes_the_last_seat(self):
        slot = make_slot(capacity=2)
        book(slot, ClientFactory())

        book(slot, self.client_user)

        slot.refresh_from_db()
        self.assertEqual(slot.booked, 2)
        self.assertTrue(slot.is_full)

    def test_booking_create_rejects_an_unknown_slot_as_invalid_time_slot(self):
        before = self.state()

        with self.assertRaises(ValidationFailedError) as caught:
            services.booking_create(client=self.client_user, time_slot_id=987654, by=None)

        self.assertEqual(caught.exception.code, "invalid")
        self.assertIn("time_slot", caught.exception.errors)
        self.assertTrue(caught.exception.errors["time_slot"])
        self.assertEqual(self.state(), before)

    def test_booking_create_rejects_a_slot_the_studio_cancelled(self):
        slot = make_slot()
        time_slot_cancel(time_slot=slot, by=None)

        error = self.assert_refused(SlotCancelledError, slot_id=slot.pk)

        self.assertEqual((error.status, error.code), (409, "slot_cancelled"))

    def test_booking_create_rejects_a_slot_that_has_started(self):
        slot = make_slot(start=now() - timedelta(minutes=10), minutes=60)

        error = self.assert_refused(SlotExpiredError, slot_id=slot.pk)

        self.assertEqual((error.status, error.code), (409, "slot_expired"))

    def test_booking_create_rejects_a_slot_that_has_ended(self):
        slot = make_slot(start=now() - timedelta(days=2))

        self.assert_refused(SlotExpiredError, slot_id=slot.pk)

    def test_booking_create_rejects_a_slot_starting_this_very_moment(self):
        slot = make_slot(start=now())

        self.assert_refused(SlotExpiredError, slot_id=slot.pk)

    def test_booking_create_rejects_a_second_booking_of_the_same_slot(self):
        slot = make_slot()
        book(slot, self.client_user)

        error = self.assert_refused(AlreadyBookedError, slot_id=slot.pk)

        self.assertEqual((error.status, error.code), (409, "already_booked"))
        slot.refresh_from_db()
        self.assertEqual(slot.booked, 1)

    def test_booking_create_rejects_a_slot_overlapping_a_confirmed_booking(self):
        start = now() + timedelta(days=2)
        booked = make_slot(start=start, minutes=60, title="Spin")
        overlapping = make_slot(start=start + timedelta(minutes=30), minutes=60)
        book(booked, self.client_user)

        error = self.assert_refused(TimeConflictError, slot_id=overlapping.pk)

        self.assertEqual((error.status, error.code), (409, "time_conflict"))
        self.assertIn("Spin", error.message)

    def test_booking_create_rejects_a_slot_inside_a_confirmed_booking(self):
        start = now() + timedelta(days=2)
        book(make_slot(start=start, minutes=120), self.client_user)
        inner = make_slot(start=start + timedelta(minutes=30), minutes=30)

        self.assert_refused(TimeConflictError, slot_id=inner.pk)

    def test_booking_create_rejects_a_slot_overlapping_a_booking_of_the_same_session(self):
        start = now() + timedelta(days=2)
        first = make_slot(start=start, minutes=90)
        second = add_slot(first.session, start=start + timedelta(minutes=60), minutes=60)
        book(first, self.client_user)

        self.assert_refused(TimeConflictError, slot_id=second.pk)

    def test_booking_create_rejects_a_slot_overlapping_a_booking_in_progress(self):
        running = make_slot(start=now() + timedelta(minutes=5), minutes=120)
        book(running, self.client_user)
        move_to_past(running, ago=timedelta(minutes=30))
        later = make_slot(start=now() + timedelta(minutes=30), minutes=30)

        self.assert_refused(TimeConflictError, slot_id=later.pk)

    def test_booking_create_accepts_an_adjacent_slot(self):
        start = now() + timedelta(days=2)
        first = make_slot(start=start, minutes=60)
        before = make_slot(start=start - timedelta(minutes=60), minutes=60)
        after = make_slot(start=start + timedelta(minutes=60), minutes=60)
        book(first, self.client_user)

        book(before, self.client_user)
        book(after, self.client_user)

        self.assertEqual(Booking.objects.for_client(self.client_user).confirmed().count(), 3)

    def test_booking_create_ignores_a_cancelled_booking_when_checking_overlaps(self):
        start = now() + timedelta(days=2)
        first = make_slot(start=start, minutes=60)
        overlapping = make_slot(start=start + timedelta(minutes=15), minutes=60)
        services.booking_cancel(booking=book(first, self.client_user), by=None)

        booking = book(overlapping, self.client_user)

        self.assertEqual(booking.status, BookingStatus.CONFIRMED)

    def test_booking_create_ignores_bookings_of_a_slot_the_studio_cancelled(self):
        start = now() + timedelta(days=2)
        first = make_slot(start=start, minutes=60)
        overlapping = make_slot(start=start, minutes=60)
        book(first, self.client_user)
        time_slot_cancel(time_slot=first, by=None)

        booking = book(overlapping, self.client_user)

        self.assertEqual(booking.status, BookingStatus.CONFIRMED)

    def test_booking_create_ignores_other_clients_overlapping_bookings(self):
        start = now() + timedelta(days=2)
        first = make_slot(start=start, minutes=60)
        overlapping = make_slot(start=start, minutes=60)
        book(first, ClientFactory())

        booking = book(overlapping, self.client_user)

        self.assertEqual(booking.status, BookingStatus.CONFIRMED)

    def test_booking_create_rejects_a_full_slot(self):
        slot = make_slot(capacity=2)
        self.fill(slot)

        error = self.assert_refused(SlotFullError, slot_id=slot.pk)

        self.assertEqual((error.status, error.code), (409, "slot_full"))
        slot.refresh_from_db()
        self.assertEqual(slot.booked, 2)

    def test_booking_create_counts_a_cancelled_seat_as_free(self):
        slot = make_slot(capacity=1)
        services.booking_cancel(booking=book(slot, ClientFactory()), by=None)

        book(slot, self.client_user)

        slot.refresh_from_db()
        self.assertEqual(slot.booked, 1)


class BookingCreateOrderTests(BookingServiceTestCase):
    """When several rules refuse a booking, the first in the contract's order wins:
    cancelled, expired, already booked, time conflict, full."""

    def test_cancelled_wins_over_full(self):
        slot = make_slot(capacity=1)
        self.fill(slot)
        TimeSlot.objects.filter(pk=slot.pk).update(is_cancelled=True, cancelled_at=now())

        self.assert_refused(SlotCancelledError, slot_id=slot.pk)

    def test_cancelled_wins_over_expired(self):
        slot = make_slot(start=now() - timedelta(hours=1))
        TimeSlot.objects.filter(pk=slot.pk).update(is_cancelled=True, cancelled_at=now())

        self.assert_refused(SlotCancelledError, slot_id=slot.pk)

    def test_cancelled_wins_over_already_booked(self):
        slot = make_slot()
        book(slot, self.client_user)
        TimeSlot.objects.filter(pk=slot.pk).update(is_cancelled=True, cancelled_at=now())

        self.assert_refused(SlotCancelledError, slot_id=slot.pk)

    def test_expired_wins_over_already_booked_and_full(self):
        slot = make_slot(capacity=1)
        book(slot, self.client_user)
        move_to_past(slot)

        self.assert_refused(SlotExpiredError, slot_id=slot.pk)

    def test_expired_wins_over_time_conflict(self):
        start = now() + timedelta(minutes=5)
        book(make_slot(start=start, minutes=120), self.client_user)
        started = make_slot(start=start, minutes=60)
        move_to_past(started, ago=timedelta(minutes=1))
        TimeSlot.objects.filter(pk=started.pk).update(end=now() + timedelta(hours=1))

        self.assert_refused(SlotExpiredError, slot_id=started.pk)

    def test_already_booked_wins_over_full(self):
        slot = make_slot(capacity=1)
        book(slot, self.client_user)

        self.assert_refused(AlreadyBookedError, slot_id=slot.pk)

    def test_time_conflict_wins_over_full(self):
        start = now() + timedelta(days=1)
        book(make_slot(start=start), self.client_user)
        full = make_slot(start=start, capacity=1)
        self.fill(full)

        self.assert_refused(TimeConflictError, slot_id=full.pk)


class BookingConstraintTests(BookingServiceTestCase):
    def test_client_can_book_a_slot_again_after_cancelling_it(self):
        slot = make_slot(capacity=2)
        first = book(slot, self.client_user)
        services.booking_cancel(booking=first, by=None)

        second = book(slot, self.client_user)

        self.assertNotEqual(first.pk, second.pk)
        first.refresh_from_db()
        self.assertEqual(first.status, BookingStatus.CANCELLED)
        self.assertEqual(second.status, BookingStatus.CONFIRMED)
        self.assertEqual(slot.booked, 1)

    def test_cancelled_bookings_on_one_slot_can_pile_up(self):
        slot = make_slot()
        for _ in range(3):
            services.booking_cancel(booking=book(slot, self.client_user), by=None)

        self.assertEqual(Booking.objects.filter(time_slot=slot).count(), 3)
        self.assertEqual(Booking.objects.filter(time_slot=slot).confirmed().count(), 0)

    def test_database_refuses_a_second_confirmed_booking_for_the_same_client_and_slot(self):
        slot = make_slot()
        book(slot, self.client_user)

        with self.assertRaises(IntegrityError), transaction.atomic():
            Booking.objects.create(
                client=self.client_user, time_slot=slot, cancel_before=slot.start
            )

        self.assertEqual(Booking.objects.filter(time_slot=slot).count(), 1)

    def test_database_accepts_a_cancelled_booking_next_to_a_confirmed_one(self):
        slot = make_slot()
        book(slot, self.client_user)

        Booking.objects.create(
            client=self.client_user,
            time_slot=slot,
            status=BookingStatus.CANCELLED,
            cancelled_at=now(),
            cancel_before=slot.start,
        )

        self.assertEqual(Booking.objects.filter(time_slot=slot).count(), 2)

    def test_database_refuses_a_booked_counter_above_the_capacity(self):
        slot = make_slot(capacity=2)

        with self.assertRaises(IntegrityError), transaction.atomic():
            TimeSlot.objects.filter(pk=slot.pk).update(booked=3)

        slot.refresh_from_db()
        self.assertEqual(slot.booked, 0)

    def test_database_refuses_an_unknown_booking_status(self):
        slot = make_slot()

        with self.assertRaises(IntegrityError), transaction.atomic():
            Booking.objects.create(
                client=self.client_user, time_slot=slot, status="pending", cancel_before=slot.start
            )
