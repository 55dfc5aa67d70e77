"""The services that create and delete sessions and cancel time slots (API.md section 3)."""

from datetime import timedelta

from django.test import TestCase

from accounts.tests.factories import InstructorFactory
from bookings.tests.factories import book, book_and_cancel, cancel_slot, move_to_past
from core.errors import (
    HasBookingsError,
    ValidationFailedError,
)
from sessions_app import services
from sessions_app.models import Session, TimeSlot
from sessions_app.serializers import SessionCreateSerializer
from sessions_app.tests.factories import SessionFactory, TimeSlotFactory
from testing.timetable import SessionServiceTestCase, db_state, hours_from_now, slot_item


class SessionCreateTests(SessionServiceTestCase):
    def setUp(self):
        self.instructor = InstructorFactory()

    def create(self, *items: dict, **fields) -> Session:
        fields.setdefault("title", "Morning Yoga")
        fields.setdefault("category", "yoga")
        return services.session_create(
            instructor=self.instructor, time_slots=list(items), **fields, by=None
        )

    def test_session_create_saves_the_session_and_its_slots(self):
        first, second = slot_item(24, capacity=12), slot_item(48, hours=1.5, capacity=20)

        session = self.create(first, second, description="Hatha flow", category="pilates")

        session.refresh_from_db()
        self.assertEqual(session.instructor, self.instructor)
        self.assertEqual(
            (session.title, session.description, session.category),
            ("Morning Yoga", "Hatha flow", "pilates"),
        )
        slots = list(session.time_slots.order_by("start"))
        self.assertEqual(
            [(s.start, s.end, s.capacity, s.booked, s.is_cancelled) for s in slots],
            [
                (first["start"], first["end"], 12, 0, False),
                (second["start"], second["end"], 20, 0, False),
            ],
        )

    def test_session_create_refuses_a_slot_that_starts_in_the_past(self):
        with self.assertRaises(ValidationFailedError) as raised:
            self.create(slot_item(24), slot_item(-1))

        self.assert_slot_errors(raised, [set(), {"start"}])
        self.assertFalse(Session.objects.exists())
        self.assertFalse(TimeSlot.objects.exists())

    def test_session_create_refuses_a_slot_that_ends_before_it_starts(self):
        start = hours_from_now(24)
        item = {"start": start, "end": start - timedelta(minutes=30), "capacity": 10}

        with self.assertRaises(ValidationFailedError) as raised:
            self.create(item)

        self.assert_slot_errors(raised, [{"end"}])
        self.assertFalse(Session.objects.exists())

    def test_session_create_refuses_a_slot_that_ends_when_it_starts(self):
        start = hours_from_now(24)

        with self.assertRaises(ValidationFailedError) as raised:
            self.create(slot_item(48), {"start": start, "end": start, "capacity": 10})

        self.assert_slot_errors(raised, [set(), {"end"}])
        self.assertFalse(Session.objects.exists())

    def test_session_create_reports_each_bad_slot_at_its_own_index(self):
        start = hours_from_now(72)
        items = [
            slot_item(24),
            slot_item(-3),
            slot_item(48),
            {"start": start, "end": start - timedelta(hours=1), "capacity": 10},
        ]

        with self.assertRaises(ValidationFailedError) as raised:
            self.create(*items)

        self.assert_slot_errors(raised, [set(), {"start"}, set(), {"end"}])

    def test_session_create_refuses_an_empty_slot_list(self):
        with self.assertRaises(ValidationFailedError) as raised:
            self.create()

        self.assertIn("time_slots", raised.exception.errors)
        self.assertFalse(Session.objects.exists())

    def test_session_create_refuses_slots_of_the_request_that_overlap_each_other(self):
        items = [slot_item(24, hours=2), slot_item(48), slot_item(25)]

        with self.assertRaises(ValidationFailedError) as raised:
            self.create(*items)

        errors = self.assert_slot_errors(raised, [set(), set(), {"start"}])
        self.assertIn("time slot 1", errors[2]["start"][0])
        self.assertFalse(Session.objects.exists())
        self.assertFalse(TimeSlot.objects.exists())

    def test_session_create_allows_back_to_back_slots(self):
        first = slot_item(24)
        second = {"start": first["end"], "end": first["end"] + timedelta(hours=1), "capacity": 5}

        session = self.create(first, second)

        self.assertEqual(session.time_slots.count(), 2)

    def test_session_create_refuses_a_slot_that_overlaps_the_instructors_other_session(self):
        other = TimeSlotFactory(session__instructor=self.instructor)
        before = db_state()
        clash = {
            "start": other.start + timedelta(minutes=30),
            "end": other.end + timedelta(minutes=30),
            "capacity": 10,
        }

        with self.assertRaises(ValidationFailedError) as raised:
            self.create(slot_item(72), clash)

        errors = self.assert_slot_errors(raised, [set(), {"start"}])
        self.assertIn(other.session.title, errors[1]["start"][0])
        self.assertEqual(db_state(), before)

    def test_session_create_refuses_a_slot_inside_a_longer_slot_of_the_instructor(self):
        other = TimeSlotFactory(session__instructor=self.instructor)
        TimeSlot.objects.filter(pk=other.pk).update(end=other.start + timedelta(hours=4))
        inside = {
            "start": other.start + timedelta(hours=1),
            "end": other.start + timedelta(hours=2),
            "capacity": 10,
        }

        with self.assertRaises(ValidationFailedError) as raised:
            self.create(inside)

        self.assert_slot_errors(raised, [{"start"}])

    def test_session_create_allows_an_overlap_with_another_instructors_slot(self):
        other = TimeSlotFactory()
        same_time = {"start": other.start, "end": other.end, "capacity": 10}

        session = self.create(same_time)

        self.assertEqual(session.time_slots.get().start, other.start)

    def test_session_create_allows_a_slot_at_the_time_of_the_instructors_cancelled_slot(self):
        cancelled = TimeSlotFactory(session__instructor=self.instructor)
        cancel_slot(cancelled)

        session = self.create({"start": cancelled.start, "end": cancelled.end, "capacity": 10})

        self.assertEqual(session.time_slots.get().start, cancelled.start)

    def test_session_create_allows_a_slot_right_after_the_instructors_other_slot(self):
        other = TimeSlotFactory(session__instructor=self.instructor)

        session = self.create(
            {"start": other.end, "end": other.end + timedelta(hours=1), "capacity": 10}
        )

        self.assertEqual(session.time_slots.count(), 1)


class SessionDeleteTests(SessionServiceTestCase):
    def setUp(self):
        self.session = SessionFactory()
        self.slot = TimeSlotFactory(session=self.session)
        self.other_slot = TimeSlotFactory(session=self.session, start=hours_from_now(72))

    def assert_delete_refused(self):
        before = db_state()
        with self.assertRaises(HasBookingsError) as raised:
            services.session_delete(session=self.session, by=None)
        self.assertEqual(raised.exception.code, "has_bookings")
        self.assertEqual(db_state(), before)

    def test_session_delete_removes_a_session_without_bookings_and_its_slots(self):
        untouched = TimeSlotFactory()

        services.session_delete(session=self.session, by=None)

        self.assertFalse(Session.objects.filter(pk=self.session.pk).exists())
        self.assertEqual(list(TimeSlot.objects.values_list("pk", flat=True)), [untouched.pk])

    def test_session_delete_is_refused_while_a_slot_holds_a_confirmed_booking(self):
        book(self.other_slot)

        self.assert_delete_refused()

    def test_session_delete_is_refused_while_a_slot_holds_a_cancelled_booking(self):
        book_and_cancel(self.slot)

        self.assert_delete_refused()

    def test_session_delete_is_refused_for_a_booking_on_a_past_slot(self):
        book(self.slot)
        move_to_past(self.slot, ago=timedelta(hours=2))

        self.assert_delete_refused()

    def test_session_delete_is_refused_for_a_slot_the_studio_cancelled(self):
        book(self.slot)
        cancel_slot(self.slot)

        self.assert_delete_refused()


class SlotInputSerializerTests(TestCase):
    """The capacity range is checked where the input is read."""

    def errors_for(self, capacity) -> dict:
        start = hours_from_now(24)
        serializer = SessionCreateSerializer(
            data={
                "title": "Yoga",
                "category": "yoga",
                "time_slots": [
                    {
                        "start": start.isoformat(),
                        "end": (start + timedelta(hours=1)).isoformat(),
                        "capacity": capacity,
                    }
                ],
            }
        )
        serializer.is_valid()
        return serializer.errors

    def test_capacity_from_1_to_500_is_accepted(self):
        for capacity in [1, 500]:
            with self.subTest(capacity=capacity):
                self.assertEqual(self.errors_for(capacity), {})

    def test_capacity_outside_1_to_500_is_refused(self):
        for capacity in [0, -5, 501, "many"]:
            with self.subTest(capacity=capacity):
                errors = self.errors_for(capacity)

                self.assertEqual(set(errors), {"time_slots"})
                self.assertIn("capacity", errors["time_slots"][0])
