"""The times of bookings, shown in the viewer's zone."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.utils.timezone import now
from rest_framework import status

from accounts.models import User
from bookings.models import Booking
from bookings.tests.factories import book, make_slot
from sessions_app.models import TimeSlot
from testing.api import BOOKINGS, BookingApiTestCase, booking_cancel_url, booking_url, from_iso
from testing.problems import assert_problem


class BookingTimeZoneViewTests(BookingApiTestCase):
    """Times of a booking are shown in the viewing zone, with its offset at each instant."""

    def slot_at(self, month: int) -> TimeSlot:
        # Noon UTC on the 15th of `month` next year: daylight saving in New York
        # is off in January (-05:00) and on in July (-04:00).
        start = datetime(now().year + 1, month, 15, 12, 0, tzinfo=UTC)
        return make_slot(start=start, minutes=60)

    def assert_times_in(self, body: dict, zone_name: str, booking: Booking) -> None:
        zone = ZoneInfo(zone_name)
        slot = booking.time_slot
        self.assertEqual(body["time_slot"]["timezone"], zone_name)
        for value, instant in [
            (body["created_at"], booking.created_at),
            (body["time_slot"]["start"], slot.start),
            (body["time_slot"]["end"], slot.end),
        ]:
            shown = from_iso(value)
            self.assertEqual(shown, instant)
            self.assertEqual(shown.utcoffset(), instant.astimezone(zone).utcoffset(), value)

    def test_times_default_to_the_studio_zone(self):
        booking = book(self.slot_at(1), self.me)

        body = self.client.get(booking_url(booking.pk)).json()

        self.assertEqual(body["time_slot"]["start"][-6:], "+05:30")
        self.assertTrue(body["created_at"].endswith("+05:30"))
        self.assert_times_in(body, "Asia/Kolkata", booking)

    def test_times_follow_the_profile_zone_with_daylight_saving_per_instant(self):
        User.objects.filter(pk=self.me.pk).update(timezone="America/New_York")
        january = book(self.slot_at(1), self.me)
        july = book(self.slot_at(7), self.me)

        winter = self.client.get(booking_url(january.pk)).json()
        summer = self.client.get(booking_url(july.pk)).json()

        self.assertEqual(winter["time_slot"]["start"], f"{now().year + 1}-01-15T07:00:00-05:00")
        self.assertEqual(winter["time_slot"]["end"], f"{now().year + 1}-01-15T08:00:00-05:00")
        self.assertEqual(summer["time_slot"]["start"], f"{now().year + 1}-07-15T08:00:00-04:00")
        self.assert_times_in(winter, "America/New_York", january)
        self.assert_times_in(summer, "America/New_York", july)

    def test_tz_parameter_overrides_the_profile_zone(self):
        User.objects.filter(pk=self.me.pk).update(timezone="Europe/London")
        booking = book(self.slot_at(1), self.me)

        body = self.client.get(booking_url(booking.pk), {"tz": "America/New_York"}).json()

        self.assertEqual(body["time_slot"]["start"], f"{now().year + 1}-01-15T07:00:00-05:00")
        self.assert_times_in(body, "America/New_York", booking)

    def test_x_timezone_header_sets_the_zone_of_the_list(self):
        booking = book(self.slot_at(7), self.me)

        response = self.client.get(BOOKINGS, HTTP_X_TIMEZONE="America/New_York")

        body = response.json()["results"][0]
        self.assertEqual(body["time_slot"]["start"], f"{now().year + 1}-07-15T08:00:00-04:00")
        self.assert_times_in(body, "America/New_York", booking)

    def test_created_booking_and_cancellation_are_shown_in_the_tz_zone(self):
        slot = self.slot_at(1)

        created = self.client.post(
            f"{BOOKINGS}?tz=America/New_York", {"time_slot": slot.pk}, format="json"
        )
        booking = Booking.objects.select_related("time_slot").get(pk=created.json()["id"])
        cancelled = self.client.post(f"{booking_cancel_url(booking.pk)}?tz=America/New_York")

        self.assertEqual(created.status_code, status.HTTP_201_CREATED, created.content)
        self.assert_times_in(created.json(), "America/New_York", booking)
        body = cancelled.json()
        booking.refresh_from_db()
        shown = from_iso(body["cancelled_at"])
        self.assertEqual(shown, booking.cancelled_at)
        zone = ZoneInfo("America/New_York")
        self.assertEqual(shown.utcoffset(), booking.cancelled_at.astimezone(zone).utcoffset())

    def test_an_unknown_tz_refuses_a_booking_before_it_is_made(self):
        slot = make_slot()

        response = self.client.post(f"{BOOKINGS}?tz=Nowhere/Land", {"time_slot": slot.pk})

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "invalid_timezone")
        self.assertFalse(Booking.objects.exists())
