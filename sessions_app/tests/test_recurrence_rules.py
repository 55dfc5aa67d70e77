"""Reading a session's RRULE (API.md section 9): what `rule_read` takes,
what it refuses, and where the rule's first and last occurrences fall."""

from datetime import UTC, datetime, timedelta
from itertools import islice

from django.test import SimpleTestCase

from core.errors import ValidationFailedError
from sessions_app.recurrence import occurrences, rule_read
from testing.timetable import IST

# Tuesday 5 January 2027, 07:00 on the studio's clocks (Asia/Kolkata, UTC+05:30).
TUESDAY = datetime(2027, 1, 5, 7, 0, tzinfo=IST)


def at_ist(year: int, month: int, day: int, hour: int = 7, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=IST)


def first(text: str, start: datetime = TUESDAY, count: int = 1) -> list[datetime]:
    """The first `count` occurrences of rule `text` from `start`."""
    return list(islice(occurrences(rule_read(text, start), start), count))


def every(text: str, start: datetime = TUESDAY) -> list[datetime]:
    return list(occurrences(rule_read(text, start), start))


class RulesTakenTests(SimpleTestCase):
    def test_a_daily_rule_repeats_every_day_at_the_start_time(self):
        self.assertEqual(
            first("FREQ=DAILY", count=3),
            [at_ist(2027, 1, 5), at_ist(2027, 1, 6), at_ist(2027, 1, 7)],
        )

    def test_a_weekly_rule_without_byday_repeats_on_the_start_weekday(self):
        self.assertEqual(
            first("FREQ=WEEKLY", count=3),
            [at_ist(2027, 1, 5), at_ist(2027, 1, 12), at_ist(2027, 1, 19)],
        )

    def test_weekly_byday_lists_several_days(self):
        self.assertEqual(
            first("FREQ=WEEKLY;BYDAY=TU,TH,SA", count=4),
            [at_ist(2027, 1, 5), at_ist(2027, 1, 7), at_ist(2027, 1, 9), at_ist(2027, 1, 12)],
        )

    def test_daily_byday_keeps_only_those_days(self):
        self.assertEqual(
            first("FREQ=DAILY;BYDAY=MO,FR", count=3),
            [at_ist(2027, 1, 8), at_ist(2027, 1, 11), at_ist(2027, 1, 15)],
        )

    def test_interval_skips_periods(self):
        self.assertEqual(
            first("FREQ=WEEKLY;INTERVAL=2", count=3),
            [at_ist(2027, 1, 5), at_ist(2027, 1, 19), at_ist(2027, 2, 2)],
        )
        self.assertEqual(
            first("FREQ=DAILY;INTERVAL=3", count=3),
            [at_ist(2027, 1, 5), at_ist(2027, 1, 8), at_ist(2027, 1, 11)],
        )

    def test_count_limits_the_occurrences(self):
        self.assertEqual(
            every("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=3"),
            [at_ist(2027, 1, 5), at_ist(2027, 1, 7), at_ist(2027, 1, 12)],
        )

    def test_until_as_a_date_takes_that_whole_day(self):
        self.assertEqual(
            every("FREQ=DAILY;UNTIL=20270107"),
            [at_ist(2027, 1, 5), at_ist(2027, 1, 6), at_ist(2027, 1, 7)],
        )

    def test_the_rrule_prefix_is_optional(self):
        expected = first("FREQ=WEEKLY;BYDAY=MO;COUNT=2", count=2)

        self.assertEqual(first("RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=2", count=2), expected)
        self.assertEqual(expected, [at_ist(2027, 1, 11), at_ist(2027, 1, 18)])

    def test_lowercase_names_and_values_are_taken(self):
        self.assertEqual(
            every("rrule:freq=weekly;byday=mo,we;count=3"),
            every("RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=3"),
        )
        self.assertEqual(
            every("freq=daily;interval=2;until=20270109"),
            [at_ist(2027, 1, 5), at_ist(2027, 1, 7), at_ist(2027, 1, 9)],
        )

    def test_surrounding_spaces_are_ignored(self):
        self.assertEqual(every("  FREQ=DAILY;COUNT=2 \n"), [at_ist(2027, 1, 5), at_ist(2027, 1, 6)])


class RulesRefusedTests(SimpleTestCase):
    def assert_refused(self, text: str) -> list[str]:
        with self.assertRaises(ValidationFailedError) as raised:
            rule_read(text, TUESDAY)
        self.assertEqual(raised.exception.code, "invalid")
        errors = raised.exception.errors
        self.assertEqual(set(errors), {"recurrence"}, errors)
        self.assertEqual(set(errors["recurrence"]), {"rrule"}, errors)
        messages = errors["recurrence"]["rrule"]
        self.assertTrue(messages)
        self.assertTrue(all(isinstance(m, str) and m for m in messages), messages)
        return messages

    def test_frequencies_other_than_daily_and_weekly_are_refused(self):
        for text in ["FREQ=MONTHLY", "FREQ=YEARLY", "FREQ=HOURLY", "FREQ=MINUTELY", "FREQ=NEVER"]:
            with self.subTest(text=text):
                self.assert_refused(text)

    def test_a_rule_without_freq_is_refused(self):
        self.assert_refused("BYDAY=MO;COUNT=3")

    def test_parts_other_than_byday_interval_count_until_are_refused(self):
        for text in [
            "FREQ=WEEKLY;BYMONTH=1",
            "FREQ=WEEKLY;BYDAY=MO,TU;BYSETPOS=1",
            "FREQ=DAILY;BYHOUR=7,19",
            "FREQ=DAILY;BYMINUTE=30",
            "FREQ=WEEKLY;WKST=SU",
            "FREQ=DAILY;BYMONTHDAY=1",
        ]:
            with self.subTest(text=text):
                messages = self.assert_refused(text)
                part = text.split(";")[-1].split("=")[0]
                self.assertIn(part, messages[0])

    def test_an_ordinal_byday_is_refused(self):
        for text in ["FREQ=WEEKLY;BYDAY=1MO", "FREQ=WEEKLY;BYDAY=-1FR", "FREQ=DAILY;BYDAY=MO,+2TU"]:
            with self.subTest(text=text):
                self.assert_refused(text)

    def test_an_unknown_day_is_refused(self):
        self.assert_refused("FREQ=WEEKLY;BYDAY=MONDAY")

    def test_count_and_until_together_are_refused(self):
        self.assert_refused("FREQ=DAILY;COUNT=3;UNTIL=20270131")

    def test_a_count_or_interval_that_is_not_a_positive_whole_number_is_refused(self):
        for text in [
            "FREQ=DAILY;COUNT=0",
            "FREQ=DAILY;COUNT=-1",
            "FREQ=DAILY;COUNT=two",
            "FREQ=DAILY;COUNT=1.5",
            "FREQ=DAILY;INTERVAL=0",
            "FREQ=DAILY;INTERVAL=10001",
        ]:
            with self.subTest(text=text):
                self.assert_refused(text)

    def test_an_until_that_is_not_a_date_or_time_is_refused(self):
        for text in [
            "FREQ=DAILY;UNTIL=tomorrow",
            "FREQ=DAILY;UNTIL=2027-01-31",
            "FREQ=DAILY;UNTIL=20271331",
            "FREQ=DAILY;UNTIL=20270131T0700",
        ]:
            with self.subTest(text=text):
                self.assert_refused(text)

    def test_junk_text_is_refused(self):
        for text in ["", " ", "junk", "RRULE:", "FREQ", "FREQ=", "=DAILY", ";FREQ=DAILY"]:
            with self.subTest(text=text):
                self.assert_refused(text)

    def test_a_trailing_or_doubled_separator_and_spaced_days_are_read(self):
        expected = every("FREQ=WEEKLY;BYDAY=MO,WE;COUNT=3")
        self.assertEqual(expected, [at_ist(2027, 1, 6), at_ist(2027, 1, 11), at_ist(2027, 1, 13)])
        for text in ["FREQ=WEEKLY;BYDAY=MO,WE;COUNT=3;", "FREQ=WEEKLY;;BYDAY=MO, WE;COUNT=3"]:
            with self.subTest(text=text):
                self.assertEqual(every(text), expected)

    def test_a_part_given_twice_is_refused(self):
        for text in [
            "FREQ=DAILY;FREQ=WEEKLY",
            "FREQ=WEEKLY;BYDAY=MO;BYDAY=TU",
            "FREQ=DAILY;COUNT=2;count=3",
        ]:
            with self.subTest(text=text):
                self.assertIn("twice", self.assert_refused(text)[0])


class FirstOccurrenceTests(SimpleTestCase):
    """The first occurrence is the first time at or after `start` that the
    rule matches; `start` counts only when it matches."""

    def test_a_start_that_matches_is_the_first_occurrence(self):
        self.assertEqual(first("FREQ=WEEKLY;BYDAY=TU"), [TUESDAY])

    def test_a_start_on_another_weekday_moves_to_the_next_matching_day(self):
        # TUESDAY is a Tuesday: the first Monday after it is 11 January.
        self.assertEqual(first("FREQ=WEEKLY;BYDAY=MO"), [at_ist(2027, 1, 11)])
        self.assertEqual(first("FREQ=WEEKLY;BYDAY=MO,TH"), [at_ist(2027, 1, 7)])
        self.assertEqual(first("FREQ=DAILY;BYDAY=SU"), [at_ist(2027, 1, 10)])

    def test_the_start_time_of_day_is_kept_on_later_days(self):
        start = at_ist(2027, 1, 5, 18, 45)

        self.assertEqual(first("FREQ=WEEKLY;BYDAY=FR", start), [at_ist(2027, 1, 8, 18, 45)])

    def test_a_start_given_in_another_zone_is_read_on_the_studio_clock(self):
        # 19:00 UTC on Monday 4 January is 00:30 on Tuesday 5 January in the studio.
        start = datetime(2027, 1, 4, 19, 0, tzinfo=UTC)

        self.assertEqual(first("FREQ=WEEKLY;BYDAY=MO"), [at_ist(2027, 1, 11)])
        self.assertEqual(first("FREQ=WEEKLY;BYDAY=MO", start), [at_ist(2027, 1, 11, 0, 30)])
        self.assertEqual(first("FREQ=WEEKLY;BYDAY=TU", start), [at_ist(2027, 1, 5, 0, 30)])

    def test_a_rule_whose_count_is_one_has_only_its_first_occurrence(self):
        self.assertEqual(every("FREQ=WEEKLY;BYDAY=MO;COUNT=1"), [at_ist(2027, 1, 11)])


class UntilTests(SimpleTestCase):
    """UNTIL without Z is studio time; with Z it is that instant in UTC.
    Each rule starts Tuesday 5 January 2027 at 07:00 studio time (01:30 UTC)."""

    def last(self, until: str) -> datetime:
        return every(f"FREQ=DAILY;UNTIL={until}")[-1]

    def test_until_in_studio_time_at_the_occurrence_includes_it(self):
        self.assertEqual(self.last("20270108T070000"), at_ist(2027, 1, 8))

    def test_until_in_studio_time_just_before_the_occurrence_excludes_it(self):
        self.assertEqual(self.last("20270108T065959"), at_ist(2027, 1, 7))

    def test_until_in_utc_at_the_occurrence_includes_it(self):
        # 07:00 studio time is 01:30 UTC.
        self.assertEqual(self.last("20270108T013000Z"), at_ist(2027, 1, 8))

    def test_until_in_utc_just_before_the_occurrence_excludes_it(self):
        self.assertEqual(self.last("20270108T012959Z"), at_ist(2027, 1, 7))

    def test_until_in_utc_is_not_read_as_studio_time(self):
        # 07:00 read as UTC is 12:30 studio time: the 07:00 occurrence that day is in.
        self.assertEqual(self.last("20270108T070000Z"), at_ist(2027, 1, 8))
        # 03:00 read as studio time is before the 07:00 occurrence; as UTC it is 08:30.
        self.assertEqual(self.last("20270108T030000"), at_ist(2027, 1, 7))
        self.assertEqual(self.last("20270108T030000Z"), at_ist(2027, 1, 8))

    def test_until_before_the_start_leaves_no_occurrence(self):
        self.assertEqual(every("FREQ=DAILY;UNTIL=20270104"), [])

    def test_the_occurrences_are_a_day_apart_up_to_until(self):
        found = every("FREQ=DAILY;UNTIL=20270110T070000")

        self.assertEqual(len(found), 6)
        self.assertEqual(
            [b - a for a, b in zip(found, found[1:], strict=False)], [timedelta(days=1)] * 5
        )
