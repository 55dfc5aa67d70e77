"""The outbox in the admin: a read-only list of what was mailed to whom, with
its tries, and the action that sends failed mail again."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.utils.timezone import now
from rest_framework import status

from accounts.tests.factories import ClientFactory
from bookings.tests.factories import book, make_slot
from core.models import ActionLogEntry
from core.signals import MailKind
from notifications.delivery import MAX_ATTEMPTS
from notifications.models import Notification, NotificationStatus
from testing.admin import ACTION_LOG_FORMS, AdminTestCase, column, shown_messages

CHANGELIST = "/admin/notifications/notification/"


def change_url(notification: Notification) -> str:
    return f"{CHANGELIST}{notification.pk}/change/"


def resent_log(notification: Notification):
    return ActionLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Notification),
        object_id=notification.pk,
        action="notification.resent",
    )


class NotificationAdminTestCase(AdminTestCase):
    def setUp(self):
        super().setUp()
        self.ana = ClientFactory(email="ana@example.com")
        self.bob = ClientFactory(email="bob@example.com")
        base = now() - timedelta(hours=3)
        # A confirmation sent, a cancellation that failed, and a reset still
        # being tried, each written at its own time.
        booking = book(make_slot(title="Power Spin"), self.ana)
        self.sent = Notification.objects.get(booking=booking, kind=MailKind.BOOKING_CONFIRMED)
        Notification.objects.filter(pk=self.sent.pk).update(
            status=NotificationStatus.SENT, attempts=1, created_at=base, sent_at=base
        )
        other = book(make_slot(title="Zumba", start=now() + timedelta(days=3)), self.bob)
        self.failed = Notification.objects.get(booking=other, kind=MailKind.BOOKING_CONFIRMED)
        Notification.objects.filter(pk=self.failed.pk).update(
            kind=MailKind.BOOKING_CANCELLED,
            status=NotificationStatus.FAILED,
            attempts=MAX_ATTEMPTS,
            last_error="ConnectionRefusedError: [Errno 111] Connection refused",
            created_at=base + timedelta(hours=1),
        )
        self.pending = Notification.objects.create(
            user=self.ana,
            kind=MailKind.PASSWORD_RESET,
            subject="Reset your password",
            attempts=2,
            last_error="SMTPDataError: (451, b'Try again later')",
            created_at=base + timedelta(hours=2),
            next_attempt_at=now() + timedelta(minutes=5),
        )
        for row in (self.sent, self.failed, self.pending):
            row.refresh_from_db()


class NotificationChangelistTests(NotificationAdminTestCase):
    def test_changelist_shows_every_notification_with_kind_status_attempts_and_error(self):
        response = self.client.get(CHANGELIST)

        self.assertEqual(self.listed(response), {self.sent.pk, self.failed.pk, self.pending.pk})
        # Newest first.
        self.assertEqual(
            column(response, "user"), ["ana@example.com", "bob@example.com", "ana@example.com"]
        )
        self.assertEqual(
            column(response, "kind"), ["Password reset", "Booking cancelled", "Booking confirmed"]
        )
        self.assertEqual(column(response, "status"), ["Pending", "Failed", "Sent"])
        self.assertEqual(column(response, "attempts"), ["2", str(MAX_ATTEMPTS), "1"])
        errors = column(response, "last_error")
        self.assertIn("SMTPDataError", errors[0])
        self.assertIn("ConnectionRefusedError", errors[1])
        self.assertEqual(errors[2], "-")

    def test_the_status_filter_narrows_the_list(self):
        for value, expected in [
            (NotificationStatus.FAILED, {self.failed.pk}),
            (NotificationStatus.SENT, {self.sent.pk}),
            (NotificationStatus.PENDING, {self.pending.pk}),
        ]:
            with self.subTest(status=value):
                response = self.client.get(CHANGELIST, {"status__exact": value})

                self.assertEqual(self.listed(response), expected)

    def test_the_kind_filter_narrows_the_list(self):
        for value, expected in [
            (MailKind.BOOKING_CONFIRMED, {self.sent.pk}),
            (MailKind.BOOKING_CANCELLED, {self.failed.pk}),
            (MailKind.PASSWORD_RESET, {self.pending.pk}),
            (MailKind.REMINDER, set()),
        ]:
            with self.subTest(kind=value):
                response = self.client.get(CHANGELIST, {"kind__exact": value})

                self.assertEqual(self.listed(response), expected)

    def test_status_and_kind_filters_combine(self):
        response = self.client.get(
            CHANGELIST,
            {"status__exact": NotificationStatus.FAILED, "kind__exact": MailKind.PASSWORD_RESET},
        )

        self.assertEqual(self.listed(response), set())

    def test_the_changelist_offers_no_add_and_no_delete_but_send_again(self):
        response = self.client.get(CHANGELIST)

        self.assertFalse(response.context["has_add_permission"])
        self.assertNotContains(response, f"{CHANGELIST}add/")
        actions = [value for value, _ in response.context["action_form"].fields["action"].choices]
        self.assertIn("send_again", actions)
        self.assertNotIn("delete_selected", actions)

    def test_add_and_delete_views_are_forbidden(self):
        add = self.client.get(f"{CHANGELIST}add/")
        delete_page = self.client.get(f"{CHANGELIST}{self.sent.pk}/delete/")
        delete = self.client.post(f"{CHANGELIST}{self.sent.pk}/delete/", {"post": "yes"})

        self.assertEqual(add.status_code, status.HTTP_403_FORBIDDEN)
        self.assertEqual(delete_page.status_code, status.HTTP_403_FORBIDDEN)
        self.assertEqual(delete.status_code, status.HTTP_403_FORBIDDEN)
        self.assertTrue(Notification.objects.filter(pk=self.sent.pk).exists())

    def test_the_change_page_is_read_only_and_refuses_a_post(self):
        before = Notification.objects.values().get(pk=self.failed.pk)

        page = self.client.get(change_url(self.failed))
        response = self.client.post(
            change_url(self.failed),
            {
                "status": NotificationStatus.SENT,
                "attempts": "0",
                "subject": "Changed",
                **ACTION_LOG_FORMS,
            },
        )

        self.assertEqual(page.status_code, status.HTTP_200_OK)
        self.assertFalse(page.context["has_change_permission"])
        self.assertEqual(dict(page.context["adminform"].form.fields), {})
        self.assertNotContains(page, 'name="_save"')
        self.assertContains(page, "ConnectionRefusedError")
        self.assertEqual(response.status_code, status.HTTP_403_FORBIDDEN)
        self.assertEqual(Notification.objects.values().get(pk=self.failed.pk), before)
        self.assertFalse(LogEntry.objects.exists())

    def test_a_client_is_sent_to_the_admin_login(self):
        self.client.force_login(self.ana)

        response = self.client.get(CHANGELIST)

        self.assertEqual(response.status_code, status.HTTP_302_FOUND)
        self.assertTrue(response["Location"].startswith("/admin/login/"))


class SendAgainTests(NotificationAdminTestCase):
    def send_again(self, *rows: Notification):
        return self.client.post(
            CHANGELIST,
            {"action": "send_again", "_selected_action": [str(row.pk) for row in rows]},
            follow=True,
        )

    def test_send_again_makes_a_failed_row_pending_with_a_fresh_round_and_logs_it(self):
        response = self.send_again(self.failed)

        self.assertEqual(response.status_code, status.HTTP_200_OK)
        self.failed.refresh_from_db()
        self.assertEqual(self.failed.status, NotificationStatus.PENDING)
        self.assertEqual(self.failed.attempts, 0)
        self.assertEqual(self.failed.last_error, "")
        self.assertLessEqual(self.failed.next_attempt_at, now())
        entries = list(resent_log(self.failed))
        self.assertEqual(len(entries), 1)
        self.assertEqual(entries[0].actor, self.superuser)
        self.assertEqual(shown_messages(response), ["Sending 1 notification again."])
        # The transaction of the test never commits: no worker has it yet.
        self.assertEqual(mail.outbox, [])

    def test_send_again_sends_the_failed_row_after_commit(self):
        with self.captureOnCommitCallbacks(execute=True):
            self.send_again(self.failed)

        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, ["bob@example.com"])
        self.failed.refresh_from_db()
        self.assertEqual(self.failed.status, NotificationStatus.SENT)
        self.assertEqual(self.failed.attempts, 1)
        self.assertIsNotNone(self.failed.sent_at)

    def test_send_again_on_a_sent_row_changes_nothing_and_warns(self):
        before = Notification.objects.values().get(pk=self.sent.pk)

        with self.captureOnCommitCallbacks(execute=True):
            response = self.send_again(self.sent)

        self.assertEqual(Notification.objects.values().get(pk=self.sent.pk), before)
        self.assertFalse(resent_log(self.sent).exists())
        self.assertEqual(mail.outbox, [])
        shown = list(response.context["messages"])
        self.assertEqual(
            [(str(m), m.level) for m in shown],
            [("Skipped 1 notification that has not failed.", messages.WARNING)],
        )

    def test_send_again_on_a_mixed_choice_resends_only_the_failed_one(self):
        pending_before = Notification.objects.values().get(pk=self.pending.pk)

        with self.captureOnCommitCallbacks(execute=True):
            response = self.send_again(self.failed, self.sent, self.pending)

        self.assertEqual(
            shown_messages(response),
            ["Sending 1 notification again.", "Skipped 2 notifications that have not failed."],
        )
        self.assertEqual([m.to for m in mail.outbox], [["bob@example.com"]])
        self.assertEqual(Notification.objects.values().get(pk=self.pending.pk), pending_before)
        self.assertEqual(ActionLogEntry.objects.filter(action="notification.resent").count(), 1)
