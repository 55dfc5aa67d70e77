"""The account services of passwords: changing one, and asking for and
confirming a reset."""

import re

from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import TestCase
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import services
from accounts.models import User
from accounts.tests.factories import PASSWORD, ClientFactory
from core.errors import (
    TokenNotValidError,
    ValidationFailedError,
)
from testing.api import NEW_PASSWORD, is_revoked


def _uid(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


class PasswordChangeTests(TestCase):
    def setUp(self):
        self.user = ClientFactory()

    def test_change_sets_the_new_password(self):
        services.user_change_password(
            user=self.user, old_password=PASSWORD, new_password=NEW_PASSWORD, by=None
        )

        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password(NEW_PASSWORD))
        self.assertFalse(self.user.check_password(PASSWORD))

    def test_change_revokes_every_refresh_token_of_the_user(self):
        pairs = [services.tokens_for(self.user) for _ in range(2)]

        services.user_change_password(
            user=self.user, old_password=PASSWORD, new_password=NEW_PASSWORD, by=None
        )

        for pair in pairs:
            self.assertTrue(is_revoked(pair["refresh"]))
            with self.assertRaises(TokenNotValidError):
                services.token_refresh(refresh=pair["refresh"])

    def test_change_refuses_a_wrong_old_password_and_keeps_the_password(self):
        pair = services.tokens_for(self.user)

        with self.assertRaises(ValidationFailedError) as caught:
            services.user_change_password(
                user=self.user, old_password="wrong-Pass-999", new_password=NEW_PASSWORD, by=None
            )

        self.assertIn("old_password", caught.exception.errors)
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password(PASSWORD))
        self.assertFalse(is_revoked(pair["refresh"]))

    def test_change_refuses_a_weak_new_password(self):
        with self.assertRaises(ValidationFailedError) as caught:
            services.user_change_password(
                user=self.user, old_password=PASSWORD, new_password="12345678", by=None
            )

        self.assertIn("new_password", caught.exception.errors)
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password(PASSWORD))


class PasswordResetRequestTests(TestCase):
    def request_reset(self, email: str) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            services.password_reset_request(email=email)

    def test_reset_mails_a_link_with_a_working_uid_and_token_to_the_user(self):
        user = ClientFactory(email="ana@example.com")

        self.request_reset("ana@example.com")

        self.assertEqual(len(mail.outbox), 1)
        message = mail.outbox[0]
        self.assertEqual(message.to, ["ana@example.com"])
        uid, token = re.search(r"uid=([^&\s]+)&token=(\S+)", message.body).groups()
        self.assertEqual(uid, _uid(user))
        self.assertTrue(default_token_generator.check_token(user, token))

    def test_reset_finds_the_user_whatever_the_email_case(self):
        ClientFactory(email="ana@example.com")

        self.request_reset("  ANA@Example.COM")

        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, ["ana@example.com"])

    def test_reset_mails_nothing_for_an_unknown_email(self):
        ClientFactory(email="ana@example.com")

        self.request_reset("nobody@example.com")

        self.assertEqual(mail.outbox, [])

    def test_reset_mails_nothing_to_an_inactive_user(self):
        ClientFactory(email="ana@example.com", is_active=False)

        self.request_reset("ana@example.com")

        self.assertEqual(mail.outbox, [])

    def test_reset_mails_nothing_to_a_user_without_a_usable_password(self):
        user = ClientFactory(email="ana@example.com")
        user.set_unusable_password()
        user.save()

        self.request_reset("ana@example.com")

        self.assertEqual(mail.outbox, [])

    def test_reset_mail_waits_for_the_commit(self):
        ClientFactory(email="ana@example.com")

        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            services.password_reset_request(email="ana@example.com")

        self.assertEqual(len(callbacks), 1)
        self.assertEqual(mail.outbox, [])


class PasswordResetConfirmTests(TestCase):
    def setUp(self):
        self.user = ClientFactory()
        self.uid = _uid(self.user)
        self.token = default_token_generator.make_token(self.user)

    def confirm(self, **overrides) -> User:
        fields = {"uid": self.uid, "token": self.token, "new_password": NEW_PASSWORD}
        fields.update(overrides)
        return services.password_reset_confirm(**fields, by=None)

    def assert_refused(self, field: str = "token", **overrides) -> None:
        with self.assertRaises(ValidationFailedError) as caught:
            self.confirm(**overrides)
        self.assertIn(field, caught.exception.errors)
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password(PASSWORD))

    def test_confirm_sets_the_new_password(self):
        user = self.confirm()

        self.assertEqual(user, self.user)
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password(NEW_PASSWORD))

    def test_confirm_revokes_every_refresh_token(self):
        pair = services.tokens_for(self.user)

        self.confirm()

        self.assertTrue(is_revoked(pair["refresh"]))

    def test_confirm_refuses_a_wrong_token(self):
        self.assert_refused(token="abc-0123456789abcdef")

    def test_confirm_refuses_a_token_of_another_user(self):
        other = ClientFactory()

        self.assert_refused(token=default_token_generator.make_token(other))

    def test_confirm_refuses_a_uid_that_is_not_base64(self):
        self.assert_refused(uid="%%%not-base64%%%")

    def test_confirm_refuses_a_uid_that_is_not_a_number(self):
        self.assert_refused(uid=urlsafe_base64_encode(b"abc"))

    def test_confirm_refuses_a_uid_of_no_user(self):
        self.assert_refused(uid=urlsafe_base64_encode(force_bytes(self.user.pk + 1000)))

    def test_confirm_refuses_a_uid_too_large_for_the_database(self):
        self.assert_refused(uid=urlsafe_base64_encode(force_bytes("9" * 40)))

    def test_confirm_refuses_an_inactive_user(self):
        self.user.is_active = False
        self.user.save()

        self.assert_refused()

    def test_confirm_refuses_a_weak_new_password(self):
        self.assert_refused(field="new_password", new_password="12345678")

    def test_reset_token_works_only_once(self):
        self.confirm()

        with self.assertRaises(ValidationFailedError) as caught:
            self.confirm(new_password="another-Word-789")

        self.assertIn("token", caught.exception.errors)
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password(NEW_PASSWORD))
