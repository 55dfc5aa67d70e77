"""Times in the session endpoints: input with and without an offset, and
every time shown in the viewer's zone."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.test import override_settings
from django.utils.timezone import now
from rest_framework import status

from accounts.tests.factories import InstructorFactory
from core.timezones import studio_today
from sessions_app.models import Session, TimeSlot
from sessions_app.tests.factories import TimeSlotFactory
from testing.api import (
    INSTRUCTOR_LIST,
    PUBLIC,
    SESSIONS,
    SessionApiTestCase,
    detail_url,
    public_url,
    sign_in,
)
from testing.problems import assert_problem
from testing.timetable import IST, NEW_YORK, ist


def offset_of(zone: ZoneInfo, instant: datetime) -> str:
    """The `+HH:MM` suffix ISO 8601 gives `instant` in `zone`."""
    return instant.astimezone(zone).isoformat()[-6:]


def next_offset_change(zone: ZoneInfo, after: datetime, *, forward: bool) -> datetime:
    """The first instant after `after` at which `zone` moves its clocks
    forward (or back); they change on the hour in UTC in the zones used here."""
    instant = after.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    previous = instant.astimezone(zone).utcoffset()
    for _ in range(24 * 400):
        instant += timedelta(hours=1)
        offset = instant.astimezone(zone).utcoffset()
        if offset != previous and (offset > previous) == forward:
            return instant
        previous = offset
    raise AssertionError(f"{zone.key} changes no clocks in the next 400 days")


class SessionTimeInputTests(SessionApiTestCase):
    """Naive input is studio time; input with an offset is that instant."""

    def setUp(self):
        super().setUp()
        self.instructor = InstructorFactory(timezone="America/New_York")
        sign_in(self.client, self.instructor)

    def create(self, start: str, end: str, url: str = SESSIONS):
        body = {
            "title": "Yoga",
            "category": "yoga",
            "time_slots": [{"start": start, "end": end, "capacity": 5}],
        }
        response = self.client.post(url, body)
        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        return response

    def test_naive_input_is_read_as_studio_time_whatever_the_viewers_zone(self):
        day = (studio_today() + timedelta(days=5)).isoformat()

        response = self.create(f"{day}T07:00", f"{day}T08:00", url=SESSIONS + "?tz=Europe/Paris")

        slot = TimeSlot.objects.get()
        self.assertEqual(slot.start, datetime.fromisoformat(f"{day}T07:00").replace(tzinfo=IST))
        self.assertEqual(slot.end - slot.start, timedelta(hours=1))
        shown = response.json()["time_slots"][0]
        self.assertEqual(shown["timezone"], "Europe/Paris")
        self.assertEqual(datetime.fromisoformat(shown["start"]), slot.start)

    def test_naive_input_renders_with_the_studio_offset(self):
        day = (studio_today() + timedelta(days=5)).isoformat()

        response = self.create(f"{day}T07:00", f"{day}T08:00", url=SESSIONS + "?tz=Asia/Kolkata")

        shown = response.json()["time_slots"][0]
        self.assertEqual(shown["start"], f"{day}T07:00:00+05:30")
        self.assertEqual(shown["end"], f"{day}T08:00:00+05:30")

    def test_input_with_an_offset_is_kept_as_that_instant(self):
        day = (studio_today() + timedelta(days=5)).isoformat()

        response = self.create(
            f"{day}T07:00:00+00:00", f"{day}T08:00:00Z", url=SESSIONS + "?tz=Asia/Kolkata"
        )

        slot = TimeSlot.objects.get()
        self.assertEqual(slot.start, datetime.fromisoformat(f"{day}T07:00:00+00:00"))
        self.assertEqual(slot.end, datetime.fromisoformat(f"{day}T08:00:00+00:00"))
        shown = response.json()["time_slots"][0]
        self.assertEqual(shown["start"], f"{day}T12:30:00+05:30")
        self.assertEqual(shown["end"], f"{day}T13:30:00+05:30")

    def test_input_with_a_new_york_offset_shows_in_the_instructors_profile_zone(self):
        day = (studio_today() + timedelta(days=5)).isoformat()
        start = datetime.fromisoformat(f"{day}T09:15:00").replace(tzinfo=NEW_YORK)
        end = start + timedelta(hours=1)

        response = self.create(start.isoformat(), end.isoformat())

        shown = response.json()["time_slots"][0]
        self.assertEqual(shown["timezone"], "America/New_York")
        self.assertEqual(shown["start"], start.isoformat())
        self.assertTrue(shown["start"].startswith(f"{day}T09:15:00"))
        self.assertEqual(TimeSlot.objects.get().start, start)

    @override_settings(TIME_ZONE="America/New_York")
    def test_naive_input_in_a_skipped_studio_hour_is_refused(self):
        change = next_offset_change(NEW_YORK, now() + timedelta(days=1), forward=True)
        day = change.astimezone(NEW_YORK).date().isoformat()

        response = self.client.post(
            SESSIONS,
            {
                "title": "Yoga",
                "category": "yoga",
                "time_slots": [{"start": f"{day}T02:30", "end": f"{day}T04:00", "capacity": 5}],
            },
        )

        self.assert_slot_errors(self.assert_invalid(response), [{"start"}])
        self.assertFalse(Session.objects.exists())

    @override_settings(TIME_ZONE="America/New_York")
    def test_naive_input_in_a_repeated_studio_hour_is_refused(self):
        change = next_offset_change(NEW_YORK, now() + timedelta(days=1), forward=False)
        day = change.astimezone(NEW_YORK).date().isoformat()

        response = self.client.post(
            SESSIONS,
            {
                "title": "Yoga",
                "category": "yoga",
                "time_slots": [{"start": f"{day}T00:30", "end": f"{day}T01:30", "capacity": 5}],
            },
        )

        self.assert_slot_errors(self.assert_invalid(response), [{"end"}])
        self.assertFalse(Session.objects.exists())


class ViewingZoneTests(SessionApiTestCase):
    """Times render in the viewing zone: tz, then X-Timezone, then the
    profile, then the studio zone; each slot names its zone."""

    def setUp(self):
        super().setUp()
        self.instructor = InstructorFactory(timezone="America/New_York")
        start = ist(10, 12)
        self.slot = TimeSlotFactory(
            session__instructor=self.instructor, start=start, end=start + timedelta(hours=1)
        )

    def shown_slot(self, url: str, **headers) -> dict:
        response = self.client.get(url, **headers)
        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        body = response.json()
        session = body["results"][0] if "results" in body else body
        return session["time_slots"][0]

    def assert_shown_in(self, slot: dict, zone_name: str) -> None:
        zone = ZoneInfo(zone_name)
        self.assertEqual(slot["timezone"], zone_name)
        self.assertEqual(slot["start"], self.slot.start.astimezone(zone).isoformat())
        self.assertEqual(slot["end"], self.slot.end.astimezone(zone).isoformat())
        self.assertTrue(slot["start"].endswith(offset_of(zone, self.slot.start)))
        self.assertEqual(datetime.fromisoformat(slot["start"]), self.slot.start)

    def test_times_default_to_the_studio_zone(self):
        slot = self.shown_slot(PUBLIC)

        self.assertEqual(slot["timezone"], "Asia/Kolkata")
        day = (studio_today() + timedelta(days=10)).isoformat()
        self.assertEqual(slot["start"], f"{day}T12:00:00+05:30")
        self.assertEqual(slot["end"], f"{day}T13:00:00+05:30")

    @override_settings(TIME_ZONE="Asia/Tokyo")
    def test_times_follow_the_studio_zone_setting(self):
        self.assert_shown_in(self.shown_slot(PUBLIC), "Asia/Tokyo")

    def test_times_follow_the_users_profile_zone(self):
        sign_in(self.client, self.instructor)

        for url in [
            PUBLIC,
            public_url(self.slot.session_id),
            SESSIONS,
            INSTRUCTOR_LIST,
            detail_url(self.slot.session_id),
        ]:
            with self.subTest(url=url):
                self.assert_shown_in(self.shown_slot(url), "America/New_York")

    def test_the_x_timezone_header_beats_the_profile(self):
        sign_in(self.client, self.instructor)

        slot = self.shown_slot(SESSIONS, HTTP_X_TIMEZONE="Asia/Dubai")

        self.assert_shown_in(slot, "Asia/Dubai")
        self.assertTrue(slot["start"].endswith("+04:00"))

    def test_the_tz_parameter_beats_the_header_and_the_profile(self):
        sign_in(self.client, self.instructor)

        slot = self.shown_slot(SESSIONS + "?tz=Asia/Tokyo", HTTP_X_TIMEZONE="Asia/Dubai")

        self.assert_shown_in(slot, "Asia/Tokyo")
        day = (studio_today() + timedelta(days=10)).isoformat()
        self.assertEqual(slot["start"], f"{day}T15:30:00+09:00")

    def test_anonymous_viewers_use_tz_and_the_header_too(self):
        self.assert_shown_in(self.shown_slot(PUBLIC + "?tz=Asia/Tokyo"), "Asia/Tokyo")
        self.assert_shown_in(self.shown_slot(PUBLIC, HTTP_X_TIMEZONE="Asia/Dubai"), "Asia/Dubai")

    def test_an_unknown_zone_is_refused_on_the_instructor_endpoints(self):
        sign_in(self.client, self.instructor)

        for url in [SESSIONS, INSTRUCTOR_LIST, detail_url(self.slot.session_id)]:
            with self.subTest(url=url):
                assert_problem(
                    self,
                    self.client.get(url, {"tz": "Europe/Atlantis"}),
                    status.HTTP_400_BAD_REQUEST,
                    "invalid_timezone",
                )

    def test_a_new_york_slot_across_a_daylight_saving_change_shows_both_offsets(self):
        for forward in [True, False]:
            with self.subTest(forward=forward):
                change = next_offset_change(NEW_YORK, now() + timedelta(days=1), forward=forward)
                slot = TimeSlotFactory(
                    start=change - timedelta(hours=1), end=change + timedelta(hours=1)
                )
                day = change.astimezone(NEW_YORK).date().isoformat()

                shown = self.client.get(
                    public_url(slot.session_id), {"tz": "America/New_York"}
                ).json()["time_slots"][0]

                if forward:  # 01:00 EST, then the clocks jump from 02:00 to 03:00 EDT
                    self.assertEqual(shown["start"], f"{day}T01:00:00-05:00")
                    self.assertEqual(shown["end"], f"{day}T04:00:00-04:00")
                else:  # 01:00 EDT, then the clocks fall back from 02:00 to 01:00 EST
                    self.assertEqual(shown["start"], f"{day}T01:00:00-04:00")
                    self.assertEqual(shown["end"], f"{day}T02:00:00-05:00")
                self.assertEqual(shown["timezone"], "America/New_York")
                in_ist = self.client.get(public_url(slot.session_id)).json()["time_slots"][0]
                self.assertTrue(in_ist["start"].endswith("+05:30"))
                self.assertTrue(in_ist["end"].endswith("+05:30"))
