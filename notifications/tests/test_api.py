"""GET /api/notifications/ (the signed-in user's own mail) and turning
reminders off and on with PATCH /api/me/ (API.md section 8)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils.timezone import now
from rest_framework import status
from rest_framework.test import APITestCase

from accounts.models import User
from accounts.tests.factories import ClientFactory
from bookings.tests.factories import book, make_slot
from core.models import ActionLogEntry
from core.signals import MailKind
from notifications import outbox
from notifications.models import Notification, NotificationStatus
from testing.api import ME, PAGE_KEYS, USER_KEYS, from_iso, sign_in
from testing.problems import assert_problem

NOTIFICATIONS = "/api/notifications/"
NOTIFICATION_KEYS = {"id", "kind", "status", "subject", "booking", "created_at", "sent_at"}


def mail_row(user: User, created_at: datetime, **fields) -> Notification:
    """A notification of `user` written at `created_at`, with no booking."""
    return Notification.objects.create(
        user=user,
        kind=fields.pop("kind", MailKind.PASSWORD_RESET),
        subject=fields.pop("subject", "Reset your password"),
        created_at=created_at,
        next_attempt_at=created_at,
        **fields,
    )


class NotificationListTests(APITestCase):
    def setUp(self):
        self.me = ClientFactory(timezone="Asia/Kolkata")
        sign_in(self.client, self.me)

    def test_without_a_token_it_is_401(self):
        sign_in(self.client, None)
        mail_row(self.me, now())

        response = self.client.get(NOTIFICATIONS)

        assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "not_authenticated")

    def test_lists_only_the_callers_own_notifications_newest_first(self):
        base = now() - timedelta(days=2)
        old = mail_row(self.me, base, subject="Old")
        new = mail_row(self.me, base + timedelta(hours=5), subject="New")
        middle = mail_row(self.me, base + timedelta(hours=1), subject="Middle")
        # Written at the same moment: the later row comes first.
        tie = mail_row(self.me, base + timedelta(hours=1), subject="Tie")
        mail_row(ClientFactory(), base + timedelta(hours=9), subject="Not mine")

        response = self.client.get(NOTIFICATIONS)

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        body = response.json()
        self.assertEqual(body["count"], 4)
        self.assertEqual(
            [item["id"] for item in body["results"]], [new.pk, tie.pk, middle.pk, old.pk]
        )
        self.assertNotIn("Not mine", [item["subject"] for item in body["results"]])

    def test_each_item_has_exactly_the_contract_keys(self):
        booking = book(make_slot(title="Power Spin"), self.me)
        row = Notification.objects.get(booking=booking)
        sent_at = now()
        Notification.objects.filter(pk=row.pk).update(
            status=NotificationStatus.SENT, sent_at=sent_at
        )

        item = self.client.get(NOTIFICATIONS).json()["results"][0]

        self.assertEqual(set(item), NOTIFICATION_KEYS)
        self.assertEqual(item["id"], row.pk)
        self.assertEqual(item["kind"], "booking_confirmed")
        self.assertEqual(item["status"], "sent")
        self.assertEqual(item["subject"], row.subject)
        self.assertIn("Power Spin", item["subject"])
        self.assertEqual(item["booking"], booking.pk)
        self.assertEqual(from_iso(item["created_at"]), row.created_at)
        self.assertEqual(from_iso(item["sent_at"]), sent_at)

    def test_a_mail_without_a_booking_or_not_sent_yet_shows_nulls(self):
        mail_row(self.me, now())

        item = self.client.get(NOTIFICATIONS).json()["results"][0]

        self.assertEqual(item["kind"], "password_reset")
        self.assertEqual(item["status"], "pending")
        self.assertIsNone(item["booking"])
        self.assertIsNone(item["sent_at"])

    def test_failed_mail_is_listed_as_failed(self):
        mail_row(self.me, now(), status=NotificationStatus.FAILED, attempts=8)

        item = self.client.get(NOTIFICATIONS).json()["results"][0]

        self.assertEqual(item["status"], "failed")

    def assert_shown_in(self, item: dict, zone_name: str, row: Notification) -> None:
        zone = ZoneInfo(zone_name)
        for key, instant in [("created_at", row.created_at), ("sent_at", row.sent_at)]:
            shown = from_iso(item[key])
            self.assertEqual(shown, instant)
            self.assertEqual(shown.utcoffset(), instant.astimezone(zone).utcoffset(), item[key])

    def test_times_are_shown_in_the_viewing_zone(self):
        year = now().year - 1
        winter = datetime(year, 1, 15, 12, 0, tzinfo=UTC)
        summer = datetime(year, 7, 15, 12, 0, tzinfo=UTC)
        january = mail_row(self.me, winter, status=NotificationStatus.SENT, sent_at=winter)
        july = mail_row(self.me, summer, status=NotificationStatus.SENT, sent_at=summer)

        studio = self.client.get(NOTIFICATIONS).json()["results"]
        User.objects.filter(pk=self.me.pk).update(timezone="America/New_York")
        profile = self.client.get(NOTIFICATIONS).json()["results"]
        tokyo = self.client.get(NOTIFICATIONS, {"tz": "Asia/Tokyo"}).json()["results"]
        header = self.client.get(NOTIFICATIONS, HTTP_X_TIMEZONE="Europe/London").json()["results"]

        self.assertEqual(studio[1]["created_at"], f"{year}-01-15T17:30:00+05:30")
        self.assertEqual(profile[1]["created_at"], f"{year}-01-15T07:00:00-05:00")
        self.assertEqual(profile[0]["created_at"], f"{year}-07-15T08:00:00-04:00")
        self.assertEqual(tokyo[0]["sent_at"], f"{year}-07-15T21:00:00+09:00")
        self.assertEqual(header[0]["sent_at"], f"{year}-07-15T13:00:00+01:00")
        for items, zone_name in [
            (studio, "Asia/Kolkata"),
            (profile, "America/New_York"),
            (tokyo, "Asia/Tokyo"),
            (header, "Europe/London"),
        ]:
            self.assert_shown_in(items[0], zone_name, july)
            self.assert_shown_in(items[1], zone_name, january)

    def test_an_unknown_tz_is_400(self):
        response = self.client.get(NOTIFICATIONS, {"tz": "Nowhere/Land"})

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "invalid_timezone")

    def test_the_list_is_paginated_like_the_other_lists(self):
        base = now() - timedelta(days=1)
        rows = [mail_row(self.me, base + timedelta(minutes=i)) for i in range(25)]
        newest_first = [row.pk for row in reversed(rows)]

        first = self.client.get(NOTIFICATIONS).json()
        second = self.client.get(NOTIFICATIONS, {"page": 2}).json()
        small = self.client.get(NOTIFICATIONS, {"page_size": 10, "page": 3}).json()

        self.assertEqual(set(first), PAGE_KEYS)
        self.assertEqual(first["count"], 25)
        self.assertEqual([item["id"] for item in first["results"]], newest_first[:20])
        self.assertIsNone(first["previous"])
        self.assertIn("page=2", first["next"])
        self.assertEqual([item["id"] for item in second["results"]], newest_first[20:])
        self.assertIsNone(second["next"])
        self.assertIsNotNone(second["previous"])
        self.assertEqual([item["id"] for item in small["results"]], newest_first[20:])
        self.assertEqual(small["count"], 25)

    def test_a_bad_page_size_is_400(self):
        response = self.client.get(NOTIFICATIONS, {"page_size": "0"})

        body = assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "invalid")
        self.assertEqual(set(body["errors"]), {"page_size"})

    def test_a_reminder_appears_once_it_falls_due(self):
        slot = make_slot(title="Evening Flow", start=now() + timedelta(days=2))
        booking = book(slot, self.me)
        lead = timedelta(minutes=settings.STUDIO_REMINDER_MINUTES)

        before = self.client.get(NOTIFICATIONS).json()["results"]
        written_early = outbox.reminders_queue(at=slot.start - lead - timedelta(minutes=1))
        still_before = self.client.get(NOTIFICATIONS).json()["results"]
        written = outbox.reminders_queue(at=slot.start - lead + timedelta(seconds=30))
        after = self.client.get(NOTIFICATIONS).json()["results"]

        self.assertEqual([item["kind"] for item in before], ["booking_confirmed"])
        self.assertEqual(written_early, 0)
        self.assertEqual([item["kind"] for item in still_before], ["booking_confirmed"])
        self.assertEqual(written, 1)
        self.assertEqual([item["kind"] for item in after], ["reminder", "booking_confirmed"])
        reminder = after[0]
        self.assertEqual(reminder["status"], "pending")
        self.assertEqual(reminder["booking"], booking.pk)
        self.assertIsNone(reminder["sent_at"])
        self.assertIn("Evening Flow", reminder["subject"])


class EmailRemindersSettingTests(APITestCase):
    def setUp(self):
        self.me = ClientFactory(email="ana@example.com", name="Ana")
        sign_in(self.client, self.me)

    def log_entries(self):
        return ActionLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(User), object_id=self.me.pk
        ).order_by("created_at", "id")

    def test_a_new_user_gets_reminders(self):
        body = self.client.get(ME).json()

        self.assertEqual(set(body), USER_KEYS)
        self.assertIs(body["email_reminders"], True)

    def test_turning_reminders_off_stores_it_answers_the_user_and_logs_it(self):
        response = self.client.patch(ME, {"email_reminders": False}, format="json")

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        body = response.json()
        self.assertEqual(set(body), USER_KEYS)
        self.assertIs(body["email_reminders"], False)
        self.assertEqual(body["email"], "ana@example.com")
        self.me.refresh_from_db()
        self.assertIs(self.me.email_reminders, False)
        entries = list(self.log_entries())
        self.assertEqual(len(entries), 1)
        self.assertEqual(entries[0].action, "user.updated")
        self.assertEqual(entries[0].actor, self.me)
        self.assertEqual(entries[0].data, {"email_reminders": [True, False]})
        self.assertIs(self.client.get(ME).json()["email_reminders"], False)

    def test_a_flag_that_is_not_json_true_or_false_is_refused_and_changes_nothing(self):
        for value in ["no", "false", 1, 0, None, [], {}]:
            with self.subTest(value=value):
                response = self.client.patch(ME, {"email_reminders": value}, format="json")

                body = assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "invalid")
                self.assertEqual(set(body["errors"]), {"email_reminders"})
                messages = body["errors"]["email_reminders"]
                self.assertTrue(messages)
                self.assertTrue(all(isinstance(m, str) and m for m in messages), messages)
                self.me.refresh_from_db()
                self.assertIs(self.me.email_reminders, True)
                self.assertEqual(self.log_entries().count(), 0)

    def test_a_refused_flag_leaves_the_other_fields_of_the_request_unchanged(self):
        response = self.client.patch(
            ME, {"name": "Ana Lopez", "email_reminders": "no"}, format="json"
        )

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "invalid")
        self.me.refresh_from_db()
        self.assertEqual(self.me.name, "Ana")
        self.assertIs(self.me.email_reminders, True)

    def test_turning_reminders_back_on_works_and_is_logged_too(self):
        self.client.patch(ME, {"email_reminders": False}, format="json")

        response = self.client.patch(ME, {"email_reminders": True}, format="json")

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        self.assertIs(response.json()["email_reminders"], True)
        self.me.refresh_from_db()
        self.assertIs(self.me.email_reminders, True)
        self.assertEqual(
            [entry.data for entry in self.log_entries()],
            [{"email_reminders": [True, False]}, {"email_reminders": [False, True]}],
        )

    def test_sending_the_value_it_already_has_changes_and_logs_nothing(self):
        response = self.client.patch(ME, {"email_reminders": True}, format="json")

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        self.assertIs(response.json()["email_reminders"], True)
        self.assertEqual(self.log_entries().count(), 0)

    def test_with_reminders_off_no_reminder_is_written_or_listed(self):
        slot = make_slot(start=now() + timedelta(days=2))
        book(slot, self.me)
        self.client.patch(ME, {"email_reminders": False}, format="json")

        written = outbox.reminders_queue(at=slot.start - timedelta(minutes=30))

        self.assertEqual(written, 0)
        kinds = [item["kind"] for item in self.client.get(NOTIFICATIONS).json()["results"]]
        self.assertEqual(kinds, ["booking_confirmed"])
