"""The public calendar of a session: its upcoming slots, for anyone."""

from datetime import timedelta

from django.utils.timezone import now
from icalendar import Calendar
from rest_framework.test import APITestCase

from bookings.tests.factories import add_slot, book, cancel_slot, make_slot, move_to_past
from calendars.tests.factories import feed_path, session_calendar_path
from testing.api import sign_in
from testing.calendars import calendar_events, to_the_second, utc_instant
from testing.problems import assert_problem


class SessionCalendarTests(APITestCase):
    def setUp(self):
        self.first = make_slot(start=now() + timedelta(days=1), title="Evening Yoga")
        self.session = self.first.session
        self.second = add_slot(self.session, start=now() + timedelta(days=2))
        self.path = session_calendar_path(self.session.pk)

    def test_anyone_gets_the_sessions_upcoming_slots(self):
        events = calendar_events(self, self.client.get(self.path))

        self.assertEqual(
            set(events), {f"slot-{self.first.pk}@studio", f"slot-{self.second.pk}@studio"}
        )
        for slot in [self.first, self.second]:
            event = events[f"slot-{slot.pk}@studio"]
            self.assertEqual(utc_instant(self, event, "DTSTART"), to_the_second(slot.start))
            self.assertEqual(utc_instant(self, event, "DTEND"), to_the_second(slot.end))
            self.assertEqual(str(event["SUMMARY"]), "Evening Yoga")
            self.assertEqual(str(event["STATUS"]), "CONFIRMED")

    def test_a_slot_that_has_started_is_not_shown(self):
        move_to_past(self.first)

        events = calendar_events(self, self.client.get(self.path))

        self.assertEqual(set(events), {f"slot-{self.second.pk}@studio"})

    def test_a_cancelled_upcoming_slot_stays_as_cancelled(self):
        book(self.first)
        cancel_slot(self.first)

        events = calendar_events(self, self.client.get(self.path))

        self.assertEqual(str(events[f"slot-{self.first.pk}@studio"]["STATUS"]), "CANCELLED")
        self.assertEqual(str(events[f"slot-{self.second.pk}@studio"]["STATUS"]), "CONFIRMED")

    def test_another_sessions_slots_are_not_shown(self):
        make_slot(instructor=self.session.instructor, start=now() + timedelta(days=3))

        self.assertEqual(len(calendar_events(self, self.client.get(self.path))), 2)

    def test_the_events_are_the_ones_of_the_instructors_feed(self):
        uid = f"slot-{self.first.pk}@studio"
        public = calendar_events(self, self.client.get(self.path))[uid]

        own = calendar_events(self, self.client.get(feed_path(self.session.instructor)))[uid]

        self.assertEqual(public.to_ical(), own.to_ical())
        self.assertIn(self.session.instructor.name, str(public["DESCRIPTION"]))

    def test_the_calendar_is_named_after_the_session(self):
        calendar = Calendar.from_ical(self.client.get(self.path).content)

        self.assertEqual(str(calendar["X-WR-CALNAME"]), "Studio: Evening Yoga")

    def test_a_session_without_upcoming_slots_has_an_empty_calendar(self):
        move_to_past(self.first)
        move_to_past(self.second, ago=timedelta(hours=3))

        self.assertEqual(calendar_events(self, self.client.get(self.path)), {})

    def test_an_unknown_session_is_a_404_problem(self):
        response = self.client.get(session_calendar_path(self.session.pk + 1000))

        assert_problem(self, response, 404, "not_found")

    def test_a_signed_in_user_or_a_bad_token_gets_the_same_calendar(self):
        anonymous = self.client.get(self.path).content
        sign_in(self.client, self.session.instructor)
        self.assertEqual(self.client.get(self.path).content, anonymous)
        self.client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
        self.assertEqual(self.client.get(self.path).content, anonymous)

    def test_the_public_session_detail_still_answers_json(self):
        response = self.client.get(f"/api/public/sessions/{self.session.pk}/")

        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["id"], self.session.pk)
