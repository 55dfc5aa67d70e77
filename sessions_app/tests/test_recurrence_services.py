"""The session services with a recurring schedule (API.md section 9):
generation up to the horizon when a schedule is given, replacing and
stopping a schedule, and the action log of each."""

from datetime import datetime, timedelta

from django.test import override_settings
from django.utils.timezone import now

from bookings.tests.factories import BookingFactory, add_slot, make_slot, move_to_past
from core.errors import ValidationFailedError
from core.models import ActionLogEntry
from sessions_app import schedules
from sessions_app.models import Session, TimeSlot
from sessions_app.schedules import MAX_GENERATED
from sessions_app.tests.schedule_cases import DAILY, RecurrenceServiceTestCase, actions, recurrence
from testing.timetable import IST, db_state, ist


def studio_minute(value: datetime) -> str:
    return f"{value.astimezone(IST):%Y-%m-%dT%H:%M}"


@override_settings(STUDIO_SCHEDULE_HORIZON_DAYS=10)
class CreateTests(RecurrenceServiceTestCase):
    def test_create_generates_the_occurrences_up_to_the_horizon(self):
        before = now()
        session = self.create()
        after = now()

        starts = self.starts(session)
        self.assertEqual(starts[0], ist(1, 7))
        self.assertTrue(all(start <= after + timedelta(days=10) for start in starts))
        self.assertGreater(starts[-1] + timedelta(days=1), before + timedelta(days=10))
        self.assertEqual(
            [b - a for a, b in zip(starts, starts[1:], strict=False)],
            [timedelta(days=1)] * (len(starts) - 1),
        )

    def test_generated_slots_are_marked_and_take_the_schedules_length_and_capacity(self):
        session = self.create(recurrence(duration_minutes=45, capacity=7))

        slots = list(session.time_slots.all())
        self.assertTrue(slots)
        self.assertEqual(
            {(s.generated, s.end - s.start, s.capacity, s.booked) for s in slots},
            {(True, timedelta(minutes=45), 7, 0)},
        )
        session.refresh_from_db()
        self.assertEqual(session.rrule, DAILY)
        self.assertEqual(session.rrule_start, ist(1, 7))
        self.assertEqual((session.rrule_minutes, session.rrule_capacity), (45, 7))
        self.assertGreaterEqual(session.generated_until, slots[-1].start)

    def test_slots_given_with_a_schedule_are_not_marked_generated(self):
        item = {"start": ist(2, 18), "end": ist(2, 19), "capacity": 5}

        session = self.create(time_slots=[item])

        own = session.time_slots.get(start=ist(2, 18))
        self.assertFalse(own.generated)
        self.assertTrue(session.time_slots.filter(generated=True).exists())

    def test_a_start_beyond_the_horizon_still_gets_its_first_occurrence(self):
        session = self.create(recurrence(start=ist(30, 7)))

        self.assertEqual(self.starts(session), [ist(30, 7)])
        self.assertEqual(schedules.schedules_extend(), 0)
        self.assertEqual(self.starts(session), [ist(30, 7)])

    def test_a_far_series_continues_once_the_horizon_reaches_it(self):
        session = self.create(recurrence(start=ist(30, 7)))

        made = schedules.schedules_extend(at=ist(23, 8))

        self.assertEqual(made, 3)
        self.assertEqual(self.starts(session), [ist(day, 7) for day in (30, 31, 32, 33)])

    @override_settings(STUDIO_SCHEDULE_HORIZON_DAYS=300)
    def test_a_session_gains_at_most_200_slots_in_one_go(self):
        session = self.create()

        self.assertEqual(session.time_slots.count(), MAX_GENERATED)
        session.refresh_from_db()
        self.assertEqual(session.generated_until, ist(MAX_GENERATED, 7))

        made = schedules.schedules_extend()

        starts = self.starts(session)
        self.assertGreater(made, 90)
        self.assertEqual(len(starts), MAX_GENERATED + made)
        self.assertEqual(starts, [ist(day, 7) for day in range(1, len(starts) + 1)])
        self.assertLessEqual(starts[-1], now() + timedelta(days=300))

    @override_settings(STUDIO_SCHEDULE_HORIZON_DAYS=1)
    def test_the_horizon_task_also_adds_at_most_200_slots_per_session_in_one_go(self):
        session = self.create()
        self.assertEqual(self.starts(session), [ist(1, 7)])

        with self.settings(STUDIO_SCHEDULE_HORIZON_DAYS=300):
            first = schedules.schedules_extend()
            second = schedules.schedules_extend()
            third = schedules.schedules_extend()

        self.assertEqual(first, MAX_GENERATED)
        self.assertGreater(second, 90)
        self.assertEqual(third, 0)
        starts = self.starts(session)
        self.assertEqual(len(starts), 1 + first + second)
        self.assertEqual(starts, [ist(day, 7) for day in range(1, len(starts) + 1)])

    def test_an_occurrence_overlapping_another_slot_of_the_instructor_is_refused(self):
        other = make_slot(instructor=self.instructor, start=ist(3, 7, 30), title="Evening Flow")
        before = db_state()

        with self.assertRaises(ValidationFailedError) as raised:
            self.create()

        messages = self.assert_invalid(raised, None)
        day = studio_minute(ist(3, 7))
        self.assertEqual(
            messages,
            [f"The occurrence at {day} overlaps your time slot {other.pk} of Evening Flow."],
        )
        self.assertEqual(db_state(), before)

    def test_every_overlapping_occurrence_is_named(self):
        make_slot(instructor=self.instructor, start=ist(2, 6, 30))
        make_slot(instructor=self.instructor, start=ist(4, 7, 59))

        with self.assertRaises(ValidationFailedError) as raised:
            self.create()

        messages = self.assert_invalid(raised, None)
        self.assertEqual(len(messages), 2)
        self.assertIn(f"at {studio_minute(ist(2, 7))} ", messages[0])
        self.assertIn(f"at {studio_minute(ist(4, 7))} ", messages[1])

    def test_another_instructors_slot_or_a_cancelled_one_does_not_block(self):
        make_slot(start=ist(2, 7))
        cancelled = make_slot(instructor=self.instructor, start=ist(3, 7))
        TimeSlot.objects.filter(pk=cancelled.pk).update(is_cancelled=True)

        session = self.create()

        self.assertIn(ist(2, 7), self.starts(session))
        self.assertIn(ist(3, 7), self.starts(session))

    def test_occurrences_longer_than_the_interval_are_refused(self):
        with self.assertRaises(ValidationFailedError) as raised:
            self.create(recurrence(duration_minutes=25 * 60))

        self.assertIn("overlaps the one before it", self.assert_invalid(raised, None)[0])
        self.assertFalse(Session.objects.exists())

    def test_a_start_in_the_past_is_refused(self):
        before = db_state()

        with self.assertRaises(ValidationFailedError) as raised:
            self.create(recurrence(start=now() - timedelta(minutes=1)))

        self.assert_invalid(raised, "start")
        self.assertEqual(db_state(), before)

    def test_a_rule_without_an_occurrence_from_its_start_is_refused(self):
        with self.assertRaises(ValidationFailedError) as raised:
            self.create(recurrence("FREQ=DAILY;UNTIL=20000101"))

        self.assert_invalid(raised, "rrule")
        self.assertFalse(Session.objects.exists())

    def test_create_logs_the_session_with_its_schedule_and_each_slot(self):
        session = self.create(recurrence("FREQ=DAILY;COUNT=3"))

        [entry] = actions(session, "session.created")
        self.assertEqual(entry.actor, self.instructor)
        self.assertEqual(entry.data["recurrence"]["rrule"], "FREQ=DAILY;COUNT=3")
        self.assertEqual(entry.data["recurrence"]["duration_minutes"], 60)
        slot_ids = sorted(session.time_slots.values_list("pk", flat=True))
        self.assertEqual(sorted(entry.data["time_slots"]), slot_ids)
        logged = ActionLogEntry.objects.filter(action="time_slot.created", object_id__in=slot_ids)
        self.assertEqual(logged.count(), 3)


@override_settings(STUDIO_SCHEDULE_HORIZON_DAYS=7)
class ReplaceTests(RecurrenceServiceTestCase):
    def setUp(self):
        super().setUp()
        self.session = self.create()
        self.slots = {slot.start: slot for slot in self.session.time_slots.all()}

    def slot(self, day: int) -> TimeSlot:
        return self.slots[ist(day, 7)]

    def test_a_new_rule_replaces_the_upcoming_generated_slots_without_bookings(self):
        old_ids = {slot.pk for slot in self.slots.values()}

        self.update(self.session, recurrence=recurrence(start=ist(1, 18)))

        slots = list(self.session.time_slots.order_by("start"))
        self.assertFalse(old_ids & {slot.pk for slot in slots})
        self.assertEqual([slot.start for slot in slots][:3], [ist(1, 18), ist(2, 18), ist(3, 18)])
        self.assertTrue(all(slot.generated for slot in slots))
        self.session.refresh_from_db()
        self.assertEqual(self.session.rrule_start, ist(1, 18))

    def test_slots_with_bookings_of_any_status_stay_and_block_new_occurrences(self):
        confirmed = BookingFactory(time_slot=self.slot(2))
        cancelled = BookingFactory(time_slot=self.slot(3), cancelled=True)
        self.assertEqual(cancelled.status, "cancelled")
        free = self.slot(4)

        self.update(self.session, recurrence=recurrence(start=ist(1, 7, 30)))

        starts = self.starts(self.session)
        self.assertIn(ist(2, 7), starts)
        self.assertIn(ist(3, 7), starts)
        self.assertFalse(TimeSlot.objects.filter(pk=free.pk).exists())
        # New occurrences overlapping a kept slot are skipped; the others come.
        self.assertNotIn(ist(2, 7, 30), starts)
        self.assertNotIn(ist(3, 7, 30), starts)
        self.assertIn(ist(1, 7, 30), starts)
        self.assertIn(ist(4, 7, 30), starts)
        self.assertEqual(
            set(TimeSlot.objects.filter(bookings__isnull=False).values_list("pk", flat=True)),
            {confirmed.time_slot_id, cancelled.time_slot_id},
        )

    def test_a_new_rule_keeps_past_and_hand_made_slots(self):
        past = move_to_past(self.slot(1))
        own = add_slot(self.session, start=ist(2, 20))

        self.update(self.session, recurrence=recurrence(start=ist(1, 9)))

        self.assertTrue(TimeSlot.objects.filter(pk=past.pk, generated=True).exists())
        self.assertTrue(TimeSlot.objects.filter(pk=own.pk, start=ist(2, 20)).exists())
        self.assertIn(ist(2, 9), self.starts(self.session))

    def test_a_new_rule_overlapping_another_session_is_refused_and_nothing_changes(self):
        make_slot(instructor=self.instructor, start=ist(2, 9, 30), title="Pilates")
        before = db_state()

        with self.assertRaises(ValidationFailedError) as raised:
            self.update(self.session, recurrence=recurrence(start=ist(1, 9)))

        [message] = self.assert_invalid(raised, None)
        self.assertIn(f"at {studio_minute(ist(2, 9))} overlaps", message)
        self.assertIn("of Pilates.", message)
        self.assertEqual(db_state(), before)
        self.session.refresh_from_db()
        self.assertEqual(self.session.rrule_start, ist(1, 7))

    def test_a_new_start_in_the_past_is_refused(self):
        before = db_state()

        with self.assertRaises(ValidationFailedError) as raised:
            self.update(self.session, recurrence=recurrence(start=now() - timedelta(hours=1)))

        self.assert_invalid(raised, "start")
        self.assertEqual(db_state(), before)

    def test_a_bad_rule_is_refused_and_nothing_changes(self):
        before = db_state()

        with self.assertRaises(ValidationFailedError) as raised:
            self.update(self.session, recurrence=recurrence("FREQ=MONTHLY"))

        self.assert_invalid(raised, "rrule")
        self.assertEqual(db_state(), before)

    def test_the_change_is_logged_on_the_session_and_each_slot(self):
        kept = self.slot(2)
        BookingFactory(time_slot=kept)
        replaced = sorted(pk for pk in (s.pk for s in self.slots.values()) if pk != kept.pk)

        self.update(self.session, recurrence=recurrence("FREQ=DAILY;COUNT=3", start=ist(1, 18)))

        [entry] = actions(self.session, "session.updated")
        change = entry.data["recurrence"]
        self.assertEqual(change["old"]["rrule"], DAILY)
        self.assertEqual(change["new"]["rrule"], "FREQ=DAILY;COUNT=3")
        self.assertEqual(datetime.fromisoformat(change["old"]["start"]), ist(1, 7))
        self.assertEqual(datetime.fromisoformat(change["new"]["start"]), ist(1, 18))
        self.assertEqual(sorted(change["replaced"]), replaced)
        created = sorted(self.session.time_slots.exclude(pk=kept.pk).values_list("pk", flat=True))
        self.assertEqual(sorted(change["created"]), created)
        self.assertEqual(
            ActionLogEntry.objects.filter(
                action="time_slot.deleted", object_id__in=replaced
            ).count(),
            len(replaced),
        )
        self.assertEqual(
            ActionLogEntry.objects.filter(
                action="time_slot.created", object_id__in=created
            ).count(),
            3,
        )

    def test_null_stops_the_series_and_keeps_its_slots(self):
        before = self.starts(self.session)

        self.update(self.session, recurrence=None)

        self.session.refresh_from_db()
        self.assertEqual(self.session.rrule, "")
        self.assertIsNone(self.session.rrule_start)
        self.assertEqual(self.starts(self.session), before)
        self.assertEqual(schedules.schedules_extend(at=now() + timedelta(days=30)), 0)
        self.assertEqual(self.starts(self.session), before)
        [entry] = actions(self.session, "session.updated")
        self.assertEqual(entry.data["recurrence"]["old"]["rrule"], DAILY)
        self.assertIsNone(entry.data["recurrence"]["new"])

    def test_null_on_a_session_without_a_schedule_logs_nothing(self):
        self.update(self.session, recurrence=None)
        entries = ActionLogEntry.objects.count()

        self.update(self.session, recurrence=None)

        self.assertEqual(ActionLogEntry.objects.count(), entries)

    def test_a_title_change_leaves_the_schedule_and_its_slots(self):
        before = self.starts(self.session)

        self.update(self.session, title="Sunrise Yoga")

        self.session.refresh_from_db()
        self.assertEqual((self.session.title, self.session.rrule), ("Sunrise Yoga", DAILY))
        self.assertEqual(self.starts(self.session), before)
        [entry] = actions(self.session, "session.updated")
        self.assertNotIn("recurrence", entry.data)

    def test_a_replaced_schedule_extends_from_its_new_rule(self):
        self.update(self.session, recurrence=recurrence(start=ist(1, 18)))

        schedules.schedules_extend(at=now() + timedelta(days=7))

        starts = self.starts(self.session)
        self.assertEqual(starts, [ist(day, 18) for day in range(1, len(starts) + 1)])
        self.assertGreater(len(starts), 10)
