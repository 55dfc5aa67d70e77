"""The timetable's services seen from outside the admin: the actor the API
records, the services behind the time slot's own admin form, and the
locks each write takes."""

from unittest import mock

from django.test import TestCase

from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings.tests.factories import book
from core.errors import CapacityBelowBookedError, HasBookingsError, ValidationFailedError
from core.models import ActionLogEntry
from sessions_app import services
from sessions_app.models import Session, TimeSlot
from sessions_app.tests.factories import TimeSlotFactory
from testing.api import SESSIONS, api_client, listed, slot_body
from testing.timetable import ist, log_of


class ApiRecordsTheInstructorTests(TestCase):
    def setUp(self):
        self.instructor = InstructorFactory()
        self.api = api_client(self.instructor)

    def test_creating_changing_and_deleting_through_the_api_records_the_instructor(self):
        created = self.api.post(
            SESSIONS,
            {"title": "Yoga", "category": "yoga", "time_slots": [slot_body(ist(5, 7))]},
            format="json",
        )
        session = Session.objects.get(pk=created.json()["id"])
        slot = session.time_slots.get()
        changed = self.api.patch(
            f"{SESSIONS}{session.pk}/",
            {"title": "Slow Yoga", "time_slots": [listed(slot, capacity=12)]},
            format="json",
        )
        deleted = self.api.delete(f"{SESSIONS}{session.pk}/")

        self.assertEqual(
            (created.status_code, changed.status_code, deleted.status_code), (201, 200, 204)
        )
        me = self.instructor.pk
        self.assertEqual(
            log_of(Session, session.pk),
            [("session.created", me), ("session.updated", me), ("session.deleted", me)],
        )
        self.assertEqual(
            log_of(TimeSlot, slot.pk), [("time_slot.created", me), ("time_slot.updated", me)]
        )


class OneSlotServiceTests(TestCase):
    """The services behind the time slot's own admin form."""

    def setUp(self):
        self.slot = TimeSlotFactory(start=ist(5, 7))
        self.session = self.slot.session

    def test_time_slot_create_counts_the_sessions_other_slots_as_overlaps(self):
        with self.assertRaises(ValidationFailedError) as raised:
            services.time_slot_create(
                session=self.session,
                start=ist(5, 7, 30),
                end=ist(5, 8, 30),
                capacity=5,
                by=None,
            )

        [item] = raised.exception.errors["time_slots"]
        self.assertIn(f"your time slot {self.slot.pk}", item["start"][0])
        self.assertEqual(self.session.time_slots.count(), 1)

    def test_time_slot_update_names_the_slot_whose_capacity_is_below_its_bookings(self):
        book(self.slot, ClientFactory())
        book(self.slot, ClientFactory())

        with self.assertRaises(CapacityBelowBookedError) as raised:
            services.time_slot_update(
                time_slot=self.slot, start=self.slot.start, end=self.slot.end, capacity=1, by=None
            )

        self.assertEqual(raised.exception.time_slot_id, self.slot.pk)
        self.assertEqual(TimeSlot.objects.get(pk=self.slot.pk).capacity, 10)

    def test_time_slot_update_without_a_change_records_nothing(self):
        services.time_slot_update(
            time_slot=self.slot, start=self.slot.start, end=self.slot.end, capacity=10, by=None
        )

        self.assertFalse(ActionLogEntry.objects.exists())

    def test_time_slot_delete_keeps_the_sessions_last_slot(self):
        with self.assertRaises(ValidationFailedError):
            services.time_slot_delete(time_slot=self.slot, by=None)

        self.assertTrue(TimeSlot.objects.filter(pk=self.slot.pk).exists())

    def test_time_slot_delete_keeps_a_slot_with_bookings(self):
        TimeSlotFactory(session=self.session, start=ist(6, 7))
        book(self.slot, ClientFactory())

        with self.assertRaises(HasBookingsError) as raised:
            services.time_slot_delete(time_slot=self.slot, by=None)

        self.assertEqual(raised.exception.time_slot_id, self.slot.pk)

    def test_a_system_write_records_no_actor(self):
        other = TimeSlotFactory(session=self.session, start=ist(6, 7))

        services.time_slot_delete(time_slot=other, by=None)

        self.assertEqual(log_of(TimeSlot, other.pk), [("time_slot.deleted", None)])


class LockTests(TestCase):
    def test_each_write_takes_its_locks_in_one_call(self):
        slot = TimeSlotFactory(start=ist(5, 7))
        session = slot.session
        item = {"id": slot.pk, "start": slot.start, "end": slot.end, "capacity": 12}
        writes = {
            "create": lambda: services.session_create(
                instructor=session.instructor,
                title="Spin",
                category="spin",
                time_slots=[{"start": ist(6, 7), "end": ist(6, 8), "capacity": 5}],
                by=None,
            ),
            "update": lambda: services.session_update(
                session=session, data={"title": "New", "time_slots": [item]}, by=None
            ),
            "one slot": lambda: services.time_slot_update(
                time_slot=slot, start=slot.start, end=slot.end, capacity=11, by=None
            ),
            "delete": lambda: services.session_delete(session=session, by=None),
        }
        for name, write in writes.items():
            with self.subTest(write=name):
                with mock.patch.object(
                    services, "lock_objects", wraps=services.lock_objects
                ) as lock:
                    write()

                self.assertEqual(lock.call_count, 1)
