"""Mail over a real SMTP connection: an aiosmtpd server on 127.0.0.1 takes
what Django's SMTP backend sends, or refuses it, or is not there at all.

A try that fails (connection refused, or a 4xx/5xx answer to DATA) keeps the
notification pending; the sweep at its next attempt time sends it once the
server takes mail again. The sweep's clock is `now` in notifications.delivery,
set to the next attempt time, since the eager task runs its try at `now`.
"""

import logging
from datetime import timedelta
from email import message_from_bytes, policy
from unittest import mock

from aiosmtpd.controller import Controller
from django.test import TestCase, override_settings
from django.utils.timezone import now

from accounts.tests.factories import ClientFactory
from bookings.tests.factories import book, make_slot
from core.signals import MailKind
from notifications import delivery
from notifications.models import Notification, NotificationStatus
from testing.processes import free_port


class Mailbox:
    """An aiosmtpd handler: keeps each message it accepts, or answers DATA
    with `refusal` (and keeps nothing) while that is set."""

    def __init__(self):
        self.envelopes = []
        self.refused = 0
        self.refusal: str | None = None

    async def handle_DATA(self, server, session, envelope):
        if self.refusal:
            self.refused += 1
            return self.refusal
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


class SmtpTestCase(TestCase):
    def setUp(self):
        # The server logs every SMTP command it reads; only its warnings are news here.
        server_log = logging.getLogger("mail.log")
        self.addCleanup(server_log.setLevel, server_log.level)
        server_log.setLevel(logging.WARNING)
        self.port = free_port()
        self.mailbox = Mailbox()
        self.server: Controller | None = None
        self.enterContext(
            override_settings(
                EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                EMAIL_HOST="127.0.0.1",
                EMAIL_PORT=self.port,
                EMAIL_HOST_USER="",
                EMAIL_HOST_PASSWORD="",
                EMAIL_USE_TLS=False,
                EMAIL_USE_SSL=False,
                EMAIL_TIMEOUT=3,
            )
        )
        self.client_user = ClientFactory(email="ana@example.com", name="Ana")
        self.slot = make_slot(title="Power Spin")

    def start_server(self) -> None:
        """Starts a fresh SMTP server on the test's port (a stopped one cannot restart)."""
        self.server = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.server.start()
        self.addCleanup(self.stop_server)

    def stop_server(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def book_and_deliver(self) -> Notification:
        """Books the slot for the client; the confirmation's first try runs on commit."""
        with self.captureOnCommitCallbacks(execute=True):
            booking = book(self.slot, self.client_user)
        return Notification.objects.get(booking=booking, kind=MailKind.BOOKING_CONFIRMED)

    def sweep_at(self, moment) -> int:
        """The resend sweep run with notifications.delivery's clock at `moment`."""
        with mock.patch("notifications.delivery.now", return_value=moment):
            return delivery.notifications_resend_due()

    def received(self) -> list:
        return [
            message_from_bytes(envelope.original_content, policy=policy.default)
            for envelope in self.mailbox.envelopes
        ]


class SmtpDeliveryTests(SmtpTestCase):
    def test_a_booking_confirmation_goes_over_smtp_with_text_html_and_calendar(self):
        self.start_server()

        notification = self.book_and_deliver()

        self.assertEqual(len(self.mailbox.envelopes), 1)
        envelope = self.mailbox.envelopes[0]
        self.assertEqual(envelope.rcpt_tos, ["ana@example.com"])
        message = self.received()[0]
        self.assertEqual(message["To"], "ana@example.com")
        self.assertEqual(message["Subject"], notification.subject)
        self.assertIn("Power Spin", message["Subject"])
        parts = {part.get_content_type(): part for part in message.walk()}
        self.assertIn("text/plain", parts)
        self.assertIn("text/html", parts)
        self.assertIn("text/calendar", parts)
        self.assertIn("Power Spin", parts["text/plain"].get_content())
        self.assertIn("<html", parts["text/html"].get_content().lower())
        calendar = parts["text/calendar"].get_content()
        if isinstance(calendar, bytes):
            calendar = calendar.decode()
        self.assertIn("BEGIN:VEVENT", calendar)
        self.assertIn("SUMMARY:Power Spin", calendar)
        notification.refresh_from_db()
        self.assertEqual(notification.status, NotificationStatus.SENT)
        self.assertEqual(notification.attempts, 1)
        self.assertIsNotNone(notification.sent_at)

    def test_an_smtp_outage_keeps_the_notification_pending_with_the_error(self):
        # Nothing listens on the port: the connection is refused.
        with self.assertLogs("notifications.delivery", "WARNING") as logs:
            notification = self.book_and_deliver()

        notification.refresh_from_db()
        self.assertEqual(notification.status, NotificationStatus.PENDING)
        self.assertEqual(notification.attempts, 1)
        self.assertIn("ConnectionRefusedError", notification.last_error)
        self.assertIsNone(notification.sent_at)
        self.assertIn("not sent", logs.output[0])
        self.assertEqual(self.mailbox.envelopes, [])

    def test_after_an_outage_the_sweep_at_the_next_attempt_sends_it_exactly_once(self):
        with self.assertLogs("notifications.delivery", "WARNING"):
            notification = self.book_and_deliver()
        notification.refresh_from_db()
        retry_at = notification.next_attempt_at
        self.start_server()

        early = self.sweep_at(retry_at - timedelta(seconds=1))
        self.assertEqual(early, 0)
        self.assertEqual(self.mailbox.envelopes, [])

        handed = self.sweep_at(retry_at)
        later = self.sweep_at(retry_at + timedelta(hours=3))

        self.assertEqual(handed, 1)
        self.assertEqual(later, 0)
        self.assertEqual(len(self.mailbox.envelopes), 1)
        self.assertEqual(self.mailbox.envelopes[0].rcpt_tos, ["ana@example.com"])
        self.assertEqual(self.received()[0]["Subject"], notification.subject)
        notification.refresh_from_db()
        self.assertEqual(notification.status, NotificationStatus.SENT)
        self.assertEqual(notification.attempts, 2)
        self.assertEqual(notification.last_error, "")

    def test_a_server_that_stops_mid_way_leaves_the_next_mail_pending(self):
        self.start_server()
        first = self.book_and_deliver()
        self.stop_server()
        self.slot = make_slot(title="Zumba", start=self.slot.start + timedelta(days=1))

        with self.assertLogs("notifications.delivery", "WARNING"):
            second = self.book_and_deliver()

        first.refresh_from_db()
        second.refresh_from_db()
        self.assertEqual(first.status, NotificationStatus.SENT)
        self.assertEqual(second.status, NotificationStatus.PENDING)
        self.assertIn("ConnectionRefusedError", second.last_error)
        self.assertEqual(len(self.mailbox.envelopes), 1)


class SmtpRefusalTests(SmtpTestCase):
    def test_a_4xx_or_5xx_answer_to_data_counts_as_a_failed_try(self):
        self.start_server()
        for answer in ["451 4.3.0 Try again later", "554 5.7.1 Message rejected"]:
            with self.subTest(answer=answer):
                self.mailbox.refusal = answer
                self.client_user = ClientFactory()
                refused_before = self.mailbox.refused

                with self.assertLogs("notifications.delivery", "WARNING"):
                    notification = self.book_and_deliver()

                self.assertEqual(self.mailbox.refused, refused_before + 1)
                notification.refresh_from_db()
                self.assertEqual(notification.status, NotificationStatus.PENDING)
                self.assertEqual(notification.attempts, 1)
                self.assertIn("SMTPDataError", notification.last_error)
                self.assertIn(answer.split()[0], notification.last_error)
                self.assertIsNone(notification.sent_at)
                self.assertGreater(notification.next_attempt_at, now())
        self.assertEqual(self.mailbox.envelopes, [])

    def test_once_the_server_takes_mail_again_the_retry_sends_it_once(self):
        self.start_server()
        self.mailbox.refusal = "451 4.3.0 Try again later"
        with self.assertLogs("notifications.delivery", "WARNING"):
            notification = self.book_and_deliver()
        notification.refresh_from_db()
        self.mailbox.refusal = None

        handed = self.sweep_at(notification.next_attempt_at)
        again = self.sweep_at(notification.next_attempt_at + timedelta(hours=1))

        self.assertEqual((handed, again), (1, 0))
        self.assertEqual(self.mailbox.refused, 1)
        self.assertEqual(len(self.mailbox.envelopes), 1)
        self.assertEqual(self.mailbox.envelopes[0].rcpt_tos, ["ana@example.com"])
        notification.refresh_from_db()
        self.assertEqual(notification.status, NotificationStatus.SENT)
        self.assertEqual(notification.attempts, 2)
