"""The services that write sessions and time slots (API.md section 3)."""

from datetime import datetime, timedelta

from django.test import TestCase
from django.utils.timezone import now

from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings import services as booking_services
from bookings.models import Booking, BookingStatus
from sessions_app import services
from sessions_app.models import Session, TimeSlot
from sessions_app.serializers import SessionCreateSerializer
from sessions_app.tests.factories import SessionFactory, TimeSlotFactory
from studio.errors import (
    CapacityBelowBookedError,
    HasBookingsError,
    SlotCancelledError,
    ValidationFailedError,
)


def hours_from_now(hours: float) -> datetime:
    return now() + timedelta(hours=hours)


def slot_item(start_hours: float, hours: float = 1, capacity: int = 10, **extra) -> dict:
    """One item of a `time_slots` list that starts `start_hours` from now."""
    start = hours_from_now(start_hours)
    return {"start": start, "end": start + timedelta(hours=hours), "capacity": capacity, **extra}


def listed(slot: TimeSlot, **changes) -> dict:
    """`slot` as an item of an update's `time_slots` list, with `changes`."""
    item = {"id": slot.pk, "start": slot.start, "end": slot.end, "capacity": slot.capacity}
    item.update(changes)
    return item


def book(slot: TimeSlot, client=None) -> Booking:
    """A confirmed booking made the way a client makes it, so `booked` stays right."""
    return booking_services.booking_create(client=client or ClientFactory(), time_slot_id=slot.pk)


def book_and_cancel(slot: TimeSlot, client=None) -> Booking:
    booking = book(slot, client)
    return booking_services.booking_cancel(booking=booking)


def move_into_the_past(slot: TimeSlot) -> TimeSlot:
    """Moves `slot` (bookings and all) to have started two hours ago."""
    start = hours_from_now(-2)
    TimeSlot.objects.filter(pk=slot.pk).update(start=start, end=start + timedelta(hours=1))
    slot.refresh_from_db()
    return slot


def db_state() -> dict:
    """Everything a sessions service can change, to compare before and after."""
    return {
        "sessions": list(
            Session.objects.order_by("pk").values_list(
                "pk", "title", "description", "category", "updated_at"
            )
        ),
        "slots": list(
            TimeSlot.objects.order_by("pk").values_list(
                "pk", "session_id", "start", "end", "capacity", "booked", "is_cancelled"
            )
        ),
        "bookings": list(
            Booking.objects.order_by("pk").values_list("pk", "time_slot_id", "status")
        ),
    }


class ServiceTestCase(TestCase):
    def assert_slot_errors(self, raised, expected_keys: list[set[str]]) -> list:
        """The error of `raised` nests one dict per item, with these keys."""
        errors = raised.exception.errors
        self.assertEqual(raised.exception.code, "invalid")
        self.assertEqual(set(errors), {"time_slots"})
        items = errors["time_slots"]
        self.assertEqual([set(item) for item in items], expected_keys, items)
        for item in items:
            for messages in item.values():
                self.assertTrue(messages)
                self.assertTrue(all(isinstance(m, str) and m for m in messages))
        return items


class SessionCreateTests(ServiceTestCase):
    def setUp(self):
        self.instructor = InstructorFactory()

    def create(self, *items: dict, **fields) -> Session:
        fields.setdefault("title", "Morning Yoga")
        fields.setdefault("category", "yoga")
        return services.session_create(
            instructor=self.instructor, time_slots=list(items), by=None, **fields
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
        services.time_slot_cancel(time_slot=cancelled)

        session = self.create({"start": cancelled.start, "end": cancelled.end, "capacity": 10})

        self.assertEqual(session.time_slots.get().start, cancelled.start)

    def test_session_create_allows_a_slot_right_after_the_instructors_other_slot(self):
        other = TimeSlotFactory(session__instructor=self.instructor)

        session = self.create(
            {"start": other.end, "end": other.end + timedelta(hours=1), "capacity": 10}
        )

        self.assertEqual(session.time_slots.count(), 1)


class SessionUpdateTests(ServiceTestCase):
    def setUp(self):
        self.instructor = InstructorFactory()
        self.session = SessionFactory(
            instructor=self.instructor, title="Morning Yoga", description="Hatha"
        )
        self.first = TimeSlotFactory(session=self.session, start=hours_from_now(24), capacity=10)
        self.second = TimeSlotFactory(session=self.session, start=hours_from_now(48), capacity=10)

    def update(self, **data) -> Session:
        return services.session_update(session=self.session, data=data, by=None)

    def slot_rows(self) -> list[tuple]:
        return list(
            self.session.time_slots.order_by("start").values_list("pk", "start", "end", "capacity")
        )

    def assert_refused_without_change(self, error_class, **data):
        before = db_state()
        with self.assertRaises(error_class) as raised:
            self.update(**data)
        self.assertEqual(db_state(), before)
        return raised

    def test_session_update_changes_only_the_fields_given(self):
        self.update(title="Evening Yoga")

        self.session.refresh_from_db()
        self.assertEqual(
            (self.session.title, self.session.description, self.session.category),
            ("Evening Yoga", "Hatha", "yoga"),
        )
        self.assertEqual(self.session.time_slots.count(), 2)

    def test_session_update_without_time_slots_keeps_every_slot(self):
        before = self.slot_rows()

        self.update(description="Slow flow", category="pilates")

        self.assertEqual(self.slot_rows(), before)

    def test_session_update_changes_a_slot_listed_with_its_id(self):
        new_start = hours_from_now(30)

        self.update(
            time_slots=[
                listed(
                    self.first, start=new_start, end=new_start + timedelta(hours=2), capacity=25
                ),
                listed(self.second),
            ]
        )

        self.first.refresh_from_db()
        self.assertEqual(
            (self.first.start, self.first.end, self.first.capacity),
            (new_start, new_start + timedelta(hours=2), 25),
        )
        self.assertEqual(self.session.time_slots.count(), 2)

    def test_session_update_adds_a_slot_listed_without_an_id(self):
        added = slot_item(72, capacity=7)

        self.update(time_slots=[listed(self.first), listed(self.second), added])

        rows = self.slot_rows()
        self.assertEqual(len(rows), 3)
        self.assertEqual(rows[:2], [(s.pk, s.start, s.end, 10) for s in (self.first, self.second)])
        self.assertEqual(rows[2][1:], (added["start"], added["end"], 7))

    def test_session_update_deletes_a_slot_left_out(self):
        self.update(time_slots=[listed(self.second)])

        self.assertEqual([row[0] for row in self.slot_rows()], [self.second.pk])
        self.assertFalse(TimeSlot.objects.filter(pk=self.first.pk).exists())

    def test_session_update_replaces_every_slot_with_new_ones(self):
        added = slot_item(96)

        self.update(time_slots=[added])

        rows = self.slot_rows()
        self.assertEqual(len(rows), 1)
        self.assertNotIn(rows[0][0], {self.first.pk, self.second.pk})

    def test_session_update_refuses_an_unknown_slot_id_and_saves_nothing(self):
        missing = TimeSlotFactory().pk + 1000

        raised = self.assert_refused_without_change(
            ValidationFailedError,
            title="Renamed",
            time_slots=[listed(self.first, capacity=20), listed(self.second, id=missing)],
        )

        self.assert_slot_errors(raised, [set(), {"id"}])

    def test_session_update_refuses_the_id_of_another_sessions_slot(self):
        foreign = TimeSlotFactory(session__instructor=self.instructor, start=hours_from_now(200))

        raised = self.assert_refused_without_change(
            ValidationFailedError,
            time_slots=[listed(self.first), listed(self.second), listed(foreign)],
        )

        self.assert_slot_errors(raised, [set(), set(), {"id"}])
        self.assertEqual(TimeSlot.objects.get(pk=foreign.pk).session, foreign.session)

    def test_session_update_refuses_a_slot_listed_twice(self):
        raised = self.assert_refused_without_change(
            ValidationFailedError,
            title="Renamed",
            time_slots=[listed(self.first), listed(self.second), listed(self.first)],
        )

        self.assert_slot_errors(raised, [set(), set(), {"id"}])

    def test_session_update_refuses_an_empty_slot_list(self):
        raised = self.assert_refused_without_change(
            ValidationFailedError, title="Renamed", time_slots=[]
        )

        self.assertIn("time_slots", raised.exception.errors)

    def test_session_update_refuses_moving_a_slot_into_the_past(self):
        past = hours_from_now(-5)

        raised = self.assert_refused_without_change(
            ValidationFailedError,
            time_slots=[
                listed(self.first, start=past, end=past + timedelta(hours=1)),
                listed(self.second),
            ],
        )

        self.assert_slot_errors(raised, [{"start"}, set()])

    def test_session_update_refuses_a_new_slot_in_the_past(self):
        raised = self.assert_refused_without_change(
            ValidationFailedError,
            time_slots=[listed(self.first), listed(self.second), slot_item(-30)],
        )

        self.assert_slot_errors(raised, [set(), set(), {"start"}])

    def test_session_update_refuses_a_slot_that_ends_before_it_starts(self):
        raised = self.assert_refused_without_change(
            ValidationFailedError,
            title="Renamed",
            time_slots=[
                listed(self.first, end=self.first.start - timedelta(minutes=1)),
                listed(self.second),
            ],
        )

        self.assert_slot_errors(raised, [{"end"}, set()])

    def test_session_update_keeps_an_unchanged_past_slot_in_the_list(self):
        book(self.first)
        move_into_the_past(self.first)
        added = slot_item(120)

        self.update(
            title="Renamed", time_slots=[listed(self.first), listed(self.second, capacity=3), added]
        )

        self.assertEqual(self.session.time_slots.count(), 3)
        self.first.refresh_from_db()
        self.assertEqual(self.first.booked, 1)
        self.assertEqual(TimeSlot.objects.get(pk=self.second.pk).capacity, 3)
        self.assertEqual(Session.objects.get(pk=self.session.pk).title, "Renamed")

    def test_session_update_refuses_a_slot_that_overlaps_another_session_of_the_instructor(self):
        other = TimeSlotFactory(session__instructor=self.instructor, start=hours_from_now(100))

        raised = self.assert_refused_without_change(
            ValidationFailedError,
            title="Renamed",
            time_slots=[
                listed(self.first),
                listed(self.second, start=other.start, end=other.end),
            ],
        )

        self.assert_slot_errors(raised, [set(), {"start"}])

    def test_session_update_refuses_an_added_slot_that_overlaps_a_listed_slot(self):
        overlapping = {
            "start": self.second.start + timedelta(minutes=15),
            "end": self.second.end + timedelta(minutes=15),
            "capacity": 10,
        }

        raised = self.assert_refused_without_change(
            ValidationFailedError,
            time_slots=[listed(self.first), listed(self.second), overlapping],
        )

        self.assert_slot_errors(raised, [set(), set(), {"start"}])

    def test_session_update_allows_an_overlap_with_another_instructors_slot(self):
        other = TimeSlotFactory(start=hours_from_now(100))

        self.update(
            time_slots=[listed(self.first), listed(self.second, start=other.start, end=other.end)]
        )

        self.assertEqual(TimeSlot.objects.get(pk=self.second.pk).start, other.start)

    def test_session_update_lets_a_slot_overlap_its_own_old_time(self):
        later = self.first.start + timedelta(minutes=30)

        self.update(
            time_slots=[
                listed(self.first, start=later, end=later + timedelta(hours=1)),
                listed(self.second),
            ]
        )

        self.assertEqual(TimeSlot.objects.get(pk=self.first.pk).start, later)

    def test_session_update_lets_a_slot_take_the_time_of_a_slot_it_deletes(self):
        self.update(time_slots=[listed(self.first, start=self.second.start, end=self.second.end)])

        self.assertEqual(
            self.slot_rows(), [(self.first.pk, self.second.start, self.second.end, 10)]
        )

    def test_session_update_lets_two_slots_swap_their_times(self):
        self.update(
            time_slots=[
                listed(self.first, start=self.second.start, end=self.second.end),
                listed(self.second, start=self.first.start, end=self.first.end),
            ]
        )

        self.assertEqual(TimeSlot.objects.get(pk=self.first.pk).start, self.second.start)
        self.assertEqual(TimeSlot.objects.get(pk=self.second.pk).start, self.first.start)

    def test_session_update_adds_a_slot_at_the_time_of_a_cancelled_slot_of_the_session(self):
        book(self.first)
        services.time_slot_cancel(time_slot=self.first)
        replacement = {"start": self.first.start, "end": self.first.end, "capacity": 10}

        self.update(time_slots=[listed(self.first), listed(self.second), replacement])

        self.assertEqual(self.session.time_slots.filter(start=self.first.start).count(), 2)

    def test_session_update_keeps_a_cancelled_slot_that_another_session_now_overlaps(self):
        book(self.first)
        services.time_slot_cancel(time_slot=self.first)
        other = services.session_create(
            instructor=self.instructor,
            title="Pilates",
            category="pilates",
            time_slots=[{"start": self.first.start, "end": self.first.end, "capacity": 8}],
            by=None,
        )

        self.update(time_slots=[listed(self.first), listed(self.second, capacity=12)])

        self.assertEqual(TimeSlot.objects.get(pk=self.second.pk).capacity, 12)
        self.assertEqual(other.time_slots.count(), 1)

    def test_session_update_refuses_to_delete_a_slot_with_a_confirmed_booking(self):
        book(self.first)

        self.assert_refused_without_change(
            HasBookingsError,
            title="Renamed",
            time_slots=[listed(self.second, capacity=20), slot_item(150)],
        )

    def test_session_update_refuses_to_delete_a_slot_whose_bookings_were_cancelled(self):
        book_and_cancel(self.first)
        self.assertEqual(TimeSlot.objects.get(pk=self.first.pk).booked, 0)

        raised = self.assert_refused_without_change(
            HasBookingsError, time_slots=[listed(self.second)]
        )

        self.assertEqual(raised.exception.code, "has_bookings")
        self.assertEqual(raised.exception.status, 409)

    def test_session_update_refuses_to_delete_a_past_slot_with_a_booking(self):
        book(self.first)
        move_into_the_past(self.first)

        self.assert_refused_without_change(HasBookingsError, time_slots=[listed(self.second)])

    def test_session_update_refuses_a_capacity_below_the_confirmed_bookings(self):
        book(self.first)
        book(self.first)

        raised = self.assert_refused_without_change(
            CapacityBelowBookedError,
            title="Renamed",
            time_slots=[listed(self.first, capacity=1), slot_item(150)],
        )

        self.assertEqual(raised.exception.code, "capacity_below_booked")
        self.assertEqual(raised.exception.status, 409)

    def test_session_update_allows_a_capacity_equal_to_the_confirmed_bookings(self):
        book(self.first)
        book(self.first)

        self.update(time_slots=[listed(self.first, capacity=2), listed(self.second)])

        self.first.refresh_from_db()
        self.assertEqual((self.first.capacity, self.first.booked, self.first.is_full), (2, 2, True))

    def test_session_update_capacity_check_counts_only_confirmed_bookings(self):
        book(self.first)
        book_and_cancel(self.first)

        self.update(time_slots=[listed(self.first, capacity=1), listed(self.second)])

        self.assertEqual(TimeSlot.objects.get(pk=self.first.pk).capacity, 1)

    def test_session_update_saves_nothing_when_one_slot_of_many_is_refused(self):
        book(self.second)
        book(self.second)

        self.assert_refused_without_change(
            CapacityBelowBookedError,
            title="Renamed",
            description="Changed",
            time_slots=[listed(self.second, capacity=1), slot_item(150), slot_item(170)],
        )

    def test_session_update_changes_the_updated_at_time(self):
        before = Session.objects.get(pk=self.session.pk).updated_at

        self.update(title="Renamed")

        self.assertGreater(Session.objects.get(pk=self.session.pk).updated_at, before)


class SessionDeleteTests(ServiceTestCase):
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
        move_into_the_past(self.slot)

        self.assert_delete_refused()

    def test_session_delete_is_refused_for_a_slot_the_studio_cancelled(self):
        book(self.slot)
        services.time_slot_cancel(time_slot=self.slot)

        self.assert_delete_refused()


class TimeSlotCancelTests(ServiceTestCase):
    def setUp(self):
        self.slot = TimeSlotFactory(capacity=5)

    def test_time_slot_cancel_cancels_the_confirmed_bookings_and_frees_every_seat(self):
        bookings = [book(self.slot) for _ in range(3)]

        count = services.time_slot_cancel(time_slot=self.slot)

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

        services.time_slot_cancel(time_slot=self.slot)

        self.assertTrue(self.slot.is_cancelled)
        self.assertEqual(self.slot.booked, 0)

    def test_time_slot_cancel_leaves_bookings_cancelled_earlier_as_they_were(self):
        earlier = book_and_cancel(self.slot)
        book(self.slot)

        count = services.time_slot_cancel(time_slot=self.slot)

        self.assertEqual(count, 1)
        self.assertEqual(Booking.objects.get(pk=earlier.pk).cancelled_at, earlier.cancelled_at)

    def test_time_slot_cancel_leaves_other_slots_bookings_alone(self):
        other_slot = TimeSlotFactory(session=self.slot.session, start=hours_from_now(72))
        other = book(other_slot)
        book(self.slot)

        services.time_slot_cancel(time_slot=self.slot)

        other.refresh_from_db()
        other_slot.refresh_from_db()
        self.assertEqual(other.status, BookingStatus.CONFIRMED)
        self.assertEqual((other_slot.booked, other_slot.is_cancelled), (1, False))

    def test_time_slot_cancel_of_a_slot_without_bookings_returns_zero(self):
        self.assertEqual(services.time_slot_cancel(time_slot=self.slot), 0)
        self.assertTrue(TimeSlot.objects.get(pk=self.slot.pk).is_cancelled)

    def test_time_slot_cancel_twice_changes_nothing_the_second_time(self):
        book(self.slot)
        services.time_slot_cancel(time_slot=self.slot)
        before = db_state()
        cancelled_at = TimeSlot.objects.get(pk=self.slot.pk).cancelled_at

        count = services.time_slot_cancel(time_slot=self.slot)

        self.assertEqual(count, 0)
        self.assertEqual(db_state(), before)
        self.assertEqual(TimeSlot.objects.get(pk=self.slot.pk).cancelled_at, cancelled_at)

    def test_a_cancelled_slot_takes_no_more_bookings(self):
        services.time_slot_cancel(time_slot=self.slot)

        with self.assertRaises(SlotCancelledError):
            book(self.slot)
        self.assertFalse(Booking.objects.exists())


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
