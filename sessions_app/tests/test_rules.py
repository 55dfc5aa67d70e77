"""The timetable's single-home rules, on their own: when two slots overlap,
which slots block an interval, a schedule given whole, and whom a write that
may free seats locks."""

from datetime import timedelta

from django.test import SimpleTestCase, TestCase
from django.utils.timezone import now

from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings import services as booking_services
from core.errors import ValidationFailedError
from sessions_app import services
from sessions_app.models import TimeSlot
from sessions_app.rules import check_schedule_whole, overlaps
from sessions_app.tests.factories import TimeSlotFactory


class OverlapsTests(SimpleTestCase):
    def setUp(self):
        self.start = now()
        self.hour = timedelta(hours=1)

    def test_touching_intervals_do_not_overlap_either_way(self):
        a, b, c = self.start, self.start + self.hour, self.start + 2 * self.hour
        self.assertFalse(overlaps(a, b, b, c))
        self.assertFalse(overlaps(b, c, a, b))

    def test_intervals_sharing_a_moment_overlap_either_way(self):
        a, half = self.start, self.hour / 2
        cases = {
            "the same": (a, a + self.hour, a, a + self.hour),
            "staggered": (a, a + self.hour, a + half, a + self.hour + half),
            "one inside the other": (a, a + 2 * self.hour, a + half, a + self.hour),
        }
        for name, (a_start, a_end, b_start, b_end) in cases.items():
            with self.subTest(name):
                self.assertTrue(overlaps(a_start, a_end, b_start, b_end))
                self.assertTrue(overlaps(b_start, b_end, a_start, a_end))

    def test_intervals_apart_do_not_overlap(self):
        a = self.start
        self.assertFalse(overlaps(a, a + self.hour, a + 2 * self.hour, a + 3 * self.hour))


class OverlappingQuerySetTests(TestCase):
    def test_overlapping_finds_slots_sharing_a_moment_but_not_touching_or_cancelled(self):
        start = now() + timedelta(days=1)
        hour = timedelta(hours=1)
        inside = TimeSlotFactory(start=start + hour / 4, end=start + hour / 2)
        staggered = TimeSlotFactory(start=start + hour / 2, end=start + 2 * hour)
        TimeSlotFactory(start=start - hour, end=start)  # ends as it starts
        TimeSlotFactory(start=start + hour, end=start + 2 * hour)  # starts as it ends
        TimeSlotFactory(start=start, end=start + hour, is_cancelled=True)

        found = TimeSlot.objects.overlapping(start, start + hour).order_by("start")

        self.assertEqual(list(found), [inside, staggered])


class ScheduleWholeTests(SimpleTestCase):
    def test_a_whole_schedule_passes(self):
        schedule = {"rrule": "FREQ=DAILY", "start": now(), "duration_minutes": 60, "capacity": 5}
        self.assertIsNone(check_schedule_whole(schedule, message="Needed."))

    def test_each_part_missing_or_blank_is_named_with_the_message(self):
        with self.assertRaises(ValidationFailedError) as raised:
            check_schedule_whole({"rrule": "", "start": now(), "capacity": None}, message="Needed.")

        self.assertEqual(
            raised.exception.errors,
            {"rrule": ["Needed."], "duration_minutes": ["Needed."], "capacity": ["Needed."]},
        )


class WaitingClientsTests(TestCase):
    def test_the_clients_waiting_on_the_slots_once_each_in_id_order(self):
        slot = TimeSlotFactory(capacity=1)
        other = TimeSlotFactory(
            session__instructor=InstructorFactory(), start=slot.start, end=slot.end, capacity=1
        )
        for booked in (slot, other):
            booking_services.booking_create(client=ClientFactory(), time_slot_id=booked.pk, by=None)
        first, second = ClientFactory(), ClientFactory()
        for client, waited in ((second, slot), (first, slot), (first, other)):
            booking_services.booking_create(
                client=client, time_slot_id=waited.pk, waitlist=True, by=None
            )
        expected = sorted([first.pk, second.pk])

        self.assertEqual(services.waiting_clients([slot.pk, other.pk]), expected)
        self.assertEqual(services.waiting_clients(TimeSlot.objects.all()), expected)
        self.assertEqual(services.waiting_clients([other.pk]), [first.pk])
