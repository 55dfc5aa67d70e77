"""Recurring schedules keep the studio's wall-clock time across
daylight-saving changes (API.md section 9).

The clock of the session services is pinned, so the 2027 dates below stay
in the future: in America/New_York the clocks go forward on Sunday 14 March
2027 (02:00 EST becomes 03:00 EDT) and back on Sunday 7 November 2027 (02:00
EDT becomes 01:00 EST).
"""

from contextlib import ExitStack
from datetime import UTC, datetime, timedelta, timezone
from unittest import mock

from django.test import TestCase, override_settings

from accounts.tests.factories import InstructorFactory
from sessions_app import schedules, services
from sessions_app.models import Session
from sessions_app.serializers import SessionCreateSerializer
from testing.timetable import IST, NEW_YORK

EST = timedelta(hours=-5)
EDT = timedelta(hours=-4)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def pinned(moment: datetime):
    """The timetable's rules and schedules read `moment` as now."""
    stack = ExitStack()
    for module in ("sessions_app.rules", "sessions_app.schedules"):
        stack.enter_context(mock.patch(f"{module}.now", return_value=moment))
    return stack


class RecurringScheduleTestCase(TestCase):
    def setUp(self):
        self.instructor = InstructorFactory()

    def create(self, rrule: str, start: datetime, *, today: datetime, minutes: int = 60) -> Session:
        with pinned(today):
            return services.session_create(
                instructor=self.instructor,
                title="Morning Yoga",
                category="yoga",
                recurrence={
                    "rrule": rrule,
                    "start": start,
                    "duration_minutes": minutes,
                    "capacity": 12,
                },
                by=None,
            )

    def starts(self, session: Session) -> list[datetime]:
        return list(session.time_slots.order_by("start").values_list("start", flat=True))

    def on(self, zone, starts: list[datetime]) -> list[tuple[str, str, timedelta]]:
        """Each start as the date, time and UTC offset on the clocks of `zone`."""
        shown = [start.astimezone(zone) for start in starts]
        return [(f"{s:%Y-%m-%d}", f"{s:%H:%M}", s.utcoffset()) for s in shown]


@override_settings(TIME_ZONE="America/New_York", STUDIO_SCHEDULE_HORIZON_DAYS=366)
class NewYorkTests(RecurringScheduleTestCase):
    def test_a_weekly_class_stays_at_seven_across_the_spring_change(self):
        session = self.create(
            "FREQ=WEEKLY;BYDAY=SU;COUNT=3",
            datetime(2027, 3, 7, 7, 0, tzinfo=NEW_YORK),
            today=utc(2027, 3, 1, 12),
        )

        starts = self.starts(session)
        self.assertEqual(
            self.on(NEW_YORK, starts),
            [
                ("2027-03-07", "07:00", EST),
                ("2027-03-14", "07:00", EDT),
                ("2027-03-21", "07:00", EDT),
            ],
        )
        self.assertEqual(starts, [utc(2027, 3, 7, 12), utc(2027, 3, 14, 11), utc(2027, 3, 21, 11)])

    def test_a_weekly_class_stays_at_seven_across_the_autumn_change(self):
        session = self.create(
            "FREQ=WEEKLY;BYDAY=SU;COUNT=3",
            datetime(2027, 10, 31, 7, 0, tzinfo=NEW_YORK),
            today=utc(2027, 10, 1, 12),
        )

        starts = self.starts(session)
        self.assertEqual(
            self.on(NEW_YORK, starts),
            [
                ("2027-10-31", "07:00", EDT),
                ("2027-11-07", "07:00", EST),
                ("2027-11-14", "07:00", EST),
            ],
        )
        self.assertEqual(
            starts, [utc(2027, 10, 31, 11), utc(2027, 11, 7, 12), utc(2027, 11, 14, 12)]
        )

    def test_a_weekly_class_through_the_year_is_always_at_seven_local(self):
        session = self.create(
            "FREQ=WEEKLY;BYDAY=MO,WE",
            datetime(2027, 1, 4, 7, 0, tzinfo=NEW_YORK),
            today=utc(2027, 1, 1, 12),
        )

        shown = self.on(NEW_YORK, self.starts(session))
        self.assertGreater(len(shown), 100)
        self.assertEqual({time for _day, time, _offset in shown}, {"07:00"})
        offsets = {day: offset for day, _time, offset in shown}
        self.assertEqual(offsets["2027-03-10"], EST)
        self.assertEqual(offsets["2027-03-15"], EDT)
        self.assertEqual(offsets["2027-11-03"], EDT)
        self.assertEqual(offsets["2027-11-08"], EST)
        self.assertEqual(set(offsets.values()), {EST, EDT})

    def test_each_slot_lasts_its_minutes_across_a_change(self):
        session = self.create(
            "FREQ=DAILY;COUNT=3",
            datetime(2027, 3, 13, 1, 0, tzinfo=NEW_YORK),
            today=utc(2027, 3, 1, 12),
            minutes=90,
        )

        slots = list(session.time_slots.order_by("start"))
        self.assertEqual([slot.end - slot.start for slot in slots], [timedelta(minutes=90)] * 3)
        # 01:00 EST + 90 minutes on the change day ends at 03:30 EDT.
        self.assertEqual(f"{slots[1].end.astimezone(NEW_YORK):%H:%M}", "03:30")

    def test_a_time_in_the_spring_gap_moves_forward_by_the_gap(self):
        session = self.create(
            "FREQ=DAILY;COUNT=3",
            datetime(2027, 3, 13, 2, 30, tzinfo=NEW_YORK),
            today=utc(2027, 3, 1, 12),
        )

        starts = self.starts(session)
        self.assertEqual(
            self.on(NEW_YORK, starts),
            [
                ("2027-03-13", "02:30", EST),
                ("2027-03-14", "03:30", EDT),
                ("2027-03-15", "02:30", EDT),
            ],
        )
        self.assertEqual(
            starts, [utc(2027, 3, 13, 7, 30), utc(2027, 3, 14, 7, 30), utc(2027, 3, 15, 6, 30)]
        )

    def test_a_time_that_happens_twice_in_autumn_is_the_first_of_the_two(self):
        session = self.create(
            "FREQ=DAILY;COUNT=3",
            datetime(2027, 11, 6, 1, 30, tzinfo=NEW_YORK),
            today=utc(2027, 10, 1, 12),
        )

        starts = self.starts(session)
        self.assertEqual(
            self.on(NEW_YORK, starts),
            [
                ("2027-11-06", "01:30", EDT),
                ("2027-11-07", "01:30", EDT),
                ("2027-11-08", "01:30", EST),
            ],
        )
        # The first 01:30 of 7 November is an hour before the second.
        self.assertEqual(starts[1], utc(2027, 11, 7, 5, 30))

    def test_the_horizon_task_keeps_wall_clock_time_across_the_change(self):
        with self.settings(STUDIO_SCHEDULE_HORIZON_DAYS=14):
            session = self.create(
                "FREQ=WEEKLY;BYDAY=SU",
                datetime(2027, 2, 28, 7, 0, tzinfo=NEW_YORK),
                today=utc(2027, 2, 22, 12),
            )
            self.assertEqual(len(self.starts(session)), 2)

            made = schedules.schedules_extend(at=utc(2027, 3, 10, 12))

        self.assertEqual(made, 2)
        shown = self.on(NEW_YORK, self.starts(session))
        self.assertEqual(
            shown,
            [
                ("2027-02-28", "07:00", EST),
                ("2027-03-07", "07:00", EST),
                ("2027-03-14", "07:00", EDT),
                ("2027-03-21", "07:00", EDT),
            ],
        )

    def test_the_schedule_start_is_stored_as_the_instant_given(self):
        start = datetime(2027, 3, 14, 7, 0, tzinfo=NEW_YORK)
        session = self.create("FREQ=WEEKLY", start, today=utc(2027, 3, 1, 12))

        session.refresh_from_db()
        self.assertEqual(session.rrule_start, start)
        self.assertEqual(session.rrule_start.astimezone(NEW_YORK).utcoffset(), EDT)

    def test_a_start_at_the_second_of_two_equal_times_is_not_preceded_by_the_first(self):
        # 01:30 EST on 7 November 2027, the second 01:30 of that night.
        second = datetime(2027, 11, 7, 1, 30, tzinfo=timezone(EST))

        session = self.create("FREQ=DAILY;COUNT=2", second, today=utc(2027, 11, 1, 12))

        starts = self.starts(session)
        self.assertEqual(starts[0], second)
        self.assertGreaterEqual(min(starts), second)
        self.assertEqual(self.on(NEW_YORK, starts)[1], ("2027-11-08", "01:30", EST))


@override_settings(STUDIO_SCHEDULE_HORIZON_DAYS=366)
class KolkataTests(RecurringScheduleTestCase):
    """The default studio zone, Asia/Kolkata, has no daylight saving."""

    def test_times_stay_put_across_the_dates_new_york_changes(self):
        for day in (datetime(2027, 3, 13), datetime(2027, 11, 6)):
            with self.subTest(day=day.date()):
                session = self.create(
                    "FREQ=DAILY;COUNT=3",
                    day.replace(hour=2, minute=30, tzinfo=IST),
                    today=utc(2027, 1, 1, 12),
                )

                starts = self.starts(session)
                self.assertEqual(
                    {(time, offset) for _day, time, offset in self.on(IST, starts)},
                    {("02:30", timedelta(hours=5, minutes=30))},
                )
                self.assertEqual(
                    [b - a for a, b in zip(starts, starts[1:], strict=False)],
                    [timedelta(days=1)] * 2,
                )

    def test_a_start_with_an_offset_becomes_the_studio_time_of_that_instant(self):
        # 07:00 at UTC-5 is 12:00 UTC, 17:30 in the studio.
        start = datetime(2027, 1, 4, 7, 0, tzinfo=timezone(EST))

        session = self.create("FREQ=WEEKLY;BYDAY=MO,WE;COUNT=3", start, today=utc(2027, 1, 1, 12))

        self.assertEqual(
            self.on(IST, self.starts(session)),
            [
                ("2027-01-04", "17:30", timedelta(hours=5, minutes=30)),
                ("2027-01-06", "17:30", timedelta(hours=5, minutes=30)),
                ("2027-01-11", "17:30", timedelta(hours=5, minutes=30)),
            ],
        )

    def test_a_start_with_an_offset_is_read_on_the_studio_calendar_for_byday(self):
        # 22:00 on Sunday at UTC-5 is 08:30 on Monday in the studio: Monday matches.
        start = datetime(2027, 1, 3, 22, 0, tzinfo=timezone(EST))

        session = self.create("FREQ=WEEKLY;BYDAY=MO;COUNT=2", start, today=utc(2027, 1, 1, 12))

        self.assertEqual(
            self.on(IST, self.starts(session)),
            [
                ("2027-01-04", "08:30", timedelta(hours=5, minutes=30)),
                ("2027-01-11", "08:30", timedelta(hours=5, minutes=30)),
            ],
        )

    def test_a_start_sent_with_an_offset_is_read_as_that_instant(self):
        serializer = SessionCreateSerializer(
            data={
                "title": "Morning Yoga",
                "category": "yoga",
                "recurrence": {
                    "rrule": "FREQ=WEEKLY;BYDAY=MO",
                    "start": "2027-01-04T07:00:00-05:00",
                    "duration_minutes": 60,
                    "capacity": 12,
                },
            }
        )
        self.assertTrue(serializer.is_valid(), serializer.errors)
        recurrence = serializer.validated_data["recurrence"]

        session = self.create(recurrence["rrule"], recurrence["start"], today=utc(2027, 1, 1, 12))

        self.assertEqual(session.rrule_start, utc(2027, 1, 4, 12))
        first = self.starts(session)[0]
        self.assertEqual(
            self.on(IST, [first]), [("2027-01-04", "17:30", timedelta(hours=5, minutes=30))]
        )
