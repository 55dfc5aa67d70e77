"""Delivering one outbox row: claimed by one worker, sent once, retried with
growing delays while the mail backend fails, failed when the tries run out.

Every try is made at an explicit moment `at`, in the past, so the resend
sweep (which hands rows to the eager task, run at the real now) sees them due
exactly when the test says.
"""

import unittest
from datetime import timedelta

from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test import TestCase, TransactionTestCase, override_settings
from django.utils.timezone import now

from accounts.tests.factories import ClientFactory
from bookings.tests.factories import book, make_slot
from core.signals import MailKind
from notifications import delivery
from notifications.delivery import MAX_ATTEMPTS, RETRY_DELAYS
from notifications.models import Notification, NotificationStatus
from testing.races import race

FAILING_BACKEND = "notifications.tests.test_delivery.FailingBackend"


class FailingBackend(BaseEmailBackend):
    """A mail backend whose server is never there; counts the sends tried."""

    tries = 0

    def send_messages(self, email_messages):
        FailingBackend.tries += 1
        raise ConnectionRefusedError(111, "Connection refused")


def confirmation(client=None) -> Notification:
    """The pending confirmation of a new booking, not handed to a worker (the
    TestCase's transaction never commits)."""
    booking = book(make_slot(), client or ClientFactory())
    return Notification.objects.get(booking=booking, kind=MailKind.BOOKING_CONFIRMED)


def due_at(notification: Notification, at) -> Notification:
    """Makes `notification` due from `at` on, as if written then."""
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=at, created_at=at)
    notification.refresh_from_db()
    return notification


def sent_to(address: str) -> int:
    return sum(1 for message in mail.outbox if message.to == [address])


class DeliverTests(TestCase):
    def setUp(self):
        FailingBackend.tries = 0
        self.start = now() - timedelta(hours=4)
        self.row = due_at(confirmation(), self.start)
        self.email = self.row.user.email

    def test_a_due_pending_row_is_sent_once_and_recorded_sent(self):
        before = now()

        result = delivery.notification_deliver(self.row.pk, at=self.start)

        self.assertEqual(result, "sent")
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, [self.email])
        self.assertEqual(mail.outbox[0].subject, self.row.subject)
        self.row.refresh_from_db()
        self.assertEqual(self.row.status, NotificationStatus.SENT)
        self.assertEqual(self.row.attempts, 1)
        self.assertEqual(self.row.last_error, "")
        self.assertIsNotNone(self.row.sent_at)
        self.assertGreaterEqual(self.row.sent_at, before)
        self.assertLessEqual(self.row.sent_at, now())

    def test_delivering_a_sent_row_again_is_skipped_and_sends_nothing(self):
        delivery.notification_deliver(self.row.pk, at=self.start)
        self.row.refresh_from_db()
        sent_at = self.row.sent_at

        results = [
            delivery.notification_deliver(self.row.pk, at=self.start),
            delivery.notification_deliver(self.row.pk, at=self.start + timedelta(days=1)),
            delivery.notification_deliver(self.row.pk),
        ]

        self.assertEqual(results, ["skipped"] * 3)
        self.assertEqual(len(mail.outbox), 1)
        self.row.refresh_from_db()
        self.assertEqual(self.row.status, NotificationStatus.SENT)
        self.assertEqual(self.row.attempts, 1)
        self.assertEqual(self.row.sent_at, sent_at)

    def test_a_row_not_yet_due_is_neither_claimed_nor_sent(self):
        early = self.start - timedelta(seconds=1)

        self.assertIsNone(delivery._claim(self.row.pk, early))
        self.assertEqual(delivery.notification_deliver(self.row.pk, at=early), "skipped")

        self.assertEqual(mail.outbox, [])
        self.row.refresh_from_db()
        self.assertEqual(self.row.status, NotificationStatus.PENDING)
        self.assertEqual(self.row.attempts, 0)
        self.assertEqual(self.row.next_attempt_at, self.start)

    def test_of_two_claims_at_the_same_moment_only_the_first_gets_the_row(self):
        first = delivery._claim(self.row.pk, self.start)
        second = delivery._claim(self.row.pk, self.start)

        self.assertIsNotNone(first)
        self.assertEqual(first.pk, self.row.pk)
        self.assertIsNone(second)
        self.row.refresh_from_db()
        self.assertEqual(self.row.attempts, 1)
        self.assertEqual(self.row.next_attempt_at, self.start + RETRY_DELAYS[0])

    def test_a_worker_delivering_a_row_another_worker_holds_sends_nothing(self):
        held = delivery._claim(self.row.pk, self.start)

        result = delivery.notification_deliver(self.row.pk, at=self.start)

        self.assertIsNotNone(held)
        self.assertEqual(result, "skipped")
        self.assertEqual(mail.outbox, [])
        self.row.refresh_from_db()
        self.assertEqual(self.row.status, NotificationStatus.PENDING)
        self.assertEqual(self.row.attempts, 1)

    def test_two_deliveries_at_the_same_moment_send_one_mail(self):
        results = [
            delivery.notification_deliver(self.row.pk, at=self.start),
            delivery.notification_deliver(self.row.pk, at=self.start),
        ]

        self.assertEqual(results, ["sent", "skipped"])
        self.assertEqual(sent_to(self.email), 1)


@override_settings(EMAIL_BACKEND=FAILING_BACKEND)
class FailedTryTests(TestCase):
    def setUp(self):
        FailingBackend.tries = 0
        self.start = now() - timedelta(hours=4)
        self.row = due_at(confirmation(), self.start)

    def test_a_send_that_raises_keeps_the_row_pending_for_a_retry_within_two_minutes(self):
        with self.assertLogs("notifications.delivery", "WARNING") as logs:
            result = delivery.notification_deliver(self.row.pk, at=self.start)

        self.assertEqual(result, "retry")
        self.assertIn(f"try 1 of {MAX_ATTEMPTS}, not sent", logs.output[0])
        self.assertEqual(FailingBackend.tries, 1)
        self.assertEqual(mail.outbox, [])
        self.row.refresh_from_db()
        self.assertEqual(self.row.status, NotificationStatus.PENDING)
        self.assertEqual(self.row.attempts, 1)
        self.assertIn("ConnectionRefusedError", self.row.last_error)
        self.assertIn("Connection refused", self.row.last_error)
        self.assertIsNone(self.row.sent_at)
        self.assertGreater(self.row.next_attempt_at, self.start)
        self.assertLessEqual(self.row.next_attempt_at, self.start + timedelta(minutes=2))

    def test_the_sweep_leaves_a_failed_try_until_its_next_attempt_then_sends_it(self):
        with self.assertLogs("notifications.delivery", "WARNING"):
            delivery.notification_deliver(self.row.pk, at=self.start)
        self.row.refresh_from_db()
        retry_at = self.row.next_attempt_at

        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            early = delivery.notifications_resend_due(at=retry_at - timedelta(seconds=1))
            self.assertEqual(early, 0)
            self.assertEqual(mail.outbox, [])
            self.row.refresh_from_db()
            self.assertEqual(self.row.attempts, 1)

            due = delivery.notifications_resend_due(at=retry_at)

        self.assertEqual(due, 1)
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, [self.row.user.email])
        self.row.refresh_from_db()
        self.assertEqual(self.row.status, NotificationStatus.SENT)
        self.assertEqual(self.row.attempts, 2)
        self.assertEqual(self.row.last_error, "")

    def test_retries_go_on_for_at_least_an_hour_then_the_row_fails(self):
        tries = []
        at = self.start
        logs = self.enterContext(self.assertLogs("notifications.delivery", "WARNING"))
        while True:
            result = delivery.notification_deliver(self.row.pk, at=at)
            self.row.refresh_from_db()
            tries.append((at, result, self.row.status))
            if result != "retry":
                break
            self.assertLess(len(tries), MAX_ATTEMPTS, tries)
            # A moment before the next try, the row is still waiting for it.
            self.assertEqual(
                delivery.notification_deliver(
                    self.row.pk, at=self.row.next_attempt_at - timedelta(seconds=1)
                ),
                "skipped",
            )
            at = self.row.next_attempt_at

        self.assertEqual([result for _, result, _ in tries], ["retry"] * 7 + ["failed"])
        self.assertEqual(len(tries), MAX_ATTEMPTS)
        self.assertEqual(FailingBackend.tries, MAX_ATTEMPTS)
        self.assertEqual(len(logs.records), MAX_ATTEMPTS)
        self.assertEqual(self.row.status, NotificationStatus.FAILED)
        self.assertEqual(self.row.attempts, MAX_ATTEMPTS)
        self.assertIn("ConnectionRefusedError", self.row.last_error)
        self.assertIsNone(self.row.sent_at)
        # Still pending an hour after the first try: the row failed only at a
        # try later than that.
        hour_later = self.start + timedelta(minutes=60)
        pending_then = [a for a, _, status in tries if a <= hour_later]
        self.assertTrue(all(status == NotificationStatus.PENDING for *_, status in tries[:-1]))
        self.assertGreater(tries[-1][0], hour_later)
        self.assertGreaterEqual(len(pending_then), 2)
        self.assertEqual(mail.outbox, [])

    def test_a_failed_row_is_not_tried_again_by_the_sweep_or_deliver(self):
        Notification.objects.filter(pk=self.row.pk).update(
            status=NotificationStatus.FAILED, attempts=MAX_ATTEMPTS, last_error="gave up"
        )

        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            handed = delivery.notifications_resend_due(at=now())
            result = delivery.notification_deliver(self.row.pk, at=now())

        self.assertEqual(handed, 0)
        self.assertEqual(result, "skipped")
        self.assertEqual(mail.outbox, [])
        self.row.refresh_from_db()
        self.assertEqual(self.row.status, NotificationStatus.FAILED)
        self.assertEqual(self.row.attempts, MAX_ATTEMPTS)

    def test_a_row_with_its_tries_used_up_is_failed_when_claimed(self):
        Notification.objects.filter(pk=self.row.pk).update(attempts=MAX_ATTEMPTS)

        result = delivery.notification_deliver(self.row.pk, at=self.start)

        self.assertEqual(result, "skipped")
        self.assertEqual(FailingBackend.tries, 0)
        self.row.refresh_from_db()
        self.assertEqual(self.row.status, NotificationStatus.FAILED)


class SweepTests(TestCase):
    def setUp(self):
        self.start = now() - timedelta(hours=4)
        self.row = due_at(confirmation(), self.start)
        self.email = self.row.user.email

    def test_a_row_whose_worker_died_mid_send_is_sent_by_the_sweep_once_due_again(self):
        # A worker claimed the row, then died before sending or recording anything.
        self.assertIsNotNone(delivery._claim(self.row.pk, self.start))
        self.row.refresh_from_db()
        retry_at = self.row.next_attempt_at
        self.assertEqual(self.row.attempts, 1)

        early = delivery.notifications_resend_due(at=retry_at - timedelta(seconds=1))
        self.assertEqual(early, 0)
        self.assertEqual(mail.outbox, [])

        due = delivery.notifications_resend_due(at=retry_at)

        self.assertEqual(due, 1)
        self.assertEqual(sent_to(self.email), 1)
        self.row.refresh_from_db()
        self.assertEqual(self.row.status, NotificationStatus.SENT)
        self.assertEqual(self.row.attempts, 2)

    def test_the_sweep_sends_a_row_never_handed_to_a_worker(self):
        handed = delivery.notifications_resend_due(at=self.start)

        self.assertEqual(handed, 1)
        self.assertEqual(sent_to(self.email), 1)
        self.row.refresh_from_db()
        self.assertEqual(self.row.status, NotificationStatus.SENT)

    def test_a_sent_row_is_never_sent_again_by_the_sweep_or_deliver(self):
        delivery.notification_deliver(self.row.pk, at=self.start)
        # Even with its next attempt long past, a sent row is not due.
        Notification.objects.filter(pk=self.row.pk).update(
            next_attempt_at=self.start - timedelta(days=1)
        )

        handed = [
            delivery.notifications_resend_due(at=self.start),
            delivery.notifications_resend_due(at=now()),
            delivery.notifications_resend_due(),
        ]
        again = delivery.notification_deliver(self.row.pk, at=now())

        self.assertEqual(handed, [0, 0, 0])
        self.assertEqual(again, "skipped")
        self.assertEqual(sent_to(self.email), 1)
        self.row.refresh_from_db()
        self.assertEqual(self.row.status, NotificationStatus.SENT)
        self.assertEqual(self.row.attempts, 1)

    def test_the_sweep_hands_over_only_the_rows_due(self):
        later = due_at(confirmation(), self.start + timedelta(minutes=10))

        handed = delivery.notifications_resend_due(at=self.start + timedelta(minutes=5))

        self.assertEqual(handed, 1)
        self.assertEqual(sent_to(self.email), 1)
        self.assertEqual(sent_to(later.user.email), 0)
        later.refresh_from_db()
        self.assertEqual(later.status, NotificationStatus.PENDING)
        self.assertEqual(later.attempts, 0)


@unittest.skipUnless(
    connection.vendor == "postgresql",
    "SQLite runs one writer at a time, so two workers' claims never overlap there",
)
class ClaimRaceTests(TransactionTestCase):
    """Workers in threads, each with its own connection, deliver the same row
    at the same moment: PostgreSQL's row locks decide, one mail goes out."""

    WORKERS = 4

    def pending_row(self, at) -> Notification:
        """A pending password-reset mail written directly, so no worker has
        seen it (a booking's mail would be sent at once on commit)."""
        user = ClientFactory()
        return Notification.objects.create(
            user=user,
            kind=MailKind.PASSWORD_RESET,
            subject="Reset your password",
            created_at=at,
            next_attempt_at=at,
        )

    def test_workers_racing_for_one_row_send_it_exactly_once(self):
        at = now() - timedelta(minutes=5)
        rows = [self.pending_row(at) for _ in range(5)]

        for row in rows:
            with self.subTest(row=row.pk):

                def work(index, barrier, pk=row.pk):
                    barrier.wait()
                    return delivery.notification_deliver(pk, at=at)

                results = race(self.WORKERS, work)

                self.assertEqual(
                    sorted(map(str, results)), ["sent"] + ["skipped"] * (self.WORKERS - 1)
                )
                self.assertEqual(sent_to(row.user.email), 1)
                row.refresh_from_db()
                self.assertEqual(row.status, NotificationStatus.SENT)
                self.assertEqual(row.attempts, 1)
        self.assertEqual(len(mail.outbox), len(rows))
