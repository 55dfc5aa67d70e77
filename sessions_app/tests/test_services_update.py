"""The service that changes a session and its list of time slots (API.md section 3)."""

from datetime import timedelta

from accounts.tests.factories import InstructorFactory
from bookings.tests.factories import book, book_and_cancel, cancel_slot, move_to_past
from core.errors import (
    CapacityBelowBookedError,
    HasBookingsError,
    ValidationFailedError,
)
from sessions_app import services
from sessions_app.models import Session, TimeSlot
from sessions_app.tests.factories import SessionFactory, TimeSlotFactory
from testing.timetable import SessionServiceTestCase, db_state, hours_from_now, slot_item


def listed(slot: TimeSlot, **changes) -> dict:
    """`slot` as an item of an update's `time_slots` list, with `changes`."""
    item = {"id": slot.pk, "start": slot.start, "end": slot.end, "capacity": slot.capacity}
    item.update(changes)
    return item


class SessionUpdateTests(SessionServiceTestCase):
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
        move_to_past(self.first, ago=timedelta(hours=2))
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
        cancel_slot(self.first)
        replacement = {"start": self.first.start, "end": self.first.end, "capacity": 10}

        self.update(time_slots=[listed(self.first), listed(self.second), replacement])

        self.assertEqual(self.session.time_slots.filter(start=self.first.start).count(), 2)

    def test_session_update_keeps_a_cancelled_slot_that_another_session_now_overlaps(self):
        book(self.first)
        cancel_slot(self.first)
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
        move_to_past(self.first, ago=timedelta(hours=2))

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
