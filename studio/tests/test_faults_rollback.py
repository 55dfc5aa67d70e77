"""Faults: writes that fail half-way.

Fault injection inside a write uses `mock.patch` to make the write fail after
its first statements; the rollback itself is PostgreSQL's or SQLite's, in a
TransactionTestCase.
"""

import sys
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from unittest import mock

from django.db import InterfaceError, OperationalError
from django.test import TransactionTestCase
from django.utils.timezone import now
from rest_framework.test import APIClient

from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings import services as booking_services
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import book, make_slot
from sessions_app.cache import timetable_changed, timetable_version
from sessions_app.models import Session, TimeSlot
from testing.problems import assert_problem


class InjectedFault(Exception):
    """Raised inside a write by the tests, as a bug or a lost worker would."""


def fail_after(real):
    """A stand-in that does what `real` does, then fails."""

    def run(*args, **kwargs):
        real(*args, **kwargs)
        raise InjectedFault("injected after the write")

    return run


def lose_connection_after(real, error=OperationalError):
    def run(*args, **kwargs):
        real(*args, **kwargs)
        raise error("server closed the connection unexpectedly")

    return run


def find_connection_closed_after(real):
    return lose_connection_after(real, InterfaceError)


class WriteRollbackTests(TransactionTestCase):
    """A write that fails half-way leaves every row as it was: the booking
    rows, the slots with their counters, the sessions, and the timetable's
    cache version (moved only by a write that commits)."""

    def setUp(self):
        self.instructor = InstructorFactory()
        self.client_user = ClientFactory()
        self.slot = make_slot(instructor=self.instructor, capacity=3)
        self.other_slot = make_slot(
            instructor=self.instructor, start=now() + timedelta(days=3), capacity=4
        )
        self.held = book(self.slot, ClientFactory())
        timetable_changed()
        self.api = APIClient()

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "bookings": list(Booking.objects.order_by("pk").values()),
            "slots": list(TimeSlot.objects.order_by("pk").values()),
            "sessions": list(Session.objects.order_by("pk").values()),
            "timetable version": timetable_version(),
        }

    @contextmanager
    def failing(self, target: str, wrap=fail_after):
        """Patches `target` (a function the write calls after its first
        statements) to run and then fail; expects the failure logged."""
        module, name = target.rsplit(".", 1)
        real = getattr(sys.modules[module], name)
        with (
            mock.patch(target, side_effect=wrap(real)) as patched,
            self.assertLogs(level="WARNING") as logs,
        ):
            yield
        self.assertTrue(patched.called, f"{target} was not reached")
        self.assertIn("django.request", {record.name for record in logs.records})

    def test_booking_that_fails_after_its_insert_leaves_no_booking_and_no_seat_taken(self):
        before = self.snapshot()
        self.api.force_authenticate(self.client_user)
        with self.failing("bookings.services.timetable_changed"):
            response = self.api.post("/api/bookings/", {"time_slot": self.other_slot.pk})
        assert_problem(self, response, 500, "server_error")
        self.assertEqual(self.snapshot(), before)

    def test_booking_that_loses_the_database_half_way_answers_503_and_leaves_nothing(self):
        before = self.snapshot()
        self.api.force_authenticate(self.client_user)
        with self.failing("bookings.services.timetable_changed", lose_connection_after):
            response = self.api.post("/api/bookings/", {"time_slot": self.other_slot.pk})
        assert_problem(self, response, 503, "service_unavailable")
        self.assertIn("Retry-After", response.headers)
        self.assertEqual(self.snapshot(), before)

    def test_cancel_that_finds_its_connection_closed_answers_503_and_leaves_it_confirmed(self):
        before = self.snapshot()
        self.api.force_authenticate(self.held.client)
        with self.failing("bookings.services.timetable_changed", find_connection_closed_after):
            response = self.api.post(f"/api/bookings/{self.held.pk}/cancel/")
        assert_problem(self, response, 503, "service_unavailable")
        self.assertEqual(self.snapshot(), before)

    def test_cancel_that_fails_after_its_update_leaves_the_booking_confirmed(self):
        before = self.snapshot()
        self.api.force_authenticate(self.held.client)
        with self.failing("bookings.services.timetable_changed"):
            response = self.api.post(f"/api/bookings/{self.held.pk}/cancel/")
        assert_problem(self, response, 500, "server_error")
        self.assertEqual(self.snapshot(), before)
        self.held.refresh_from_db()
        self.assertEqual(self.held.status, BookingStatus.CONFIRMED)

    def test_session_create_that_fails_after_its_inserts_leaves_no_session(self):
        before = self.snapshot()
        self.api.force_authenticate(self.instructor)
        start = now() + timedelta(days=10)
        body = {
            "title": "Spin",
            "category": "spin",
            "time_slots": [
                {
                    "start": start.isoformat(),
                    "end": (start + timedelta(hours=1)).isoformat(),
                    "capacity": 8,
                },
            ],
        }
        with self.failing("sessions_app.services.timetable_changed"):
            response = self.api.post("/api/sessions/", body, format="json")
        assert_problem(self, response, 500, "server_error")
        self.assertEqual(self.snapshot(), before)

    def test_session_update_that_fails_after_its_writes_leaves_session_and_slots_as_they_were(
        self,
    ):
        session = self.other_slot.session
        extra = TimeSlot.objects.create(
            session=session,
            start=self.other_slot.start + timedelta(days=1),
            end=self.other_slot.end + timedelta(days=1),
            capacity=2,
        )
        timetable_changed()
        before = self.snapshot()
        self.api.force_authenticate(self.instructor)
        new_start = self.other_slot.start + timedelta(days=5)
        body = {
            "title": "Renamed",
            "description": "",
            "time_slots": [  # one changed, `extra` deleted, one added
                {
                    "id": self.other_slot.pk,
                    "start": self.other_slot.start.isoformat(),
                    "end": self.other_slot.end.isoformat(),
                    "capacity": 9,
                },
                {
                    "start": new_start.isoformat(),
                    "end": (new_start + timedelta(hours=1)).isoformat(),
                    "capacity": 6,
                },
            ],
        }
        with self.failing("sessions_app.services.timetable_changed"):
            response = self.api.patch(f"/api/sessions/{session.pk}/", body, format="json")
        assert_problem(self, response, 500, "server_error")
        self.assertEqual(self.snapshot(), before)
        self.assertTrue(TimeSlot.objects.filter(pk=extra.pk).exists())

    def test_slot_cancel_that_fails_after_its_writes_leaves_slot_and_bookings_as_they_were(self):
        book(self.slot, ClientFactory())
        before = self.snapshot()
        target = "bookings.services.timetable_changed"
        with (
            mock.patch(target, side_effect=fail_after(timetable_changed)) as patched,
            self.assertRaises(InjectedFault),
        ):
            booking_services.time_slot_cancel(time_slot=self.slot, by=None)
        self.assertTrue(patched.called)
        self.assertEqual(self.snapshot(), before)
        self.slot.refresh_from_db()
        self.assertEqual((self.slot.is_cancelled, self.slot.booked), (False, 2))
