"""The outbox rows (API.md section 8): each is written by the change that
causes it, in that change's transaction, and mailed only after it commits."""

from datetime import timedelta

from django.core import mail
from django.db import IntegrityError, transaction
from django.test import TestCase
from django.utils.timezone import now

from accounts import services as account_services
from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import make_slot
from core.errors import SlotFullError
from core.signals import MailKind
from notifications import delivery, outbox
from notifications.models import Notification, NotificationStatus
from sessions_app.models import TimeSlot


class Rollback(Exception):
    """Raised to roll back a transaction on purpose."""


def book(slot: TimeSlot, client=None) -> Booking:
    booking = services.booking_create(
        client=client or ClientFactory(), time_slot_id=slot.pk, by=None
    )
    slot.refresh_from_db()
    return booking


def join(slot: TimeSlot, client=None) -> Booking:
    """`client` (a new one when none is given) joins the waitlist of the full `slot`."""
    booking = services.booking_create(
        client=client or ClientFactory(), time_slot_id=slot.pk, waitlist=True, by=None
    )
    slot.refresh_from_db()
    return booking


def cancel(booking: Booking) -> Booking:
    """The client cancels `booking`, as read afresh (a rolled-back cancel
    leaves the object it was given cancelled)."""
    return services.booking_cancel(booking=Booking.objects.get(pk=booking.pk), by=None)


def rows(**filters) -> list[tuple]:
    """(user, booking, kind) of the outbox rows, in id order."""
    return list(
        Notification.objects.filter(**filters)
        .order_by("pk")
        .values_list("user_id", "booking_id", "kind")
    )


class OutboxTestCase(TestCase):
    def assert_written_with(self, change, kind: str, count: int = 1) -> list[Notification]:
        """`change()` writes `count` rows of `kind` before its transaction
        commits (no on_commit callback has run), and rolling back the
        transaction around it takes them away with the change itself."""
        before = Notification.objects.filter(kind=kind).count()
        bookings_before = list(Booking.objects.order_by("pk").values_list("pk", "status"))
        with self.assertRaises(Rollback), transaction.atomic():
            with self.captureOnCommitCallbacks(execute=False):
                change()
            self.assertEqual(Notification.objects.filter(kind=kind).count(), before + count)
            raise Rollback
        self.assertEqual(Notification.objects.filter(kind=kind).count(), before)
        self.assertEqual(
            list(Booking.objects.order_by("pk").values_list("pk", "status")), bookings_before
        )
        self.assertEqual(mail.outbox, [])
        with self.captureOnCommitCallbacks(execute=True):
            change()
        written = list(Notification.objects.filter(kind=kind).order_by("pk")[before:])
        self.assertEqual(len(written), count)
        return written


class BookingOutboxTests(OutboxTestCase):
    def test_booking_a_seat_writes_booking_confirmed_in_its_transaction(self):
        slot = make_slot(capacity=3)
        client = ClientFactory()

        (row,) = self.assert_written_with(lambda: book(slot, client), MailKind.BOOKING_CONFIRMED)

        booking = Booking.objects.get(client=client, time_slot=slot)
        self.assertEqual((row.user_id, row.booking_id), (client.pk, booking.pk))
        self.assertEqual(row.status, NotificationStatus.SENT)
        self.assertEqual(rows(), [(client.pk, booking.pk, MailKind.BOOKING_CONFIRMED)])

    def test_joining_a_waitlist_writes_waitlist_joined_with_the_position(self):
        slot = make_slot(capacity=1)
        book(slot)
        first = join(slot)
        client = ClientFactory()

        (row,) = self.assert_written_with(lambda: join(slot, client), MailKind.WAITLIST_JOINED)

        booking = Booking.objects.get(client=client, time_slot=slot)
        self.assertEqual(booking.status, BookingStatus.WAITLISTED)
        self.assertEqual((row.user_id, row.booking_id), (client.pk, booking.pk))
        self.assertEqual(row.data, {"position": 2})
        self.assertEqual(
            Notification.objects.get(booking=first, kind=MailKind.WAITLIST_JOINED).data,
            {"position": 1},
        )
        self.assertFalse(Notification.objects.filter(booking=booking, kind="booking_confirmed"))

    def test_cancelling_early_writes_booking_cancelled_not_late(self):
        slot = make_slot(start=now() + timedelta(days=2))
        booking = book(slot)

        (row,) = self.assert_written_with(lambda: cancel(booking), MailKind.BOOKING_CANCELLED)

        self.assertEqual((row.user_id, row.booking_id), (booking.client_id, booking.pk))
        self.assertIs(row.data["late"], False)
        self.assertEqual(Booking.objects.get(pk=booking.pk).status, BookingStatus.CANCELLED)

    def test_cancelling_late_writes_booking_cancelled_marked_late(self):
        slot = make_slot(start=now() + timedelta(hours=2))
        booking = book(slot)

        (row,) = self.assert_written_with(lambda: cancel(booking), MailKind.BOOKING_CANCELLED)

        self.assertIs(row.data["late"], True)
        self.assertTrue(Booking.objects.get(pk=booking.pk).late)

    def test_a_promotion_after_a_cancel_writes_booking_confirmed_for_the_promoted(self):
        slot = make_slot(capacity=1)
        leaving = book(slot)
        waiting = join(slot)

        (row,) = self.assert_written_with(lambda: cancel(leaving), MailKind.BOOKING_CONFIRMED)

        self.assertEqual((row.user_id, row.booking_id), (waiting.client_id, waiting.pk))
        self.assertEqual(Booking.objects.get(pk=waiting.pk).status, BookingStatus.CONFIRMED)
        self.assertEqual(
            rows(booking=leaving),
            [
                (leaving.client_id, leaving.pk, MailKind.BOOKING_CONFIRMED),
                (leaving.client_id, leaving.pk, MailKind.BOOKING_CANCELLED),
            ],
        )

    def test_a_studio_cancel_writes_slot_cancelled_to_every_holder_waiters_included(self):
        slot = make_slot(capacity=2)
        seated = [book(slot), book(slot)]
        waiter = join(slot)
        gone = book(make_slot(capacity=1))
        services.booking_cancel(booking=gone, by=None)
        earlier = book(make_slot())
        services.booking_cancel(booking=earlier, by=None)
        other_slot_booking = book(make_slot())

        written = self.assert_written_with(
            lambda: services.time_slot_cancel(time_slot=slot, by=None),
            MailKind.SLOT_CANCELLED,
            count=3,
        )

        self.assertEqual(
            sorted((row.user_id, row.booking_id) for row in written),
            sorted((b.client_id, b.pk) for b in [*seated, waiter]),
        )
        self.assertFalse(
            Notification.objects.filter(
                booking__in=[gone, earlier, other_slot_booking], kind=MailKind.SLOT_CANCELLED
            )
        )

    def test_a_slot_cancelled_a_second_time_writes_nothing_more(self):
        slot = make_slot()
        book(slot)
        services.time_slot_cancel(time_slot=slot, by=None)

        services.time_slot_cancel(time_slot=slot, by=None)

        self.assertEqual(Notification.objects.filter(kind=MailKind.SLOT_CANCELLED).count(), 1)


class PasswordResetOutboxTests(OutboxTestCase):
    def test_a_reset_request_writes_a_password_reset_row_without_a_booking(self):
        user = ClientFactory(email="ana@example.com")

        (row,) = self.assert_written_with(
            lambda: account_services.password_reset_request(email="ana@example.com"),
            MailKind.PASSWORD_RESET,
        )

        self.assertEqual(row.user_id, user.pk)
        self.assertIsNone(row.booking_id)
        self.assertEqual(row.status, NotificationStatus.SENT)
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, ["ana@example.com"])

    def test_a_reset_request_for_an_unknown_email_writes_nothing(self):
        ClientFactory(email="ana@example.com")

        with self.captureOnCommitCallbacks(execute=True):
            account_services.password_reset_request(email="nobody@example.com")

        self.assertEqual(rows(), [])
        self.assertEqual(mail.outbox, [])

    def test_two_reset_requests_write_two_rows(self):
        # The constraint on (booking, kind) binds only rows with a booking.
        ClientFactory(email="ana@example.com")

        with self.captureOnCommitCallbacks(execute=True):
            account_services.password_reset_request(email="ana@example.com")
            account_services.password_reset_request(email="ana@example.com")

        self.assertEqual(Notification.objects.filter(kind=MailKind.PASSWORD_RESET).count(), 2)
        self.assertEqual(len(mail.outbox), 2)


class NothingWrittenTests(TestCase):
    def test_a_refused_booking_writes_no_row_and_sends_no_mail(self):
        slot = make_slot(capacity=1)
        with self.captureOnCommitCallbacks(execute=True):
            book(slot)
        mail.outbox.clear()
        before = rows()

        with (
            self.captureOnCommitCallbacks(execute=True) as callbacks,
            self.assertRaises(SlotFullError),
        ):
            services.booking_create(client=ClientFactory(), time_slot_id=slot.pk, by=None)

        self.assertEqual(rows(), before)
        self.assertEqual(callbacks, [])
        self.assertEqual(mail.outbox, [])

    def test_a_rolled_back_transaction_writes_no_row_and_sends_no_mail(self):
        slot = make_slot(capacity=1)
        client = ClientFactory()

        with (
            self.captureOnCommitCallbacks(execute=True) as callbacks,
            self.assertRaises(Rollback),
            transaction.atomic(),
        ):
            book(slot, client)
            book(make_slot(title="Spin"), ClientFactory())
            raise Rollback

        self.assertEqual(callbacks, [])
        self.assertEqual(rows(), [])
        self.assertFalse(Booking.objects.filter(client=client))
        self.assertEqual(mail.outbox, [])

    def test_a_rolled_back_reset_request_writes_no_row_and_sends_no_mail(self):
        ClientFactory(email="ana@example.com")

        with (
            self.captureOnCommitCallbacks(execute=True) as callbacks,
            self.assertRaises(Rollback),
            transaction.atomic(),
        ):
            account_services.password_reset_request(email="ana@example.com")
            raise Rollback

        self.assertEqual(callbacks, [])
        self.assertEqual(rows(), [])
        self.assertEqual(mail.outbox, [])


class AfterCommitTests(TestCase):
    def test_no_mail_is_sent_before_the_commit(self):
        slot = make_slot()

        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            booking = book(slot)

        row = Notification.objects.get(booking=booking)
        self.assertEqual(row.status, NotificationStatus.PENDING)
        self.assertIsNone(row.sent_at)
        self.assertEqual(mail.outbox, [])
        self.assertTrue(callbacks)

        for callback in callbacks:  # the commit's: the mail's delivery among them
            callback()

        self.assertEqual(len(mail.outbox), 1)
        self.assertTrue(mail.outbox[0].subject.startswith("Booked: "))
        row.refresh_from_db()
        self.assertEqual(row.status, NotificationStatus.SENT)
        self.assertIsNotNone(row.sent_at)
        self.assertEqual(row.attempts, 1)

    def test_each_change_mails_once_after_its_commit(self):
        slot = make_slot(capacity=1)

        with self.captureOnCommitCallbacks(execute=True):
            seated = book(slot)
            join(slot)
        with self.captureOnCommitCallbacks(execute=True):
            services.booking_cancel(booking=seated, by=None)

        subjects = sorted(message.subject.split(":")[0] for message in mail.outbox)
        self.assertEqual(subjects, ["Booked", "Booked", "Cancelled", "Waitlist, number 1"])
        self.assertEqual(
            set(Notification.objects.values_list("status", flat=True)), {NotificationStatus.SENT}
        )


class ConstraintTests(TestCase):
    def test_a_second_row_of_one_kind_for_one_booking_is_refused_by_the_database(self):
        booking = book(make_slot())
        first = Notification.objects.get(booking=booking, kind=MailKind.BOOKING_CONFIRMED)

        with self.assertRaises(IntegrityError), transaction.atomic():
            Notification.objects.create(
                user=booking.client, booking=booking, kind=MailKind.BOOKING_CONFIRMED, subject="x"
            )

        self.assertEqual(list(Notification.objects.filter(booking=booking)), [first])

    def test_a_second_row_is_refused_even_by_a_bulk_insert(self):
        booking = book(make_slot())
        row = Notification(
            user=booking.client, booking=booking, kind=MailKind.BOOKING_CONFIRMED, subject="x"
        )

        with self.assertRaises(IntegrityError), transaction.atomic():
            Notification.objects.bulk_create([row])

        self.assertEqual(Notification.objects.filter(booking=booking).count(), 1)

    def test_rows_of_other_kinds_for_the_same_booking_are_allowed(self):
        booking = book(make_slot())

        Notification.objects.create(
            user=booking.client, booking=booking, kind=MailKind.REMINDER, subject="x"
        )

        self.assertEqual(Notification.objects.filter(booking=booking).count(), 2)


class PendingReminderTests(TestCase):
    def reminded(self) -> tuple[Booking, Notification]:
        """A booking made before the lead, its slot starting in 30 minutes,
        with its reminder written and not yet sent."""
        slot = make_slot(start=now() + timedelta(minutes=30))
        booking = book(slot)
        Booking.objects.filter(pk=booking.pk).update(confirmed_at=now() - timedelta(days=1))
        with self.captureOnCommitCallbacks(execute=False):
            self.assertEqual(outbox.reminders_queue(), 1)
        reminder = Notification.objects.get(booking=booking, kind=MailKind.REMINDER)
        self.assertEqual(reminder.status, NotificationStatus.PENDING)
        return booking, reminder

    def test_cancelling_a_booking_deletes_its_pending_reminder(self):
        booking, reminder = self.reminded()

        with self.captureOnCommitCallbacks(execute=True):
            services.booking_cancel(booking=booking, by=None)

        self.assertFalse(Notification.objects.filter(pk=reminder.pk).exists())
        self.assertEqual([m.subject.split(":")[0] for m in mail.outbox], ["Cancelled"])

    def test_the_studio_cancelling_the_slot_deletes_the_pending_reminders(self):
        booking, reminder = self.reminded()

        with self.captureOnCommitCallbacks(execute=True):
            services.time_slot_cancel(time_slot=booking.time_slot, by=None)

        self.assertFalse(Notification.objects.filter(pk=reminder.pk).exists())
        self.assertEqual([m.subject.split(":")[0] for m in mail.outbox], ["Class cancelled"])

    def test_cancelling_keeps_a_reminder_already_sent(self):
        booking, reminder = self.reminded()
        self.assertEqual(delivery.notification_deliver(reminder.pk), "sent")

        with self.captureOnCommitCallbacks(execute=True):
            services.booking_cancel(booking=booking, by=None)

        reminder.refresh_from_db()
        self.assertEqual(reminder.status, NotificationStatus.SENT)
