"""Properties of the time-zone module, checked on generated instants, zones and
wall-clock times.

- Any instant rendered in any IANA zone reads back as the same instant, and
  carries the offset that zone has at that instant.
- Any datetime at all is either refused (400) or an instant that every zone
  can show; the ends of the calendar never reach a conversion that overflows.
- In a studio zone with daylight saving, a naive time in a spring gap or an
  autumn fold is refused, by the module and through the API, with a message
  asking for an explicit offset; any other naive time is that wall-clock time.

Gaps and folds are found from each drawn zone's own transitions, so every
year and every kind of change (one hour, thirty minutes, at midnight) is
covered, not a few remembered dates. The expected reading of a naive time
comes from counting the instants that show it on the zone's clocks, without
the `fold` attribute the module itself relies on.
"""

from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from django.test import RequestFactory, SimpleTestCase, override_settings
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase
from rest_framework import serializers, status
from rest_framework.test import APIClient, APITestCase

from accounts.tests.factories import InstructorFactory
from core import timezones
from core.serializers import ZonedDateTimeField
from sessions_app.models import Session, TimeSlot

# Derandomized, so CI runs the same examples every time; no example database.
PROPERTY = settings(max_examples=150, deadline=None, derandomize=True, database=None)
API_PROPERTY = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

ALL_ZONES = sorted(available_timezones())
# Studio zones with daylight saving: northern and southern summers, a change
# of thirty minutes (Lord Howe), half- and three-quarter-hour offsets
# (St John's, Chatham), and changes at midnight (Santiago).
DST_ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Pacific/Chatham",
    "America/Santiago",
    "Europe/Berlin",
    "Australia/Sydney",
]

# Wide enough for old local mean times and far-future rules, and far enough
# from datetime's limits that every zone can show every instant.
instants = st.datetimes(
    min_value=datetime(1850, 1, 1), max_value=datetime(2300, 1, 1), timezones=st.just(UTC)
)
wall_times = st.datetimes(min_value=datetime(1850, 1, 1), max_value=datetime(2300, 1, 1))


def offset_at(instant: datetime, zone: ZoneInfo) -> timedelta:
    return instant.astimezone(zone).utcoffset()


@cache
def transitions(zone_name: str, year: int) -> tuple[tuple[datetime, timedelta, timedelta], ...]:
    """The changes of `zone_name`'s UTC offset during `year`, each as
    (first instant of the new offset, offset before, offset after)."""
    zone = ZoneInfo(zone_name)
    found = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    while day.year == year:
        low, high = day, day + timedelta(days=1)
        before, after = offset_at(low, zone), offset_at(high, zone)
        if before != after:
            # Offsets change on whole seconds: bisect down to one.
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if offset_at(middle, zone) == before:
                    low = middle
                else:
                    high = middle
            found.append((high, before, after))
        day += timedelta(days=1)
    return tuple(found)


def instants_showing(wall: datetime, zone: ZoneInfo) -> set[datetime]:
    """Every instant at which the clocks of `zone` show the naive `wall`.

    Tries each offset the zone has within a day and a bit of that time (every
    real offset is under 26 hours), so it needs no `fold` attribute.
    """
    as_utc = wall.replace(tzinfo=UTC)
    offsets = {offset_at(as_utc + timedelta(hours=hours), zone) for hours in range(-30, 31)}
    candidates = {as_utc - offset for offset in offsets}
    return {
        instant for instant in candidates if instant.astimezone(zone).replace(tzinfo=None) == wall
    }


@st.composite
def changes(draw, zones=DST_ZONES, first_year=1970, last_year=2150):
    """(zone name, a naive time in a gap or fold of it, "gap" or "fold",
    the offsets before and after that change)."""
    zone_name = draw(st.sampled_from(zones))
    year = draw(st.integers(first_year, last_year))
    found = transitions(zone_name, year)
    if not found:
        # Some zones drop daylight saving in some years; any year of theirs
        # that has a change will do.
        year = draw(
            st.sampled_from([y for y in range(year, year + 30) if transitions(zone_name, y)])
        )
        found = transitions(zone_name, year)
    at, before, after = draw(st.sampled_from(found))
    width = abs(after - before)
    into = draw(st.integers(0, int(width.total_seconds() * 1_000_000) - 1))
    # A gap: wall clocks jump from at+before to at+after. A fold: they run
    # from at+after to at+before twice.
    start = (at + min(before, after)).replace(tzinfo=None)
    wall = start + timedelta(microseconds=into)
    kind = "gap" if after > before else "fold"
    return zone_name, wall, kind, before, after


def naive_iso(value: datetime) -> str:
    return value.replace(tzinfo=None).isoformat()


def offset_text(offset: timedelta) -> str:
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{seconds:02d}" if seconds else "")


class SlotStart(serializers.Serializer):
    start = ZonedDateTimeField()


def read_field(text: str):
    """`text` read by the API's datetime field: (value, errors)."""
    serializer = SlotStart(data={"start": text})
    if serializer.is_valid():
        return serializer.validated_data["start"], None
    return None, serializer.errors["start"]


def viewer_request(zone_name: str):
    request = RequestFactory().get("/api/x/", {"tz": zone_name})
    request.user = None
    return request


class RenderReadBackProperties(SimpleTestCase):
    @PROPERTY
    @given(instant=instants, zone_name=st.sampled_from(ALL_ZONES))
    def test_any_instant_rendered_in_any_zone_reads_back_as_that_instant(self, instant, zone_name):
        zone = ZoneInfo(zone_name)
        text = timezones.render(instant, zone)
        read, errors = read_field(text)
        self.assertIsNone(errors, text)
        self.assertEqual(read, instant, text)
        self.assertEqual(timezones.read_naive(datetime.fromisoformat(text)), instant)

    @PROPERTY
    @given(instant=instants, zone_name=st.sampled_from(ALL_ZONES))
    def test_rendered_offset_is_the_zones_offset_at_that_instant(self, instant, zone_name):
        zone = ZoneInfo(zone_name)
        text = timezones.render(instant, zone)
        shown = datetime.fromisoformat(text)
        self.assertEqual(shown.utcoffset(), zone.utcoffset(instant.astimezone(zone)), text)
        # The wall-clock part is what the zone's clocks show at that instant.
        self.assertIn(instant, instants_showing(shown.replace(tzinfo=None), zone), text)

    @PROPERTY
    @given(instant=instants, zone_name=st.sampled_from(ALL_ZONES))
    def test_the_field_renders_in_the_viewing_zone_and_reads_back(self, instant, zone_name):
        serializer = SlotStart({"start": instant}, context={"request": viewer_request(zone_name)})
        text = serializer.data["start"]
        self.assertEqual(text, timezones.render(instant, ZoneInfo(zone_name)))
        read, errors = read_field(text)
        self.assertIsNone(errors, text)
        self.assertEqual(read, instant, text)


class NaiveInputProperties(SimpleTestCase):
    @PROPERTY
    @given(change=changes())
    def test_naive_time_in_a_gap_or_fold_is_refused_asking_for_an_offset(self, change):
        zone_name, wall, kind, _before, _after = change
        zone = ZoneInfo(zone_name)
        # The generator's claim, checked by counting instants: none in a gap, two in a fold.
        self.assertEqual(len(instants_showing(wall, zone)), 0 if kind == "gap" else 2, change)
        expected = timezones.NonExistentTimeError if kind == "gap" else timezones.AmbiguousTimeError
        with override_settings(TIME_ZONE=zone_name):
            with self.assertRaises(expected):
                timezones.read_naive(wall)
            read, errors = read_field(naive_iso(wall))
        self.assertIsNone(read, change)
        self.assertIn("explicit offset", str(errors[0]))
        self.assertEqual(errors[0].code, "nonexistent" if kind == "gap" else "ambiguous")

    @PROPERTY
    @given(change=changes())
    def test_a_gap_or_fold_time_with_an_explicit_offset_is_that_instant(self, change):
        zone_name, wall, _kind, before, after = change
        with override_settings(TIME_ZONE=zone_name):
            for offset in (before, after):
                instant = wall.replace(tzinfo=UTC) - offset
                text = naive_iso(wall) + offset_text(offset)
                read, errors = read_field(text)
                self.assertIsNone(errors, text)
                self.assertEqual(read, instant, text)

    @PROPERTY
    @given(
        zone_name=st.sampled_from(DST_ZONES),
        wall=st.one_of(
            wall_times,
            # Beside a change, where a wrong offset would show.
            st.builds(
                lambda change, seconds: change[1] + timedelta(seconds=seconds),
                changes(),
                st.integers(-3 * 3600, 3 * 3600),
            ),
        ),
    )
    def test_any_other_naive_time_is_that_wall_clock_time_in_the_studio_zone(self, zone_name, wall):
        zone = ZoneInfo(zone_name)
        showing = instants_showing(wall, zone)
        with override_settings(TIME_ZONE=zone_name):
            read, errors = read_field(naive_iso(wall))
            if len(showing) != 1:
                self.assertIsNone(read)
                self.assertIn("explicit offset", str(errors[0]))
                return
            self.assertIsNone(errors, wall)
            self.assertEqual(read, showing.pop(), wall)
            self.assertEqual(read.astimezone(zone).replace(tzinfo=None), wall)
            self.assertEqual(timezones.read_naive(wall), read)


SESSIONS = "/api/sessions/"


class NaiveSlotTimesThroughTheApi(HypothesisTestCase):
    """POST /api/sessions/ with a naive slot start in a gap or fold of the
    studio zone: 400 `invalid` asking for an offset, and nothing is created."""

    client_class = APIClient

    @classmethod
    def setUpTestData(cls):
        cls.instructor = InstructorFactory()

    @API_PROPERTY
    @given(change=changes(first_year=2030, last_year=2080))
    def test_naive_slot_start_in_a_gap_or_fold_is_a_400_asking_for_an_offset(self, change):
        zone_name, wall, kind, _before, after = change
        self.client.force_authenticate(self.instructor)
        instant_after = wall.replace(tzinfo=UTC) - after
        end = (instant_after + timedelta(hours=2)).isoformat()
        body = {
            "title": "Sunrise Flow",
            "category": "yoga",
            "time_slots": [{"start": naive_iso(wall), "end": end, "capacity": 8}],
        }
        with override_settings(TIME_ZONE=zone_name):
            response = self.client.post(SESSIONS, body, format="json")
            self.assertEqual(response.status_code, status.HTTP_400_BAD_REQUEST, response.content)
            problem = response.json()
            self.assertEqual(problem["code"], "invalid")
            self.assertEqual(problem["status"], 400)
            messages = problem["errors"]["time_slots"][0]["start"]
            self.assertTrue(any("explicit offset" in m for m in messages), problem)
            self.assertFalse(Session.objects.exists())
            self.assertFalse(TimeSlot.objects.exists())

            # The same wall-clock time with an offset names one instant, and is taken.
            body["time_slots"][0]["start"] = naive_iso(wall) + offset_text(after)
            response = self.client.post(SESSIONS, body, format="json")
        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        slot = TimeSlot.objects.get()
        self.assertEqual(slot.start, instant_after)
        self.assertEqual(
            datetime.fromisoformat(response.json()["time_slots"][0]["start"]), slot.start
        )


# Offsets an ISO 8601 time can carry: under a day either way.
any_offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timedelta(minutes=m))


class CalendarEndsProperties(SimpleTestCase):
    @PROPERTY
    @example(wall=datetime.max, offset=timedelta(hours=-5), zone_name="Pacific/Kiritimati")
    @example(wall=datetime(9999, 12, 31, 22), offset=None, zone_name="Pacific/Kiritimati")
    @example(wall=datetime.min, offset=timedelta(hours=5), zone_name="Etc/GMT+12")
    @given(
        wall=st.datetimes(),
        offset=st.none() | any_offsets,
        zone_name=st.sampled_from(ALL_ZONES),
    )
    def test_any_datetime_is_refused_or_an_instant_every_zone_can_show(
        self, wall, offset, zone_name
    ):
        text = naive_iso(wall) + ("" if offset is None else offset_text(offset))
        named = wall.replace(tzinfo=timezones.studio_zone() if offset is None else timezone(offset))
        read, errors = read_field(text)
        if not timezones.EARLIEST <= named <= timezones.LATEST:
            self.assertIsNone(read, text)
            self.assertEqual(errors[0].code, "overflow", text)
            return
        if errors and offset is None:
            # A naive time may also fall in a change of the studio zone's offset.
            self.assertIn(errors[0].code, {"nonexistent", "ambiguous"}, text)
            return
        self.assertIsNone(errors, text)
        rendered = timezones.render(read, ZoneInfo(zone_name))
        self.assertEqual(read_field(rendered)[0], read, rendered)

    @PROPERTY
    @example(day=date.max, zone_name="Etc/GMT+12")
    @example(day=date.max, zone_name="Pacific/Kiritimati")
    @example(day=date.min, zone_name="Pacific/Kiritimati")
    @example(day=date.min, zone_name="Etc/GMT+12")
    @given(day=st.dates(), zone_name=st.sampled_from(ALL_ZONES))
    def test_day_bounds_of_any_date_are_instants_every_zone_can_show(self, day, zone_name):
        zone = ZoneInfo(zone_name)
        start, end = timezones.day_bounds(day, zone)
        self.assertTrue(timezones.EARLIEST <= start <= end <= timezones.LATEST, (start, end))
        if date(2, 1, 1) <= day <= date(9998, 1, 1):
            # Away from the ends, they are the zone's own midnights.
            self.assertEqual(start, datetime.combine(day, time.min, tzinfo=zone))
            next_day = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
            self.assertEqual(end, next_day)


class CalendarEndsThroughTheApi(APITestCase):
    """Times at the ends of the calendar are 400s or empty answers, never 500s."""

    def test_a_slot_beyond_the_last_instant_is_a_400_and_nothing_is_created(self):
        self.client.force_authenticate(InstructorFactory())
        for start, end in [
            ("9999-12-31T20:00:00-05:00", "9999-12-31T21:00:00-05:00"),
            ("9999-12-31T22:00", "9999-12-31T23:00"),
        ]:
            body = {
                "title": "Last Class",
                "category": "yoga",
                "time_slots": [{"start": start, "end": end, "capacity": 3}],
            }
            with self.subTest(start=start):
                response = self.client.post(SESSIONS, body, format="json")
                self.assertEqual(response.status_code, status.HTTP_400_BAD_REQUEST)
                problem = response.json()
                self.assertEqual(problem["code"], "invalid")
                self.assertEqual(set(problem["errors"]["time_slots"][0]), {"start", "end"})
        self.assertFalse(Session.objects.exists())

    def test_date_filters_at_the_ends_of_the_calendar_answer_an_empty_list(self):
        for query in [
            "date_to=9999-12-31",
            "date_from=9999-12-31",
            "date_from=0001-01-01",
            "date_to=0001-01-01",
            "date_from=9999-12-31&tz=Etc/GMT%2B12",
            "date_from=0001-01-01&tz=Pacific/Kiritimati",
        ]:
            with self.subTest(query=query):
                response = self.client.get(f"/api/public/sessions/?{query}")
                self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
                self.assertEqual(response.json()["results"], [])
