"""Extending recurring schedules up to the moving horizon (schedules_extend):
once per occurrence, skipping overlaps, in batches, as a task and a command."""

from datetime import datetime, timedelta
from io import StringIO

from django.core.management import call_command
from django.test import override_settings
from django.utils.timezone import now

from bookings.tests.factories import make_slot
from core import timezones
from core.models import ActionLogEntry
from sessions_app import schedules, services, tasks
from sessions_app.models import Session, TimeSlot
from sessions_app.tests.schedule_cases import RecurrenceServiceTestCase, actions, recurrence
from testing.timetable import IST, ist


@override_settings(STUDIO_SCHEDULE_HORIZON_DAYS=5)
class ExtendTests(RecurrenceServiceTestCase):
    def test_extending_twice_adds_nothing_the_second_time(self):
        session = self.create()
        first = len(self.starts(session))
        at = now() + timedelta(days=2)

        made = schedules.schedules_extend(at=at)
        again = schedules.schedules_extend(at=at)

        self.assertEqual(made, 2)
        self.assertEqual(again, 0)
        starts = self.starts(session)
        self.assertEqual(len(starts), first + 2)
        self.assertEqual(starts, [ist(day, 7) for day in range(1, len(starts) + 1)])

    def test_extending_skips_an_occurrence_overlapping_another_slot(self):
        session = self.create()
        other = make_slot(instructor=self.instructor, start=ist(9, 7, 15))

        schedules.schedules_extend(at=now() + timedelta(days=7))

        starts = self.starts(session)
        self.assertNotIn(ist(9, 7), starts)
        self.assertIn(ist(8, 7), starts)
        self.assertIn(ist(10, 7), starts)
        [entry] = actions(session, "session.occurrences_skipped")
        self.assertEqual(entry.data["reason"], "overlap")
        self.assertEqual(len(entry.data["starts"]), 1)
        self.assertEqual(datetime.fromisoformat(entry.data["starts"][0]), ist(9, 7))
        self.assertTrue(TimeSlot.objects.filter(pk=other.pk).exists())

    def test_a_skipped_occurrence_is_not_tried_again(self):
        session = self.create()
        other = make_slot(instructor=self.instructor, start=ist(9, 7, 15))
        schedules.schedules_extend(at=now() + timedelta(days=7))
        TimeSlot.objects.filter(pk=other.pk).delete()

        self.assertEqual(schedules.schedules_extend(at=now() + timedelta(days=7)), 0)
        self.assertNotIn(ist(9, 7), self.starts(session))

    def test_count_limits_the_slots_across_extensions(self):
        session = self.create(recurrence("FREQ=DAILY;COUNT=8"))
        self.assertLess(session.time_slots.count(), 8)

        schedules.schedules_extend(at=now() + timedelta(days=4))
        schedules.schedules_extend(at=now() + timedelta(days=30))
        made = schedules.schedules_extend(at=now() + timedelta(days=60))

        self.assertEqual(made, 0)
        self.assertEqual(self.starts(session), [ist(day, 7) for day in range(1, 9)])

    def test_a_finished_series_is_not_read_again(self):
        session = self.create(recurrence("FREQ=DAILY;COUNT=3"))
        session.refresh_from_db()
        self.assertEqual(len(self.starts(session)), 3)
        self.assertEqual(session.generated_until, timezones.LATEST)

        # One query: the sessions whose rule is still to be read; none is.
        with self.assertNumQueries(1):
            made = schedules.schedules_extend(at=now() + timedelta(days=300))

        self.assertEqual(made, 0)

    def test_until_ends_the_series_across_extensions(self):
        until = f"{ist(12, 7).astimezone(IST):%Y%m%dT%H%M%S}"
        session = self.create(recurrence(f"FREQ=DAILY;UNTIL={until}"))

        with self.settings(STUDIO_SCHEDULE_HORIZON_DAYS=30):
            schedules.schedules_extend()
            self.assertEqual(schedules.schedules_extend(at=now() + timedelta(days=1)), 0)

        self.assertEqual(self.starts(session), [ist(day, 7) for day in range(1, 13)])

    def test_occurrences_before_the_moment_of_the_extension_are_not_made(self):
        session = self.create()
        generated = len(self.starts(session))

        made = schedules.schedules_extend(at=now() + timedelta(days=7))

        # Up to the horizon from the moment given, but none before that moment.
        starts = self.starts(session)
        self.assertEqual(made, 5)
        self.assertEqual(len(starts), generated + 5)
        self.assertTrue(all(start > now() + timedelta(days=7) for start in starts[generated:]))

    def test_extending_adds_no_slot_before_its_moment(self):
        session = self.create()
        TimeSlot.objects.filter(session=session).delete()
        Session.objects.filter(pk=session.pk).update(generated_until=None)

        schedules.schedules_extend(at=ist(3, 12))

        self.assertEqual(self.starts(session)[0], ist(4, 7))

    def test_a_generated_slot_deleted_by_hand_is_not_made_again(self):
        session = self.create()
        slot = session.time_slots.get(start=ist(2, 7))
        services.time_slot_delete(time_slot=slot, by=self.instructor)

        schedules.schedules_extend(at=now() + timedelta(hours=1))
        # Midday on the studio's clocks, whatever the time of day now.
        schedules.schedules_extend(at=ist(3, 12))

        starts = self.starts(session)
        self.assertNotIn(ist(2, 7), starts)
        self.assertIn(ist(3, 7), starts)
        self.assertIn(ist(8, 7), starts)

    def test_the_management_command_extends_the_schedules(self):
        session = self.create()
        generated = session.time_slots.count()
        out = StringIO()

        with self.settings(STUDIO_SCHEDULE_HORIZON_DAYS=8):
            call_command("extend_schedules", stdout=out)
            made = session.time_slots.count() - generated
            call_command("extend_schedules", stdout=out)

        self.assertEqual(made, 3)
        self.assertEqual(session.time_slots.count(), generated + 3)
        self.assertEqual(
            out.getvalue().splitlines(), ["3 time slot(s) generated.", "0 time slot(s) generated."]
        )

    def test_the_daily_task_extends_the_schedules(self):
        session = self.create()
        generated = session.time_slots.count()

        with self.settings(STUDIO_SCHEDULE_HORIZON_DAYS=8):
            made = tasks.extend_schedules.delay().get()

        self.assertEqual(made, 3)
        self.assertEqual(session.time_slots.count(), generated + 3)

    def test_the_extension_is_logged_per_slot(self):
        session = self.create()
        known = set(session.time_slots.values_list("pk", flat=True))

        schedules.schedules_extend(at=now() + timedelta(days=3))

        new = set(session.time_slots.values_list("pk", flat=True)) - known
        self.assertEqual(len(new), 3)
        logged = ActionLogEntry.objects.filter(action="time_slot.created", object_id__in=new)
        self.assertEqual({entry.data["session"] for entry in logged}, {session.pk})
        self.assertEqual(logged.count(), 3)
