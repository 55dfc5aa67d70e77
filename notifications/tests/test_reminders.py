"""Reminders (API.md section 8): `STUDIO_REMINDER_MINUTES` before a
confirmed booking's slot starts, not before that moment, once, and not for
a booking confirmed inside that window or cancelled since; across daylight
saving changes, that many real minutes before the start."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core import mail
from django.test import TestCase, override_settings
from django.utils.timezone import now

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import make_slot
from core import timezones
from core.signals import MailKind
from notifications.delivery import notification_deliver
from notifications.models import Notification, NotificationStatus
from notifications.outbox import reminders_due, reminders_queue
from sessions_app.models import TimeSlot

NEW_YORK = ZoneInfo("America/New_York")
LEAD = timedelta(minutes=60)
SECOND = timedelta(seconds=1)


def book(slot: TimeSlot, client=None, *, confirmed_at: datetime | None = None) -> Booking:
    """A confirmed booking of `slot` made through the service; its
    `confirmed_at` then set to when the test says it got its seat."""
    booking = services.booking_create(
        client=client or ClientFactory(), time_slot_id=slot.pk, by=None
    )
    if confirmed_at is not None:
        Booking.objects.filter(pk=booking.pk).update(confirmed_at=confirmed_at)
        booking.confirmed_at = confirmed_at
    slot.refresh_from_db()
    return booking


def reminders() -> list[tuple[int, int]]:
    """(user, booking) of every reminder row."""
    return list(
        Notification.objects.filter(kind=MailKind.REMINDER)
        .order_by("pk")
        .values_list("user_id", "booking_id")
    )


def transition_day(year: int, month: int, zone: ZoneInfo) -> date:
    """The day of `month` on which `zone`'s offset at noon changes."""
    day = date(year, month, 1)
    while day.month == month:
        before = datetime(day.year, day.month, day.day, 0, 0, tzinfo=zone).utcoffset()
        after = datetime(day.year, day.month, day.day, 12, 0, tzinfo=zone).utcoffset()
        if before != after:
            return day
        day += timedelta(days=1)
    raise AssertionError(f"{zone.key} changes no offset in {year}-{month:02}")


def wall(day: date, hour: int, minute: int = 0, *, fold: int = 0) -> datetime:
    """The instant, in UTC, of `hour:minute` on New York's clocks on `day` (the
    later of two with `fold=1`). In UTC, since subtracting from a datetime in
    New York's zone would count wall-clock minutes, not real ones."""
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK, fold=fold)
    return local.astimezone(UTC)


def day_text(instant: datetime) -> str:
    local = instant.astimezone(NEW_YORK)
    return f"{local:%a} {local.day} {local:%b %Y}"


class ReminderTestCase(TestCase):
    def setUp(self):
        self.start = (now() + timedelta(days=3)).replace(microsecond=0)
        self.slot = make_slot(start=self.start)
        self.due = self.start - LEAD
        self.booking = book(self.slot, confirmed_at=now())

    def assert_reminded(self, *bookings: Booking) -> None:
        self.assertEqual(reminders(), [(b.client_id, b.pk) for b in bookings])


class ReminderTimingTests(ReminderTestCase):
    def test_nothing_is_written_before_the_lead_begins(self):
        for at in (now(), self.due - timedelta(hours=1), self.due - SECOND):
            self.assertEqual(reminders_queue(at=at), 0)

        self.assert_reminded()

    def test_the_reminder_is_written_at_the_moment_the_lead_begins(self):
        self.assertEqual(reminders_queue(at=self.due), 1)

        self.assert_reminded(self.booking)
        row = Notification.objects.get(kind=MailKind.REMINDER)
        self.assertEqual(row.status, NotificationStatus.PENDING)
        self.assertEqual(row.next_attempt_at, self.due)
        self.assertTrue(row.subject.startswith("Reminder: Morning Yoga, "), row.subject)

    def test_a_scan_within_a_minute_after_the_moment_writes_it(self):
        self.assertEqual(reminders_queue(at=self.due + timedelta(seconds=59)), 1)

        self.assert_reminded(self.booking)

    def test_a_scan_any_time_before_the_start_writes_it(self):
        self.assertEqual(reminders_queue(at=self.start - SECOND), 1)

        self.assert_reminded(self.booking)

    def test_no_reminder_is_written_once_the_slot_has_started(self):
        self.assertEqual(reminders_queue(at=self.start), 0)
        self.assertEqual(reminders_queue(at=self.start + timedelta(minutes=5)), 0)

        self.assert_reminded()

    def test_running_the_scan_again_writes_nothing_more(self):
        self.assertEqual(reminders_queue(at=self.due), 1)

        self.assertEqual(reminders_queue(at=self.due), 0)
        self.assertEqual(reminders_queue(at=self.due + timedelta(minutes=1)), 0)
        self.assertEqual(reminders_queue(at=self.start - SECOND), 0)

        self.assert_reminded(self.booking)

    def test_a_reminder_sent_is_not_written_again(self):
        reminders_queue(at=self.due)
        row = Notification.objects.get(kind=MailKind.REMINDER)
        self.assertEqual(notification_deliver(row.pk, at=self.due), "sent")

        self.assertEqual(reminders_queue(at=self.due + timedelta(minutes=1)), 0)

        self.assert_reminded(self.booking)
        self.assertEqual(len(mail.outbox), 1)

    @override_settings(STUDIO_REMINDER_MINUTES=15)
    def test_the_lead_follows_the_setting(self):
        due = self.start - timedelta(minutes=15)

        self.assertEqual(reminders_queue(at=self.due), 0)
        self.assertEqual(reminders_queue(at=due - SECOND), 0)
        self.assertEqual(reminders_queue(at=due), 1)

        self.assert_reminded(self.booking)

    @override_settings(STUDIO_REMINDER_MINUTES=24 * 60)
    def test_a_longer_lead_writes_the_reminder_earlier(self):
        due = self.start - timedelta(days=1)

        self.assertEqual(reminders_queue(at=due - SECOND), 0)
        self.assertEqual(reminders_queue(at=due), 1)

        self.assert_reminded(self.booking)


class ReminderDeliveryTests(ReminderTestCase):
    def queued(self) -> Notification:
        self.assertEqual(reminders_queue(at=self.due), 1)
        return Notification.objects.get(kind=MailKind.REMINDER)

    def test_a_reminder_is_delivered_as_a_reminder_mail(self):
        row = self.queued()

        self.assertEqual(notification_deliver(row.pk, at=self.due), "sent")

        self.assertEqual(len(mail.outbox), 1)
        message = mail.outbox[0]
        self.assertEqual(message.to, [self.booking.client.email])
        self.assertTrue(message.subject.startswith("Reminder: Morning Yoga, "), message.subject)
        self.assertEqual(message.subject, row.subject)
        self.assertIn("starts soon", message.body)
        row.refresh_from_db()
        self.assertEqual(row.status, NotificationStatus.SENT)

    def test_the_scan_hands_the_reminders_to_a_worker_after_its_commit(self):
        start = now() + timedelta(minutes=30)
        booking = book(make_slot(start=start), confirmed_at=now() - timedelta(days=1))

        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            self.assertEqual(reminders_queue(), 1)
        self.assertEqual(mail.outbox, [])
        for callback in callbacks:
            callback()

        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, [booking.client.email])
        self.assertTrue(mail.outbox[0].subject.startswith("Reminder: "))
        row = Notification.objects.get(booking=booking, kind=MailKind.REMINDER)
        self.assertEqual(row.status, NotificationStatus.SENT)

    def test_a_reminder_is_dropped_if_the_client_turns_reminders_off_before_it_is_sent(self):
        row = self.queued()
        self.booking.client.email_reminders = False
        self.booking.client.save(update_fields=["email_reminders"])

        self.assertEqual(notification_deliver(row.pk, at=self.due), "dropped")

        self.assertFalse(Notification.objects.filter(pk=row.pk).exists())
        self.assertEqual(mail.outbox, [])

    def test_a_reminder_is_dropped_if_the_booking_is_cancelled_before_it_is_sent(self):
        row = self.queued()
        services.booking_cancel(booking=self.booking, by=None)
        self.assertEqual(Booking.objects.get(pk=self.booking.pk).status, BookingStatus.CANCELLED)

        self.assertEqual(notification_deliver(row.pk, at=self.due), "dropped")

        self.assertFalse(Notification.objects.filter(pk=row.pk).exists())
        self.assertEqual(mail.outbox, [])

    def test_a_reminder_is_dropped_if_the_studio_cancels_the_slot_before_it_is_sent(self):
        row = self.queued()
        services.time_slot_cancel(time_slot=self.slot, by=None)

        self.assertEqual(notification_deliver(row.pk, at=self.due), "dropped")

        self.assertFalse(Notification.objects.filter(pk=row.pk).exists())
        self.assertEqual(mail.outbox, [])


class WhoIsRemindedTests(ReminderTestCase):
    def test_a_booking_made_inside_the_window_gets_no_reminder(self):
        late = book(self.slot, confirmed_at=self.due + SECOND)
        on_time = book(self.slot, confirmed_at=self.due)

        self.assertEqual(reminders_queue(at=self.start - timedelta(minutes=10)), 2)

        self.assert_reminded(self.booking, on_time)
        self.assertFalse(Notification.objects.filter(booking=late, kind=MailKind.REMINDER))

    def test_a_booking_promoted_inside_the_window_gets_no_reminder(self):
        start = now() + timedelta(minutes=30)
        slot = make_slot(start=start, capacity=1)
        leaving = book(slot, confirmed_at=start - timedelta(days=1))
        waiting = services.booking_create(
            client=ClientFactory(), time_slot_id=slot.pk, waitlist=True, by=None
        )
        services.booking_cancel(booking=leaving, by=None)
        promoted = Booking.objects.get(pk=waiting.pk)
        self.assertEqual(promoted.status, BookingStatus.CONFIRMED)
        self.assertGreater(promoted.confirmed_at, start - LEAD)

        self.assertEqual(reminders_queue(at=start - timedelta(minutes=10)), 0)

        self.assertFalse(Notification.objects.filter(booking__time_slot=slot, kind="reminder"))

    def test_a_booking_promoted_before_the_window_gets_its_reminder(self):
        slot = make_slot(start=self.start + timedelta(hours=2), capacity=1)
        leaving = book(slot)
        waiting = services.booking_create(
            client=ClientFactory(), time_slot_id=slot.pk, waitlist=True, by=None
        )
        services.booking_cancel(booking=leaving, by=None)
        promoted = Booking.objects.get(pk=waiting.pk)
        self.assertEqual(promoted.status, BookingStatus.CONFIRMED)
        self.assertLess(promoted.confirmed_at, slot.start - LEAD)

        self.assertEqual(reminders_queue(at=slot.start - LEAD), 1)

        self.assert_reminded(promoted)

    def test_a_waiting_booking_gets_no_reminder(self):
        slot = make_slot(start=self.start, capacity=1)
        book(slot, confirmed_at=now())
        waiting = services.booking_create(
            client=ClientFactory(), time_slot_id=slot.pk, waitlist=True, by=None
        )

        self.assertEqual(reminders_queue(at=self.due), 2)

        self.assertEqual(Booking.objects.get(pk=waiting.pk).status, BookingStatus.WAITLISTED)
        self.assertFalse(Notification.objects.filter(booking=waiting, kind=MailKind.REMINDER))

    def test_a_cancelled_booking_gets_no_reminder(self):
        services.booking_cancel(booking=self.booking, by=None)

        self.assertEqual(reminders_queue(at=self.due), 0)

        self.assert_reminded()

    def test_a_slot_the_studio_cancelled_gets_no_reminder(self):
        services.time_slot_cancel(time_slot=self.slot, by=None)

        self.assertEqual(reminders_queue(at=self.due), 0)

        self.assert_reminded()

    def test_a_client_with_reminders_off_gets_none(self):
        quiet = ClientFactory(email_reminders=False)
        book(self.slot, quiet, confirmed_at=now())

        self.assertEqual(reminders_queue(at=self.due), 1)

        self.assert_reminded(self.booking)

    def test_only_the_slots_starting_within_the_lead_are_reminded(self):
        later = book(make_slot(start=self.start + LEAD + SECOND), confirmed_at=now())

        self.assertEqual(reminders_queue(at=self.due), 1)
        self.assert_reminded(self.booking)

        self.assertEqual(reminders_queue(at=self.due + LEAD + SECOND), 1)
        self.assert_reminded(self.booking, later)

    def test_reminders_due_lists_what_the_scan_would_write_and_not_what_it_wrote(self):
        book(self.slot, ClientFactory(email_reminders=False), confirmed_at=now())
        book(self.slot, confirmed_at=self.due + SECOND)

        self.assertEqual(list(reminders_due(self.due)), [self.booking])
        reminders_queue(at=self.due)

        self.assertEqual(list(reminders_due(self.due)), [])


class DaylightSavingTests(TestCase):
    """New York's clocks jump from 02:00 EST to 03:00 EDT on a Sunday in
    March and back from 02:00 EDT to 01:00 EST on a Sunday in November;
    the days are those of next year (2027-03-14 and 2027-11-07 when written)."""

    def setUp(self):
        year = now().year + 1
        self.spring = transition_day(year, 3, NEW_YORK)
        self.autumn = transition_day(year, 11, NEW_YORK)
        self.client_ = ClientFactory(timezone="America/New_York")

    def booked(self, start: datetime, client=None) -> Booking:
        slot = make_slot(start=start)
        return book(slot, client or self.client_, confirmed_at=now())

    def assert_due_at(self, booking: Booking, due: datetime) -> Notification:
        """Nothing a second before `due`, the reminder at `due`."""
        self.assertEqual(reminders_queue(at=due - SECOND), 0)
        self.assertFalse(Notification.objects.filter(booking=booking, kind="reminder"))
        self.assertEqual(reminders_queue(at=due), 1)
        return Notification.objects.get(booking=booking, kind=MailKind.REMINDER)

    def assert_subject(self, row: Notification, start: datetime, clock: str) -> None:
        expected = f"Reminder: Morning Yoga, {day_text(start)}, {clock} (America/New_York)"
        self.assertEqual(row.subject, expected)
        self.assertEqual(notification_deliver(row.pk, at=row.next_attempt_at), "sent")
        self.assertEqual(mail.outbox[-1].subject, expected)

    def test_the_transition_days_are_sundays_with_the_expected_changes(self):
        self.assertEqual((self.spring.weekday(), self.autumn.weekday()), (6, 6))
        for day, hour, hours in [
            (self.spring, 1, -5),
            (self.spring, 9, -4),
            (self.autumn, 0, -4),
            (self.autumn, 9, -5),
        ]:
            offset = wall(day, hour).astimezone(NEW_YORK).utcoffset()
            self.assertEqual(offset, timedelta(hours=hours), (day, hour))

    def test_spring_forward_at_nine_the_reminder_is_sixty_real_minutes_before_in_edt(self):
        start = wall(self.spring, 9)
        booking = self.booked(start)

        row = self.assert_due_at(booking, start - LEAD)

        self.assertEqual(start.astimezone(UTC).hour, 13)
        self.assert_subject(row, start, "09:00 EDT")

    def test_spring_forward_across_the_jump_the_reminder_is_sixty_real_minutes_before(self):
        # 03:00 EDT is 07:00 UTC; sixty minutes before is 01:00 EST, two hours
        # earlier on the wall clock.
        start = wall(self.spring, 3)
        booking = self.booked(start)

        row = self.assert_due_at(booking, start - LEAD)

        self.assertEqual(
            start.astimezone(UTC), datetime(self.spring.year, 3, self.spring.day, 7, tzinfo=UTC)
        )
        self.assertEqual(f"{(start - LEAD).astimezone(NEW_YORK):%H:%M %Z}", "01:00 EST")
        self.assert_subject(row, start, "03:00 EDT")

    def test_the_day_before_spring_forward_shows_est(self):
        start = wall(self.spring - timedelta(days=1), 9)
        booking = self.booked(start)

        row = self.assert_due_at(booking, start - LEAD)

        self.assertEqual(start.astimezone(UTC).hour, 14)
        self.assert_subject(row, start, "09:00 EST")

    def test_fall_back_at_nine_the_reminder_is_sixty_real_minutes_before_in_est(self):
        start = wall(self.autumn, 9)
        booking = self.booked(start)

        row = self.assert_due_at(booking, start - LEAD)

        self.assertEqual(start.astimezone(UTC).hour, 14)
        self.assert_subject(row, start, "09:00 EST")

    def test_fall_back_in_the_repeated_hour_the_reminder_is_sixty_real_minutes_before(self):
        # The second 01:30 (EST) is 06:30 UTC; sixty minutes before is the
        # first 01:30 (EDT), the same time on the wall clock.
        start = wall(self.autumn, 1, 30, fold=1)
        first = wall(self.autumn, 1, 30, fold=0)
        self.assertEqual(start - first, LEAD)
        late, early = (
            self.booked(start),
            self.booked(first, ClientFactory(timezone="America/New_York")),
        )

        self.assertEqual(reminders_queue(at=first - LEAD - SECOND), 0)
        self.assertEqual(reminders_queue(at=first - LEAD), 1)
        row = self.assert_due_at(late, first)

        self.assert_subject(row, start, "01:30 EST")
        early_row = Notification.objects.get(booking=early, kind=MailKind.REMINDER)
        self.assertTrue(
            early_row.subject.endswith("01:30 EDT (America/New_York)"), early_row.subject
        )

    def test_the_day_before_fall_back_shows_edt(self):
        start = wall(self.autumn - timedelta(days=1), 9)
        booking = self.booked(start)

        row = self.assert_due_at(booking, start - LEAD)

        self.assertEqual(start.astimezone(UTC).hour, 13)
        self.assert_subject(row, start, "09:00 EDT")

    @override_settings(TIME_ZONE="America/New_York")
    def test_with_the_studio_in_new_york_a_slot_read_in_studio_time_is_reminded_on_time(self):
        local = timezones.read_naive(datetime.combine(self.spring, time(9)))
        self.assertEqual(local.utcoffset(), timedelta(hours=-4))
        start = local.astimezone(UTC)
        studio_client = ClientFactory()
        self.assertEqual(studio_client.timezone, "America/New_York")
        kolkata = ClientFactory(timezone="Asia/Kolkata")
        booking = self.booked(start, studio_client)
        other = book(booking.time_slot, kolkata, confirmed_at=now())

        self.assertEqual(reminders_queue(at=start - LEAD - SECOND), 0)
        self.assertEqual(reminders_queue(at=start - LEAD), 2)

        row = Notification.objects.get(booking=booking, kind=MailKind.REMINDER)
        self.assertEqual(
            row.subject, f"Reminder: Morning Yoga, {day_text(start)}, 09:00 EDT (America/New_York)"
        )
        in_kolkata = start.astimezone(ZoneInfo("Asia/Kolkata"))
        self.assertEqual(
            Notification.objects.get(booking=other, kind=MailKind.REMINDER).subject,
            f"Reminder: Morning Yoga, {in_kolkata:%a} {in_kolkata.day} {in_kolkata:%b %Y}, "
            "18:30 IST (Asia/Kolkata)",
        )

    @override_settings(TIME_ZONE="America/New_York")
    def test_with_the_studio_in_new_york_autumn_times_read_in_studio_time_show_est(self):
        start = timezones.read_naive(datetime.combine(self.autumn, time(9))).astimezone(UTC)
        booking = self.booked(start, ClientFactory())

        row = self.assert_due_at(booking, start - LEAD)

        self.assertEqual(start.astimezone(UTC).hour, 14)
        self.assert_subject(row, start, "09:00 EST")
