"""The feeds' events against the database: one VEVENT per booking of a
client or per slot of an instructor, read with icalendar."""

from datetime import timedelta

from django.utils.timezone import now
from icalendar import Calendar
from rest_framework.test import APITestCase

from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings import services as booking_services
from bookings.tests.factories import add_slot, book, cancel_slot, make_slot, move_to_past, wait
from calendars.tests.factories import feed_path
from notifications.messages import booking_calendar
from sessions_app import services as session_services
from sessions_app.models import TimeSlot
from testing.calendars import calendar_events, to_the_second, utc_instant
from testing.problems import assert_problem


class FeedTestCase(APITestCase):
    def setUp(self):
        self.instructor = InstructorFactory(name="Priya Shah")
        self.yoga = make_slot(
            instructor=self.instructor, start=now() + timedelta(days=2), title="Evening Yoga"
        )
        self.later = add_slot(self.yoga.session, start=now() + timedelta(days=3))
        self.client_user = ClientFactory()

    def events(self, user) -> dict:
        return calendar_events(self, self.client.get(feed_path(user)))

    def assert_event_of_slot(self, event, slot: TimeSlot, status: str) -> None:
        slot.refresh_from_db()
        self.assertEqual(utc_instant(self, event, "DTSTART"), to_the_second(slot.start))
        self.assertEqual(utc_instant(self, event, "DTEND"), to_the_second(slot.end))
        self.assertEqual(str(event["SUMMARY"]), slot.session.title)
        self.assertEqual(str(event["STATUS"]), status)
        self.assertIn(slot.session.instructor.name, str(event["DESCRIPTION"]))
        self.assertIn("DTSTAMP", event)
        self.assertIsInstance(event.decoded("SEQUENCE"), int)


class ClientFeedTests(FeedTestCase):
    def test_each_confirmed_booking_is_an_event_keyed_by_the_booking(self):
        first = book(self.yoga, self.client_user)
        second = book(self.later, self.client_user)

        events = self.events(self.client_user)

        self.assertEqual(set(events), {f"booking-{first.pk}@studio", f"booking-{second.pk}@studio"})
        self.assert_event_of_slot(events[f"booking-{first.pk}@studio"], self.yoga, "CONFIRMED")
        self.assert_event_of_slot(events[f"booking-{second.pk}@studio"], self.later, "CONFIRMED")

    def test_the_uid_is_the_one_of_the_confirmation_mails_attachment(self):
        booking = book(self.yoga, self.client_user)
        attachment = Calendar.from_ical(booking_calendar(booking))
        (mailed,) = attachment.walk("VEVENT")

        self.assertEqual(set(self.events(self.client_user)), {str(mailed["UID"])})

    def test_a_cancelled_booking_stays_as_cancelled(self):
        booking = book(self.yoga, self.client_user)
        booking_services.booking_cancel(booking=booking, by=self.client_user)

        events = self.events(self.client_user)

        self.assert_event_of_slot(events[f"booking-{booking.pk}@studio"], self.yoga, "CANCELLED")

    def test_a_booking_of_a_slot_the_studio_cancelled_is_cancelled(self):
        booking = book(self.yoga, self.client_user)
        cancel_slot(self.yoga)

        events = self.events(self.client_user)

        self.assert_event_of_slot(events[f"booking-{booking.pk}@studio"], self.yoga, "CANCELLED")

    def test_a_waitlisted_booking_is_not_in_the_feed(self):
        full = make_slot(instructor=self.instructor, start=now() + timedelta(days=5), capacity=1)
        book(full)
        waiting = wait(full, self.client_user)

        self.assertNotIn(f"booking-{waiting.pk}@studio", self.events(self.client_user))

    def test_a_waitlisted_booking_cancelled_before_its_seat_is_not_in_the_feed(self):
        full = make_slot(instructor=self.instructor, start=now() + timedelta(days=5), capacity=1)
        book(full)
        waiting = wait(full, self.client_user)
        booking_services.booking_cancel(booking=waiting, by=self.client_user)

        self.assertEqual(self.events(self.client_user), {})

    def test_a_booking_promoted_from_the_waitlist_appears_confirmed(self):
        full = make_slot(instructor=self.instructor, start=now() + timedelta(days=5), capacity=1)
        holder = book(full)
        waiting = wait(full, self.client_user)
        booking_services.booking_cancel(booking=holder, by=holder.client)

        events = self.events(self.client_user)

        self.assert_event_of_slot(events[f"booking-{waiting.pk}@studio"], full, "CONFIRMED")

    def test_only_slots_starting_30_days_back_or_later_are_shown(self):
        recent = book(make_slot(start=now() + timedelta(days=10)), self.client_user)
        old = book(make_slot(start=now() + timedelta(days=11)), self.client_user)
        move_to_past(recent.time_slot, ago=timedelta(days=29, hours=23))
        move_to_past(old.time_slot, ago=timedelta(days=30, minutes=1))

        events = self.events(self.client_user)

        self.assertEqual(set(events), {f"booking-{recent.pk}@studio"})

    def test_another_clients_bookings_are_not_shown(self):
        book(self.yoga)

        self.assertEqual(self.events(self.client_user), {})

    def test_the_calendar_has_a_name_and_asks_to_be_fetched_hourly(self):
        response = self.client.get(feed_path(self.client_user))

        calendar = Calendar.from_ical(response.content)
        self.assertEqual(str(calendar["X-WR-CALNAME"]), "Studio: my classes")
        self.assertEqual(calendar["X-PUBLISHED-TTL"].to_ical(), b"PT1H")
        self.assertEqual(calendar.decoded("REFRESH-INTERVAL"), timedelta(hours=1))
        self.assertEqual(str(calendar["VERSION"]), "2.0")
        self.assertIn("PRODID", calendar)


class InstructorFeedTests(FeedTestCase):
    def test_each_slot_of_the_instructor_is_an_event_keyed_by_the_slot(self):
        book(self.yoga, self.client_user)

        events = self.events(self.instructor)

        self.assertEqual(
            set(events), {f"slot-{self.yoga.pk}@studio", f"slot-{self.later.pk}@studio"}
        )
        self.assert_event_of_slot(events[f"slot-{self.yoga.pk}@studio"], self.yoga, "CONFIRMED")
        self.assert_event_of_slot(events[f"slot-{self.later.pk}@studio"], self.later, "CONFIRMED")

    def test_a_cancelled_slot_stays_as_cancelled(self):
        cancel_slot(self.yoga)

        events = self.events(self.instructor)

        self.assert_event_of_slot(events[f"slot-{self.yoga.pk}@studio"], self.yoga, "CANCELLED")

    def test_only_slots_starting_30_days_back_or_later_are_shown(self):
        move_to_past(self.yoga, ago=timedelta(days=29))
        move_to_past(self.later, ago=timedelta(days=31))

        self.assertEqual(set(self.events(self.instructor)), {f"slot-{self.yoga.pk}@studio"})

    def test_another_instructors_slots_are_not_shown(self):
        make_slot(start=now() + timedelta(days=4))

        self.assertEqual(len(self.events(self.instructor)), 2)

    def test_the_instructors_bookings_feed_is_not_the_clients(self):
        booking = book(self.yoga, self.client_user)

        self.assertNotIn(f"booking-{booking.pk}@studio", self.events(self.instructor))
        self.assertNotIn(f"slot-{self.yoga.pk}@studio", self.events(self.client_user))

    def test_the_calendar_has_a_name(self):
        calendar = Calendar.from_ical(self.client.get(feed_path(self.instructor)).content)

        self.assertEqual(str(calendar["X-WR-CALNAME"]), "Studio: my teaching")


class SequenceTests(FeedTestCase):
    def sequences(self, user) -> dict[str, int]:
        return {uid: event.decoded("SEQUENCE") for uid, event in self.events(user).items()}

    def move(self, slot: TimeSlot, hours: int) -> None:
        slot.refresh_from_db()
        session_services.time_slot_update(
            time_slot=slot,
            start=slot.start + timedelta(hours=hours),
            end=slot.end + timedelta(hours=hours),
            capacity=slot.capacity,
            by=self.instructor,
        )

    def test_the_sequence_stays_the_same_while_nothing_changes(self):
        book(self.yoga, self.client_user)
        first = self.client.get(feed_path(self.client_user)).content

        second = self.client.get(feed_path(self.client_user)).content

        self.assertEqual(second, first)

    def test_moving_a_slot_raises_the_sequence_of_its_events_only(self):
        booking = book(self.yoga, self.client_user)
        before = {**self.sequences(self.instructor), **self.sequences(self.client_user)}

        self.move(self.yoga, 1)

        after = {**self.sequences(self.instructor), **self.sequences(self.client_user)}
        moved = [f"slot-{self.yoga.pk}@studio", f"booking-{booking.pk}@studio"]
        for uid in moved:
            self.assertGreater(after[uid], before[uid], uid)
        untouched = f"slot-{self.later.pk}@studio"
        self.assertEqual(after[untouched], before[untouched])
        events = self.events(self.client_user)
        self.assert_event_of_slot(events[moved[1]], self.yoga, "CONFIRMED")

    def test_cancelling_a_booking_raises_its_sequence(self):
        booking = book(self.yoga, self.client_user)
        uid = f"booking-{booking.pk}@studio"
        before = self.sequences(self.client_user)[uid]

        booking_services.booking_cancel(booking=booking, by=self.client_user)

        self.assertGreater(self.sequences(self.client_user)[uid], before)

    def test_cancelling_a_slot_raises_the_sequence_of_its_events(self):
        booking = book(self.yoga, self.client_user)
        slot_uid, booking_uid = f"slot-{self.yoga.pk}@studio", f"booking-{booking.pk}@studio"
        before = {**self.sequences(self.instructor), **self.sequences(self.client_user)}

        cancel_slot(self.yoga)

        after = {**self.sequences(self.instructor), **self.sequences(self.client_user)}
        self.assertGreater(after[slot_uid], before[slot_uid])
        self.assertGreater(after[booking_uid], before[booking_uid])

    def test_renaming_the_session_raises_the_sequence_and_changes_the_summary(self):
        uid = f"slot-{self.yoga.pk}@studio"
        before = self.sequences(self.instructor)[uid]

        session_services.session_update(
            session=self.yoga.session, data={"title": "Sunset Yoga"}, by=self.instructor
        )

        event = self.events(self.instructor)[uid]
        self.assertGreater(event.decoded("SEQUENCE"), before)
        self.assertEqual(str(event["SUMMARY"]), "Sunset Yoga")

    def test_the_stamp_is_when_the_event_last_changed(self):
        booking = book(self.yoga, self.client_user)
        booking_services.booking_cancel(booking=booking, by=self.client_user)
        booking.refresh_from_db()

        event = self.events(self.client_user)[f"booking-{booking.pk}@studio"]

        stamp = utc_instant(self, event, "DTSTAMP")
        self.assertLessEqual(abs(stamp - booking.cancelled_at), timedelta(seconds=1))


class NegotiationTests(FeedTestCase):
    def test_calendar_clients_accept_headers_all_get_the_calendar(self):
        book(self.yoga, self.client_user)
        path = feed_path(self.client_user)
        for accept in [None, "text/calendar", "*/*", "text/*", "text/calendar, */*;q=0.1"]:
            with self.subTest(accept=accept):
                headers = {"Accept": accept} if accept else {}

                response = self.client.get(path, headers=headers)

                self.assertEqual(len(calendar_events(self, response)), 1)

    def test_an_error_of_a_calendar_request_is_a_json_problem(self):
        response = self.client.get(
            f"/api/calendar/{'0' * 64}.ics", headers={"Accept": "text/calendar"}
        )

        assert_problem(self, response, 404, "not_found")

    def test_head_answers_the_headers_without_a_body(self):
        path = feed_path(self.client_user)
        got = self.client.get(path)

        response = self.client.head(path)

        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, b"")
        self.assertEqual(response["ETag"], got["ETag"])

    def test_other_methods_on_the_feed_are_405(self):
        path = feed_path(self.client_user)
        for method in ["post", "put", "patch", "delete", "options"]:
            with self.subTest(method=method):
                assert_problem(self, getattr(self.client, method)(path), 405, "method_not_allowed")
