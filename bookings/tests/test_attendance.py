"""Attendance: `bookings.services.booking_mark_attendance` and its window."""

from datetime import timedelta
from unittest import mock

from django.contrib.contenttypes.models import ContentType
from django.test import TestCase
from django.utils.timezone import now

from accounts.tests.factories import InstructorFactory
from bookings import services
from bookings.models import Attendance, Booking, BookingStatus
from bookings.tests.factories import book, book_and_cancel, make_slot, wait
from core.errors import AttendanceClosedError, ValidationFailedError
from core.models import ActionLogEntry
from sessions_app.models import TimeSlot
from testing.timetable import db_state


def move(slot: TimeSlot, *, start=None, end=None) -> TimeSlot:
    """Moves `slot` to start at `start` (keeping its length) or end at `end`."""
    length = slot.end - slot.start
    if end is not None:
        start = end - length
    TimeSlot.objects.filter(pk=slot.pk).update(start=start, end=start + length)
    slot.refresh_from_db()
    return slot


def log_of(booking: Booking) -> list[tuple[str, int | None, dict]]:
    return list(
        ActionLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Booking), object_id=booking.pk
        )
        .order_by("created_at", "id")
        .values_list("action", "actor_id", "data")
    )


class MarkAttendanceTests(TestCase):
    def setUp(self):
        self.instructor = InstructorFactory()
        self.slot = make_slot(instructor=self.instructor, start=now() + timedelta(days=1))
        self.booking = book(self.slot)
        move(self.slot, start=now() - timedelta(minutes=10))

    def mark(self, attendance=Attendance.ATTENDED, booking=None):
        return services.booking_mark_attendance(
            booking=booking or self.booking, attendance=attendance, by=self.instructor
        )

    def test_marking_a_confirmed_booking_attended_stores_it_and_returns_the_booking(self):
        marked = self.mark()

        self.assertEqual(marked.pk, self.booking.pk)
        self.assertEqual(marked.attendance, Attendance.ATTENDED)
        self.assertEqual(Booking.objects.get(pk=self.booking.pk).attendance, "attended")

    def test_a_mark_may_be_changed_within_the_window(self):
        self.mark(Attendance.ATTENDED)

        self.mark(Attendance.NO_SHOW)

        booking = Booking.objects.get(pk=self.booking.pk)
        self.assertEqual((booking.attendance, booking.status), ("no_show", "confirmed"))

    def test_marking_is_recorded_in_the_instructors_name_with_the_change(self):
        self.mark(Attendance.ATTENDED)
        self.mark(Attendance.NO_SHOW)

        marks = [entry for entry in log_of(self.booking) if entry[0] == "booking.attendance_marked"]
        self.assertEqual(
            marks,
            [
                (
                    "booking.attendance_marked",
                    self.instructor.pk,
                    {"attendance": [None, "attended"]},
                ),
                (
                    "booking.attendance_marked",
                    self.instructor.pk,
                    {"attendance": ["attended", "no_show"]},
                ),
            ],
        )

    def test_marking_the_same_again_changes_and_records_nothing(self):
        self.mark(Attendance.ATTENDED)
        before = (db_state(), log_of(self.booking))

        self.mark(Attendance.ATTENDED)

        self.assertEqual((db_state(), log_of(self.booking)), before)

    def test_marking_takes_its_locks_in_one_call(self):
        with mock.patch.object(services, "lock_objects", wraps=services.lock_objects) as lock:
            self.mark()

        self.assertEqual(lock.call_count, 1)

    def test_a_booking_that_is_not_confirmed_cannot_be_marked(self):
        cancelled = book_and_cancel(make_slot(start=now() + timedelta(days=2)))
        waiting = wait(make_slot(start=now() + timedelta(days=3)))
        expired = wait(make_slot(start=now() + timedelta(days=4)))
        Booking.objects.filter(pk=expired.pk).update(status=BookingStatus.EXPIRED)
        for booking in (cancelled, waiting, expired):
            move(booking.time_slot, start=now())
        before = db_state()

        for booking in (cancelled, waiting, Booking.objects.get(pk=expired.pk)):
            with self.subTest(status=booking.status):
                with self.assertRaises(ValidationFailedError) as raised:
                    self.mark(booking=booking)

                self.assertEqual(set(raised.exception.errors), {"booking"})
        self.assertEqual(db_state(), before)

    def test_a_value_other_than_attended_or_no_show_is_refused(self):
        with self.assertRaises(ValidationFailedError) as raised:
            self.mark("late")

        self.assertEqual(set(raised.exception.errors), {"attendance"})
        self.assertIsNone(Booking.objects.get(pk=self.booking.pk).attendance)


class AttendanceWindowTests(TestCase):
    """Open from 30 minutes before the slot starts until 7 days after it ends."""

    def setUp(self):
        self.slot = make_slot(start=now() + timedelta(days=1), minutes=60)
        self.booking = book(self.slot)

    def assert_open(self, is_open: bool) -> None:
        if is_open:
            services.booking_mark_attendance(booking=self.booking, attendance="attended", by=None)
            self.assertEqual(Booking.objects.get(pk=self.booking.pk).attendance, "attended")
            return
        before = db_state()
        with self.assertRaises(AttendanceClosedError):
            services.booking_mark_attendance(booking=self.booking, attendance="attended", by=None)
        self.assertEqual(db_state(), before)

    def test_31_minutes_before_the_start_is_too_early(self):
        move(self.slot, start=now() + timedelta(minutes=31))
        self.assert_open(False)

    def test_29_minutes_before_the_start_is_open(self):
        move(self.slot, start=now() + timedelta(minutes=29))
        self.assert_open(True)

    def test_during_the_slot_is_open(self):
        move(self.slot, start=now() - timedelta(minutes=30))
        self.assert_open(True)

    def test_a_minute_short_of_7_days_after_the_end_is_open(self):
        move(self.slot, end=now() - timedelta(days=7) + timedelta(minutes=1))
        self.assert_open(True)

    def test_a_minute_past_7_days_after_the_end_is_too_late(self):
        move(self.slot, end=now() - timedelta(days=7) - timedelta(minutes=1))
        self.assert_open(False)

    def test_the_refusal_names_the_window_the_rule_checks(self):
        move(self.slot, start=now() + timedelta(minutes=25))
        narrower = mock.patch.object(services, "ATTENDANCE_OPENS_MINUTES_BEFORE_START", 20)
        with narrower, self.assertRaises(AttendanceClosedError) as raised:
            services.booking_mark_attendance(booking=self.booking, attendance="attended", by=None)

        self.assertEqual(
            str(raised.exception.message),
            "Attendance is marked from 20 minutes before a time slot starts "
            "until 7 days after it ends.",
        )
        self.assertEqual(
            str(services.attendance_closed().message),
            "Attendance is marked from 30 minutes before a time slot starts "
            "until 7 days after it ends.",
        )

    def test_the_window_includes_both_of_its_edges(self):
        start = now() + timedelta(hours=5)
        slot = TimeSlot(start=start, end=start + timedelta(hours=1))

        self.assertTrue(services.attendance_is_open(slot, start - timedelta(minutes=30)))
        self.assertTrue(services.attendance_is_open(slot, slot.end + timedelta(days=7)))
        self.assertFalse(
            services.attendance_is_open(slot, start - timedelta(minutes=30, microseconds=1))
        )
        self.assertFalse(
            services.attendance_is_open(slot, slot.end + timedelta(days=7, microseconds=1))
        )
