"""Timetable writes racing bookings: real threads, each with its own connection."""

import threading

from django.db import connection, transaction
from django.test import TransactionTestCase

from accounts.tests.factories import ClientFactory
from bookings.models import Booking
from bookings.services import booking_create
from core.errors import CapacityBelowBookedError, HasBookingsError
from sessions_app import services
from sessions_app.models import Session, TimeSlot
from sessions_app.tests.factories import TimeSlotFactory

HOLD_SECONDS = 0.5


class BookingInFlight:
    """Books a seat in another thread and keeps that transaction open for a
    moment, the way a slow booking request would."""

    def __init__(self, slot: TimeSlot):
        self.client = ClientFactory()
        self.slot = slot
        self.booked = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        try:
            with transaction.atomic():
                booking_create(client=self.client, time_slot_id=self.slot.pk, by=None)
                self.booked.set()
                threading.Event().wait(HOLD_SECONDS)
        except BaseException as exc:  # handed to the test
            self.error = exc
            self.booked.set()
        finally:
            connection.close()

    def __enter__(self) -> "BookingInFlight":
        self.thread.start()
        self.booked.wait(10)
        return self

    def __exit__(self, *exc_info) -> None:
        self.thread.join(10)
        if self.error is not None:
            raise self.error


class TimetableRaceTests(TransactionTestCase):
    def setUp(self):
        self.slot = TimeSlotFactory(capacity=1)
        self.session = self.slot.session

    def test_deleting_a_session_while_a_booking_commits_is_refused_not_broken(self):
        with BookingInFlight(self.slot), self.assertRaises(HasBookingsError):
            services.session_delete(session=self.session, by=None)

        self.assertTrue(Session.objects.filter(pk=self.session.pk).exists())
        self.assertEqual(Booking.objects.filter(time_slot=self.slot).count(), 1)

    def test_removing_a_slot_while_a_booking_commits_is_refused(self):
        other = TimeSlotFactory(session=self.session, start=self.slot.end)
        keep_other_only = [{"id": other.pk, "start": other.start, "end": other.end, "capacity": 10}]

        with BookingInFlight(self.slot), self.assertRaises(HasBookingsError):
            services.session_update(
                session=self.session, data={"time_slots": keep_other_only}, by=None
            )

        self.assertTrue(TimeSlot.objects.filter(pk=self.slot.pk).exists())

    def test_capacity_cannot_drop_under_a_booking_that_commits_first(self):
        slot = self.slot
        TimeSlot.objects.filter(pk=slot.pk).update(capacity=2)
        BookingInFlight(slot).__enter__().__exit__()  # one confirmed booking already
        item = {"id": slot.pk, "start": slot.start, "end": slot.end, "capacity": 1}

        with BookingInFlight(slot), self.assertRaises(CapacityBelowBookedError):
            services.session_update(session=self.session, data={"time_slots": [item]}, by=None)

        slot.refresh_from_db()
        self.assertEqual((slot.capacity, slot.booked), (2, 2))
