from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.test import RequestFactory, SimpleTestCase, override_settings
from rest_framework import serializers

from core import timezones
from core.errors import InvalidTimezoneError
from core.serializers import ZonedDateTimeField

KOLKATA = ZoneInfo("Asia/Kolkata")
KATHMANDU = ZoneInfo("Asia/Kathmandu")
ST_JOHNS = ZoneInfo("America/St_Johns")
CHATHAM = ZoneInfo("Pacific/Chatham")
NEW_YORK = ZoneInfo("America/New_York")


class Viewer:
    def __init__(self, timezone=None):
        self.timezone = timezone
        self.is_authenticated = timezone is not None


def request(path="/api/x/", user=None, **headers):
    req = RequestFactory().get(path, headers=headers)
    req.user = user or Viewer()
    return req


class RenderTests(SimpleTestCase):
    instant = datetime(2027, 1, 10, 1, 30, tzinfo=UTC)

    def test_render_in_kolkata_carries_plus_five_thirty(self):
        self.assertEqual(timezones.render(self.instant, KOLKATA), "2027-01-10T07:00:00+05:30")

    def test_render_in_kathmandu_carries_plus_five_forty_five(self):
        self.assertEqual(timezones.render(self.instant, KATHMANDU), "2027-01-10T07:15:00+05:45")

    def test_render_in_st_johns_carries_minus_three_thirty_in_winter(self):
        self.assertEqual(timezones.render(self.instant, ST_JOHNS), "2027-01-09T22:00:00-03:30")

    def test_render_in_chatham_follows_its_summer_and_winter_offsets(self):
        # Chatham keeps daylight saving in the southern summer (+13:45).
        self.assertEqual(timezones.render(self.instant, CHATHAM), "2027-01-10T15:15:00+13:45")
        winter = datetime(2027, 7, 10, 1, 30, tzinfo=UTC)
        self.assertEqual(timezones.render(winter, CHATHAM), "2027-07-10T14:15:00+12:45")

    def test_render_in_new_york_applies_daylight_saving_per_instant(self):
        # US clocks spring forward on 2027-03-14 at 02:00 local time.
        before = datetime(2027, 3, 13, 12, 0, tzinfo=UTC)
        after = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)
        self.assertEqual(timezones.render(before, NEW_YORK), "2027-03-13T07:00:00-05:00")
        self.assertEqual(timezones.render(after, NEW_YORK), "2027-03-15T08:00:00-04:00")

    def test_render_in_new_york_across_the_autumn_change(self):
        # US clocks fall back on 2027-11-07 at 02:00 local time.
        before = datetime(2027, 11, 6, 12, 0, tzinfo=UTC)
        after = datetime(2027, 11, 8, 12, 0, tzinfo=UTC)
        self.assertEqual(timezones.render(before, NEW_YORK), "2027-11-06T08:00:00-04:00")
        self.assertEqual(timezones.render(after, NEW_YORK), "2027-11-08T07:00:00-05:00")


class ReadNaiveTests(SimpleTestCase):
    def test_naive_input_is_read_in_the_studio_zone(self):
        value = timezones.read_naive(datetime(2027, 1, 10, 7, 0))
        self.assertEqual(value, datetime(2027, 1, 10, 1, 30, tzinfo=UTC))

    def test_input_with_an_offset_keeps_its_instant(self):
        value = timezones.read_naive(datetime.fromisoformat("2027-01-10T07:00:00+00:00"))
        self.assertEqual(value, datetime(2027, 1, 10, 7, 0, tzinfo=UTC))

    @override_settings(TIME_ZONE="America/New_York")
    def test_naive_time_in_a_spring_gap_is_refused(self):
        with self.assertRaises(timezones.NonExistentTimeError):
            timezones.read_naive(datetime(2027, 3, 14, 2, 30))

    @override_settings(TIME_ZONE="America/New_York")
    def test_naive_time_in_an_autumn_fold_is_refused(self):
        with self.assertRaises(timezones.AmbiguousTimeError):
            timezones.read_naive(datetime(2027, 11, 7, 1, 30))

    @override_settings(TIME_ZONE="America/New_York")
    def test_naive_time_beside_a_change_is_read_with_the_right_offset(self):
        before = timezones.read_naive(datetime(2027, 3, 14, 1, 30))
        after = timezones.read_naive(datetime(2027, 3, 14, 3, 30))
        self.assertEqual(before.utcoffset().total_seconds(), -5 * 3600)
        self.assertEqual(after.utcoffset().total_seconds(), -4 * 3600)

    def test_day_bounds_are_midnights_of_the_zone(self):
        start, end = timezones.day_bounds(date(2027, 1, 10), NEW_YORK)
        self.assertEqual(start, datetime(2027, 1, 10, 5, 0, tzinfo=UTC))
        self.assertEqual(end, datetime(2027, 1, 11, 5, 0, tzinfo=UTC))

    def test_day_bounds_on_a_daylight_saving_day_span_twenty_three_hours(self):
        start, end = timezones.day_bounds(date(2027, 3, 14), NEW_YORK)
        # Subtracting in UTC measures elapsed time, not wall-clock time.
        elapsed = end.astimezone(UTC) - start.astimezone(UTC)
        self.assertEqual(elapsed.total_seconds(), 23 * 3600)


class ZoneNameTests(SimpleTestCase):
    def test_get_zone_returns_a_known_zone(self):
        self.assertEqual(timezones.get_zone("Asia/Kathmandu"), KATHMANDU)

    def test_get_zone_refuses_an_unknown_name(self):
        for name in ["Mars/Olympus", "", "asia/kolkata", "../../etc/passwd", "IST"]:
            with self.subTest(name=name), self.assertRaises(InvalidTimezoneError):
                timezones.get_zone(name)

    def test_validator_refuses_an_unknown_name(self):
        with self.assertRaises(ValidationError):
            timezones.validate_zone_name("Europe/Atlantis")
        timezones.validate_zone_name("Europe/Berlin")


class ViewingZoneTests(SimpleTestCase):
    def test_query_parameter_comes_first(self):
        req = request(
            "/api/x/?tz=Asia/Kathmandu",
            user=Viewer("America/New_York"),
            **{"X-Timezone": "Pacific/Chatham"},
        )
        self.assertEqual(timezones.viewing_zone(req), KATHMANDU)

    def test_header_comes_before_the_profile(self):
        req = request(user=Viewer("America/New_York"), **{"X-Timezone": "Pacific/Chatham"})
        self.assertEqual(timezones.viewing_zone(req), CHATHAM)

    def test_profile_comes_before_the_studio_zone(self):
        self.assertEqual(timezones.viewing_zone(request(user=Viewer("America/St_Johns"))), ST_JOHNS)

    def test_studio_zone_is_the_fallback(self):
        self.assertEqual(timezones.viewing_zone(request()), KOLKATA)
        self.assertEqual(timezones.viewing_zone(None), KOLKATA)

    def test_unknown_zone_in_the_request_is_an_error_not_a_fallback(self):
        with self.assertRaises(InvalidTimezoneError):
            timezones.viewing_zone(request("/api/x/?tz=Nowhere/Land"))


class SlotSerializer(serializers.Serializer):
    start = ZonedDateTimeField()


class ZonedDateTimeFieldTests(SimpleTestCase):
    def test_output_is_in_the_viewing_zone_with_its_offset(self):
        value = {"start": datetime(2027, 1, 10, 1, 30, tzinfo=UTC)}
        data = SlotSerializer(value, context={"request": request("/api/x/?tz=America/New_York")})
        self.assertEqual(data.data["start"], "2027-01-09T20:30:00-05:00")

    def test_naive_input_is_studio_time(self):
        serializer = SlotSerializer(data={"start": "2027-01-10T07:00"})
        self.assertTrue(serializer.is_valid(), serializer.errors)
        self.assertEqual(
            serializer.validated_data["start"], datetime(2027, 1, 10, 1, 30, tzinfo=UTC)
        )

    def test_input_with_an_offset_is_that_instant(self):
        serializer = SlotSerializer(data={"start": "2027-01-10T07:00:00-05:00"})
        self.assertTrue(serializer.is_valid(), serializer.errors)
        self.assertEqual(
            serializer.validated_data["start"], datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
        )

    @override_settings(TIME_ZONE="America/New_York")
    def test_naive_input_in_a_gap_is_a_validation_error_asking_for_an_offset(self):
        serializer = SlotSerializer(data={"start": "2027-03-14T02:30"})
        self.assertFalse(serializer.is_valid())
        self.assertIn("explicit offset", str(serializer.errors["start"][0]))

    def test_malformed_input_is_a_validation_error(self):
        serializer = SlotSerializer(data={"start": "tomorrow at seven"})
        self.assertFalse(serializer.is_valid())
        self.assertIn("start", serializer.errors)
