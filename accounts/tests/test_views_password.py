"""Changing a password, and resetting a forgotten one by mail, through HTTP."""

import re
from datetime import timedelta

from django.core import mail
from rest_framework import status
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services
from accounts.tests.factories import PASSWORD, ClientFactory, InstructorFactory
from testing.api import (
    NEW_PASSWORD,
    PASSWORD_CHANGE,
    PASSWORD_RESET,
    PASSWORD_RESET_CONFIRM,
    AccountApiTestCase,
    sign_in,
)
from testing.problems import assert_problem


class PasswordChangeViewTests(AccountApiTestCase):
    def setUp(self):
        super().setUp()
        self.user = InstructorFactory(email="ravi@example.com")
        self.pair = sign_in(self.client, self.user)

    def change(self, old: str = PASSWORD, new: str = NEW_PASSWORD):
        return self.client.post(PASSWORD_CHANGE, {"old_password": old, "new_password": new})

    def test_password_change_returns_204_and_the_new_password_signs_in(self):
        response = self.change()

        self.assertEqual(response.status_code, status.HTTP_204_NO_CONTENT, response.content)
        self.client.credentials()
        self.assertEqual(self.login("ravi@example.com", NEW_PASSWORD).status_code, 200)
        assert_problem(self, self.login("ravi@example.com", PASSWORD), 401, "invalid_credentials")

    def test_password_change_revokes_the_old_refresh_tokens(self):
        other = services.tokens_for(self.user)

        self.change()

        self.client.credentials()
        self.assert_token_refused(self.pair["refresh"])
        self.assert_token_refused(other["refresh"])

    def test_password_change_refuses_a_wrong_old_password(self):
        response = self.change(old="wrong-Pass-999")

        self.assert_invalid(response, "old_password")
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password(PASSWORD))

    def test_password_change_refuses_a_weak_new_password(self):
        response = self.change(new="ravi@example.com")

        self.assert_invalid(response, "new_password")
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password(PASSWORD))

    def test_password_change_refuses_missing_fields(self):
        response = self.client.post(PASSWORD_CHANGE, {})

        self.assert_invalid(response, "old_password", "new_password")

    def test_password_change_refuses_a_malformed_json_body(self):
        response = self.client.post(PASSWORD_CHANGE, data="{]", content_type="application/json")

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "parse_error")

    def test_password_change_without_credentials_is_401_not_authenticated(self):
        self.client.credentials()

        response = self.change()

        assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "not_authenticated")
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password(PASSWORD))

    def test_password_change_refuses_an_expired_access_token(self):
        token = AccessToken.for_user(self.user)
        token.set_exp(lifetime=-timedelta(seconds=1))
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

        response = self.change()

        assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "token_not_valid")


def _uid_and_token(message) -> tuple[str, str]:
    match = re.search(r"uid=([^&\s]+)&token=(\S+)", message.body)
    return match.group(1), match.group(2)


class PasswordResetViewTests(AccountApiTestCase):
    def setUp(self):
        super().setUp()
        self.user = ClientFactory(email="ana@example.com")

    def reset(self, email: str):
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(PASSWORD_RESET, {"email": email})

    def test_password_reset_returns_202_and_mails_a_link(self):
        response = self.reset("Ana@Example.com")

        self.assertEqual(response.status_code, status.HTTP_202_ACCEPTED, response.content)
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, ["ana@example.com"])
        self.assertIn("/reset-password/?uid=", mail.outbox[0].body)

    def test_password_reset_returns_202_for_an_unknown_email_and_mails_nothing(self):
        known = self.reset("ana@example.com")
        mail.outbox.clear()

        response = self.reset("nobody@example.com")

        self.assertEqual(response.status_code, status.HTTP_202_ACCEPTED)
        self.assertEqual(response.content, known.content)
        self.assertEqual(mail.outbox, [])

    def test_password_reset_mails_nothing_to_an_inactive_user(self):
        self.user.is_active = False
        self.user.save()

        response = self.reset("ana@example.com")

        self.assertEqual(response.status_code, status.HTTP_202_ACCEPTED)
        self.assertEqual(mail.outbox, [])

    def test_password_reset_refuses_a_malformed_email(self):
        response = self.reset("not-an-email")

        self.assert_invalid(response, "email")
        self.assertEqual(mail.outbox, [])

    def test_password_reset_refuses_a_malformed_json_body(self):
        response = self.client.post(PASSWORD_RESET, data="nope", content_type="application/json")

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "parse_error")


class PasswordResetConfirmViewTests(AccountApiTestCase):
    def setUp(self):
        super().setUp()
        self.user = ClientFactory(email="ana@example.com")
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(PASSWORD_RESET, {"email": "ana@example.com"})
        self.uid, self.token = _uid_and_token(mail.outbox[0])

    def confirm(self, **overrides):
        body = {"uid": self.uid, "token": self.token, "new_password": NEW_PASSWORD}
        body.update(overrides)
        return self.client.post(PASSWORD_RESET_CONFIRM, body)

    def test_confirm_with_the_mailed_uid_and_token_sets_the_new_password(self):
        response = self.confirm()

        self.assertEqual(response.status_code, status.HTTP_204_NO_CONTENT, response.content)
        self.assertEqual(self.login("ana@example.com", NEW_PASSWORD).status_code, 200)
        assert_problem(self, self.login("ana@example.com", PASSWORD), 401, "invalid_credentials")

    def test_confirm_revokes_the_old_refresh_tokens(self):
        pair = services.tokens_for(self.user)

        self.confirm()

        self.assert_token_refused(pair["refresh"])

    def test_confirm_refuses_a_wrong_token(self):
        response = self.confirm(token="bad-0123456789abcdef")

        self.assert_invalid(response, "token")
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password(PASSWORD))

    def test_confirm_refuses_a_wrong_uid(self):
        for uid in ["garbage!", "MTIzNDU2Nzg5", "", "x" * 65]:
            with self.subTest(uid=uid):
                response = self.confirm(uid=uid)

                self.assert_invalid(response)
                self.assertTrue(set(response.json()["errors"]) & {"uid", "token"})
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password(PASSWORD))

    def test_confirm_refuses_the_same_token_twice(self):
        self.assertEqual(self.confirm().status_code, status.HTTP_204_NO_CONTENT)

        response = self.confirm(new_password="another-Word-789")

        self.assert_invalid(response, "token")
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password(NEW_PASSWORD))

    def test_confirm_refuses_a_weak_new_password(self):
        response = self.confirm(new_password="abc")

        self.assert_invalid(response, "new_password")
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password(PASSWORD))

    def test_confirm_refuses_missing_fields(self):
        response = self.client.post(PASSWORD_RESET_CONFIRM, {})

        self.assert_invalid(response, "uid", "token", "new_password")

    def test_confirm_refuses_a_malformed_json_body(self):
        response = self.client.post(
            PASSWORD_RESET_CONFIRM, data='{"uid": }', content_type="application/json"
        )

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "parse_error")
