"""The words of the mail (API.md section 8): subjects and bodies in the
recipient's zone, the calendar attachment, the password reset link."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core import mail
from django.test import TestCase
from django.utils.timezone import now
from icalendar import Calendar

from accounts import services as account_services
from accounts.tests.factories import PASSWORD, ClientFactory, InstructorFactory
from bookings import services
from bookings.models import Booking
from bookings.tests.factories import make_slot
from core.errors import ValidationFailedError
from core.signals import MailKind
from notifications import messages, outbox
from notifications.models import Notification
from sessions_app.models import TimeSlot

NEW_YORK = "America/New_York"
KOLKATA = "Asia/Kolkata"
NEW_PASSWORD = "fresh-Word-456"


def next_january_noon() -> datetime:
    """15 January of next year, 12:00 UTC: 07:00 EST in New York, 17:30 IST
    in Kolkata (neither zone keeps daylight saving time then)."""
    return datetime(now().year + 1, 1, 15, 12, 0, tzinfo=UTC)


def day_text(instant: datetime, zone: str) -> str:
    """The day of `instant` on the clocks of `zone`, as in "Fri 15 Jan 2027"."""
    local = instant.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b %Y}"


def book(slot: TimeSlot, client, *, waitlist: bool = False) -> Booking:
    booking = services.booking_create(
        client=client, time_slot_id=slot.pk, waitlist=waitlist, by=None
    )
    slot.refresh_from_db()
    return booking


class MessageTestCase(TestCase):
    def setUp(self):
        self.start = next_january_noon()
        self.instructor = InstructorFactory(name="Mira Shah")
        self.slot = make_slot(instructor=self.instructor, start=self.start, minutes=75, capacity=2)
        self.new_yorker = ClientFactory(timezone=NEW_YORK, name="Nora")
        self.indian = ClientFactory(timezone=KOLKATA, name="Ishaan")

    def mail_to(self, user) -> list:
        return [message for message in mail.outbox if message.to == [user.email]]

    def only_mail_to(self, user):
        messages = self.mail_to(user)
        self.assertEqual(len(messages), 1, [m.subject for m in mail.outbox])
        return messages[0]

    def html_of(self, message) -> str:
        self.assertEqual(len(message.alternatives), 1)
        content, mimetype = message.alternatives[0]
        self.assertEqual(mimetype, "text/html")
        return content

    def expected_start(self, zone: str, clock: str) -> str:
        return f"{day_text(self.start, zone)}, {clock} ({zone})"


class SubjectTests(MessageTestCase):
    def test_a_booking_confirmation_names_the_session_and_the_start_in_each_recipients_zone(self):
        with self.captureOnCommitCallbacks(execute=True):
            book(self.slot, self.new_yorker)
            book(self.slot, self.indian)

        self.assertEqual(
            self.only_mail_to(self.new_yorker).subject,
            f"Booked: Morning Yoga, {self.expected_start(NEW_YORK, '07:00 EST')}",
        )
        self.assertEqual(
            self.only_mail_to(self.indian).subject,
            f"Booked: Morning Yoga, {self.expected_start(KOLKATA, '17:30 IST')}",
        )

    def test_the_stored_subject_is_the_one_mailed(self):
        with self.captureOnCommitCallbacks(execute=True):
            booking = book(self.slot, self.new_yorker)

        row = Notification.objects.get(booking=booking)
        self.assertEqual(row.subject, self.only_mail_to(self.new_yorker).subject)
        self.assertIn("07:00 EST (America/New_York)", row.subject)

    def test_every_booking_kind_names_the_start_in_the_recipients_zone(self):
        with self.captureOnCommitCallbacks(execute=True):
            book(self.slot, ClientFactory())
            book(self.slot, self.new_yorker)
            waiting = book(self.slot, self.indian, waitlist=True)
            services.time_slot_cancel(time_slot=self.slot, by=None)
        other = make_slot(instructor=self.instructor, start=self.start + timedelta(days=1))
        with self.captureOnCommitCallbacks(execute=True):
            mine = book(other, self.indian)
        with self.captureOnCommitCallbacks(execute=True):
            services.booking_cancel(booking=mine, by=None)

        subjects = {
            (message.to[0], message.subject.split(":")[0]): message.subject
            for message in mail.outbox
        }
        new_york = self.expected_start(NEW_YORK, "07:00 EST")
        kolkata = self.expected_start(KOLKATA, "17:30 IST")
        self.assertEqual(
            subjects[(self.indian.email, "Waitlist, number 1")],
            f"Waitlist, number 1: Morning Yoga, {kolkata}",
        )
        self.assertEqual(
            subjects[(self.new_yorker.email, "Class cancelled")],
            f"Class cancelled: Morning Yoga, {new_york}",
        )
        self.assertEqual(
            subjects[(self.indian.email, "Class cancelled")],
            f"Class cancelled: Morning Yoga, {kolkata}",
        )
        next_day = other.start.astimezone(ZoneInfo(KOLKATA))
        self.assertEqual(
            subjects[(self.indian.email, "Cancelled")],
            f"Cancelled: Morning Yoga, {day_text(next_day, KOLKATA)}, 17:30 IST ({KOLKATA})",
        )
        self.assertEqual(
            Notification.objects.get(booking=waiting, kind=MailKind.SLOT_CANCELLED).user,
            self.indian,
        )

    def test_a_reminder_names_the_start_in_the_recipients_zone(self):
        booking = book(self.slot, self.new_yorker)
        Booking.objects.filter(pk=booking.pk).update(confirmed_at=self.start - timedelta(days=1))

        outbox.reminders_queue(at=self.start - timedelta(minutes=30))

        row = Notification.objects.get(booking=booking, kind=MailKind.REMINDER)
        self.assertEqual(
            row.subject, f"Reminder: Morning Yoga, {self.expected_start(NEW_YORK, '07:00 EST')}"
        )
        message = messages.message(row)
        self.assertEqual(message.subject, row.subject)

    def test_a_client_who_moves_zone_gets_later_mail_in_the_new_zone(self):
        with self.captureOnCommitCallbacks(execute=True):
            booking = book(self.slot, self.new_yorker)
        self.new_yorker.timezone = KOLKATA
        self.new_yorker.save(update_fields=["timezone"])

        with self.captureOnCommitCallbacks(execute=True):
            services.booking_cancel(booking=booking, by=None)

        self.assertEqual(
            mail.outbox[-1].subject,
            f"Cancelled: Morning Yoga, {self.expected_start(KOLKATA, '17:30 IST')}",
        )


class BodyTests(MessageTestCase):
    def test_the_confirmation_has_a_plain_text_and_an_html_body_in_the_recipients_zone(self):
        with self.captureOnCommitCallbacks(execute=True):
            book(self.slot, self.indian)

        message = self.only_mail_to(self.indian)
        html = self.html_of(message)
        for body in (message.body, html):
            self.assertIn("Morning Yoga", body)
            self.assertIn("Mira Shah", body)
            self.assertIn(f"{day_text(self.start, KOLKATA)}, 17:30 IST to 18:45", body)
            self.assertIn(KOLKATA, body)
            self.assertIn("Ishaan", body)
        self.assertNotIn("<", message.body)
        self.assertIn("<p>", html)

    def test_every_kind_has_both_bodies(self):
        ClientFactory(email="ana@example.com")
        with self.captureOnCommitCallbacks(execute=True):
            book(self.slot, ClientFactory())
            book(self.slot, self.new_yorker)
            book(self.slot, self.indian, waitlist=True)
            account_services.password_reset_request(email="ana@example.com")
        with self.captureOnCommitCallbacks(execute=True):
            services.booking_cancel(booking=Booking.objects.get(client=self.new_yorker), by=None)
        with self.captureOnCommitCallbacks(execute=True):
            services.time_slot_cancel(time_slot=self.slot, by=None)

        kinds = set()
        for message in mail.outbox:
            kinds.add(message.subject.split(":")[0].split(",")[0])
            self.assertTrue(message.body.strip())
            self.assertIn("<html", self.html_of(message))
        self.assertEqual(
            kinds,
            {"Booked", "Waitlist", "Cancelled", "Class cancelled", "Reset your Studio password"},
        )

    def test_the_waitlist_mail_states_the_position(self):
        with self.captureOnCommitCallbacks(execute=True):
            book(self.slot, ClientFactory())
            book(self.slot, ClientFactory())
            book(self.slot, ClientFactory(), waitlist=True)
            book(self.slot, self.new_yorker, waitlist=True)

        message = self.only_mail_to(self.new_yorker)
        self.assertIn("number 2", message.body)
        self.assertIn("number 2", self.html_of(message))

    def test_a_late_cancellation_says_it_is_late_and_an_early_one_does_not(self):
        soon = make_slot(start=now() + timedelta(hours=2), title="Soon")
        with self.captureOnCommitCallbacks(execute=True):
            early = book(self.slot, self.new_yorker)
            late = book(soon, self.indian)
        with self.captureOnCommitCallbacks(execute=True):
            services.booking_cancel(booking=early, by=None)
            services.booking_cancel(booking=late, by=None)

        early_mail = self.mail_to(self.new_yorker)[-1]
        late_mail = self.mail_to(self.indian)[-1]
        self.assertNotIn("late cancellation", early_mail.body)
        self.assertIn("counts as a late cancellation", late_mail.body)

    def test_special_characters_in_a_title_stay_as_they_are_in_plain_text(self):
        title = 'Stretch & Flow <Level 1> "Gentle"'
        slot = make_slot(start=self.start + timedelta(days=2), title=title)
        with self.captureOnCommitCallbacks(execute=True):
            book(slot, self.new_yorker)

        message = self.only_mail_to(self.new_yorker)
        self.assertIn(title, message.body)
        self.assertNotIn("&amp;", message.body)
        self.assertNotIn("&lt;", message.body)
        self.assertTrue(message.subject.startswith(f"Booked: {title}, "), message.subject)
        html = self.html_of(message)
        self.assertIn("Stretch &amp; Flow &lt;Level 1&gt;", html)
        self.assertNotIn("<Level 1>", html)

    def test_special_characters_in_a_name_stay_as_they_are_in_plain_text(self):
        client = ClientFactory(name="Zoë <O'Brien> & co", timezone=NEW_YORK)
        with self.captureOnCommitCallbacks(execute=True):
            book(self.slot, client)

        message = self.only_mail_to(client)
        self.assertIn("Hello Zoë <O'Brien> & co,", message.body)
        self.assertIn("Zoë &lt;O&#x27;Brien&gt; &amp; co", self.html_of(message))


class CalendarAttachmentTests(MessageTestCase):
    def attachment(self, message):
        self.assertEqual(len(message.attachments), 1)
        name, content, mimetype = message.attachments[0]
        self.assertEqual(mimetype, "text/calendar")
        self.assertTrue(name.endswith(".ics"))
        return Calendar.from_ical(content)

    def test_the_confirmation_carries_the_slot_as_a_calendar_event_in_utc(self):
        with self.captureOnCommitCallbacks(execute=True):
            booking = book(self.slot, self.indian)

        calendar = self.attachment(self.only_mail_to(self.indian))
        events = calendar.walk("VEVENT")
        self.assertEqual(len(events), 1)
        event = events[0]
        start = event.decoded("DTSTART")
        end = event.decoded("DTEND")
        self.assertEqual(start, self.slot.start)
        self.assertEqual(end, self.slot.end)
        self.assertEqual(start.utcoffset(), timedelta(0))
        self.assertEqual(end - start, timedelta(minutes=75))
        self.assertEqual(str(event["SUMMARY"]), "Morning Yoga")
        self.assertTrue(str(event["UID"]))
        self.assertIn(str(booking.pk), str(event["UID"]))
        self.assertIn("DTSTAMP", event)
        self.assertEqual(str(calendar["VERSION"]), "2.0")

    def test_each_booking_gets_its_own_event_uid(self):
        with self.captureOnCommitCallbacks(execute=True):
            book(self.slot, self.indian)
            book(self.slot, self.new_yorker)

        uids = {
            str(self.attachment(self.only_mail_to(user)).walk("VEVENT")[0]["UID"])
            for user in (self.indian, self.new_yorker)
        }
        self.assertEqual(len(uids), 2)

    def test_a_promotion_carries_the_calendar_event_too(self):
        with self.captureOnCommitCallbacks(execute=True):
            first = book(self.slot, ClientFactory())
            book(self.slot, ClientFactory())
            book(self.slot, self.new_yorker, waitlist=True)
        with self.captureOnCommitCallbacks(execute=True):
            services.booking_cancel(booking=first, by=None)

        promoted = self.mail_to(self.new_yorker)[-1]
        self.assertTrue(promoted.subject.startswith("Booked: "))
        event = self.attachment(promoted).walk("VEVENT")[0]
        self.assertEqual(event.decoded("DTSTART"), self.slot.start)

    def test_only_the_confirmation_carries_an_attachment(self):
        with self.captureOnCommitCallbacks(execute=True):
            booking = book(self.slot, self.indian)
        with self.captureOnCommitCallbacks(execute=True):
            services.booking_cancel(booking=booking, by=None)

        confirmed, cancelled = self.mail_to(self.indian)
        self.assertEqual(len(confirmed.attachments), 1)
        self.assertEqual(cancelled.attachments, [])


class PasswordResetMailTests(TestCase):
    def setUp(self):
        self.user = ClientFactory(email="ana@example.com", timezone=NEW_YORK)

    def request_reset(self):
        with self.captureOnCommitCallbacks(execute=True):
            account_services.password_reset_request(email="ana@example.com")
        self.assertEqual(len(mail.outbox), 1)
        return mail.outbox[-1]

    def uid_and_token(self, message) -> tuple[str, str]:
        found = re.search(r"uid (\S+) and token (\S+) ", message.body)
        self.assertIsNotNone(found, message.body)
        return found.group(1), found.group(2)

    def test_the_reset_mail_carries_a_uid_and_token_that_set_a_new_password(self):
        message = self.request_reset()
        uid, token = self.uid_and_token(message)

        user = account_services.password_reset_confirm(
            uid=uid, token=token, new_password=NEW_PASSWORD, by=None
        )

        self.assertEqual(user, self.user)
        user.refresh_from_db()
        self.assertTrue(user.check_password(NEW_PASSWORD))
        self.assertFalse(user.check_password(PASSWORD))

    def test_the_link_in_both_bodies_carries_the_same_uid_and_token(self):
        message = self.request_reset()
        uid, token = self.uid_and_token(message)

        link = f"?uid={uid}&token={token}"
        self.assertIn(link, message.body)
        content, mimetype = message.alternatives[0]
        self.assertEqual(mimetype, "text/html")
        self.assertIn(f"?uid={uid}&amp;token={token}", content)

    def test_no_token_is_stored_in_the_outbox_row(self):
        message = self.request_reset()
        uid, token = self.uid_and_token(message)

        row = Notification.objects.get(user=self.user, kind=MailKind.PASSWORD_RESET)
        stored = " ".join(
            str(value) for value in Notification.objects.filter(pk=row.pk).values().get().values()
        )
        self.assertNotIn(token, stored)
        self.assertEqual(row.data, {})
        self.assertEqual(row.subject, "Reset your Studio password")

    def test_a_used_token_does_not_set_a_password_twice(self):
        message = self.request_reset()
        uid, token = self.uid_and_token(message)
        account_services.password_reset_confirm(
            uid=uid, token=token, new_password=NEW_PASSWORD, by=None
        )

        with self.assertRaises(ValidationFailedError) as raised:
            account_services.password_reset_confirm(
                uid=uid, token=token, new_password="another-Word-789", by=None
            )

        self.assertEqual(getattr(raised.exception, "code", None), "invalid")
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password(NEW_PASSWORD))
