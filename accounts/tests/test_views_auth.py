"""Logging in through HTTP, the sign-in throttle, and the endpoints that
ignore a stale Authorization header."""

from datetime import timedelta

from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import override_settings
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework import status
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services
from accounts.models import User
from accounts.tests.factories import PASSWORD, ClientFactory, InstructorFactory
from testing.api import (
    LOGIN,
    ME,
    NEW_PASSWORD,
    PASSWORD_RESET,
    PASSWORD_RESET_CONFIRM,
    REFRESH,
    REGISTER,
    USER_KEYS,
    AccountApiTestCase,
    register_body,
)
from testing.problems import assert_problem


class LoginViewTests(AccountApiTestCase):
    def setUp(self):
        super().setUp()
        self.user = ClientFactory(email="ana@example.com")

    def test_login_returns_the_user_and_a_working_token_pair(self):
        response = self.login("ana@example.com", PASSWORD)

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        body = response.json()
        self.assertEqual(set(body), {"user", "access", "refresh"})
        self.assertEqual(body["user"]["id"], self.user.pk)
        self.assertEqual(set(body["user"]), USER_KEYS)
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
        self.assertEqual(self.client.get(ME).json()["id"], self.user.pk)

    def test_login_ignores_the_email_case(self):
        response = self.login("Ana@EXAMPLE.com", PASSWORD)

        self.assertEqual(response.status_code, status.HTTP_200_OK)
        self.assertEqual(response.json()["user"]["email"], "ana@example.com")

    def test_login_refuses_a_wrong_password(self):
        response = self.login("ana@example.com", "wrong-Pass-123")

        body = assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "invalid_credentials")
        self.assertNotIn("access", body)

    def test_login_refuses_an_unknown_email(self):
        response = self.login("nobody@example.com", PASSWORD)

        assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "invalid_credentials")

    def test_login_refuses_an_inactive_user(self):
        self.user.is_active = False
        self.user.save()

        response = self.login("ana@example.com", PASSWORD)

        assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "invalid_credentials")

    def test_login_refuses_missing_fields(self):
        response = self.client.post(LOGIN, {})

        self.assert_invalid(response, "email", "password")

    def test_login_refuses_a_malformed_json_body(self):
        response = self.client.post(LOGIN, data="email=ana", content_type="application/json")

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "parse_error")


@override_settings(STUDIO_AUTH_THROTTLE="2/min")
class AuthThrottleTests(AccountApiTestCase):
    def setUp(self):
        super().setUp()
        ClientFactory(email="ana@example.com")

    def test_login_is_throttled_after_the_rate_with_retry_after(self):
        for _ in range(2):
            self.assertEqual(self.login("ana@example.com", PASSWORD).status_code, 200)

        response = self.login("ana@example.com", PASSWORD)

        assert_problem(self, response, status.HTTP_429_TOO_MANY_REQUESTS, "throttled")
        self.assertGreaterEqual(int(response["Retry-After"]), 1)
        self.assertLessEqual(int(response["Retry-After"]), 60)

    def test_failed_logins_count_towards_the_throttle(self):
        for _ in range(2):
            response = self.login("ana@example.com", "wrong-Pass-123")
            assert_problem(self, response, 401, "invalid_credentials")

        response = self.login("ana@example.com", PASSWORD)

        assert_problem(self, response, status.HTTP_429_TOO_MANY_REQUESTS, "throttled")
        self.assertIn("Retry-After", response)

    def test_register_is_throttled_and_creates_no_user_then(self):
        for n in range(2):
            response = self.client.post(REGISTER, register_body(email=f"new{n}@example.com"))
            self.assertEqual(response.status_code, status.HTTP_201_CREATED)

        response = self.client.post(REGISTER, register_body(email="new2@example.com"))

        assert_problem(self, response, status.HTTP_429_TOO_MANY_REQUESTS, "throttled")
        self.assertIn("Retry-After", response)
        self.assertFalse(User.objects.filter(email="new2@example.com").exists())

    def test_password_reset_is_throttled_and_mails_nothing_then(self):
        with self.captureOnCommitCallbacks(execute=True):
            for _ in range(2):
                self.client.post(PASSWORD_RESET, {"email": "ana@example.com"})
        self.assertEqual(len(mail.outbox), 2)

        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(PASSWORD_RESET, {"email": "ana@example.com"})

        assert_problem(self, response, status.HTTP_429_TOO_MANY_REQUESTS, "throttled")
        self.assertIn("Retry-After", response)
        self.assertEqual(len(mail.outbox), 2)

    def test_throttle_counts_each_client_address_apart(self):
        for _ in range(2):
            self.login("ana@example.com", PASSWORD)

        response = self.client.post(
            LOGIN, {"email": "ana@example.com", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9"
        )

        self.assertEqual(response.status_code, status.HTTP_200_OK)

    def test_throttle_ignores_a_forged_forwarded_for_header(self):
        for _ in range(2):
            self.login("ana@example.com", PASSWORD)

        response = self.client.post(
            LOGIN,
            {"email": "ana@example.com", "password": PASSWORD},
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )

        assert_problem(self, response, status.HTTP_429_TOO_MANY_REQUESTS, "throttled")

    def test_refresh_token_is_not_throttled_by_the_auth_rate(self):
        user = InstructorFactory()
        refresh = services.tokens_for(user)["refresh"]
        for _ in range(3):
            response = self.client.post(REFRESH, {"refresh": refresh})
            self.assertEqual(response.status_code, status.HTTP_200_OK)
            refresh = response.json()["refresh"]


class StaleAuthorizationTests(AccountApiTestCase):
    """Register, login, refresh and password reset ignore the Authorization
    header: a client whose access token expired still sends it."""

    def setUp(self):
        super().setUp()
        self.user = ClientFactory(email="ana@example.com")
        expired = AccessToken.for_user(self.user)
        expired.set_exp(lifetime=-timedelta(seconds=1))
        self.stale_headers = {
            "expired access token": f"Bearer {expired}",
            "garbage token": "Bearer garbage.token.value",
            "unknown scheme": "Basic YW5hOnNlY3JldA==",
        }

    def send(self, path: str, body: dict, header: str):
        self.client.credentials(HTTP_AUTHORIZATION=header)
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(path, body)

    def test_a_stale_authorization_header_does_not_stop_a_refresh(self):
        for name, header in self.stale_headers.items():
            with self.subTest(header=name):
                refresh = services.tokens_for(self.user)["refresh"]

                response = self.send(REFRESH, {"refresh": refresh}, header)

                self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
                self.assertEqual(set(response.json()), {"access", "refresh"})

    def test_a_stale_authorization_header_does_not_stop_a_login(self):
        for name, header in self.stale_headers.items():
            with self.subTest(header=name):
                response = self.send(
                    LOGIN, {"email": "ana@example.com", "password": PASSWORD}, header
                )

                self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
                self.assertEqual(response.json()["user"]["id"], self.user.pk)

    def test_a_stale_authorization_header_does_not_stop_a_registration(self):
        for index, (name, header) in enumerate(self.stale_headers.items()):
            with self.subTest(header=name):
                email = f"new{index}@example.com"
                response = self.send(REGISTER, register_body(email=email), header)

                self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
                self.assertTrue(User.objects.filter(email=email).exists())

    def test_a_stale_authorization_header_does_not_stop_a_password_reset(self):
        for name, header in self.stale_headers.items():
            with self.subTest(header=name):
                mail.outbox = []

                response = self.send(PASSWORD_RESET, {"email": "ana@example.com"}, header)

                self.assertEqual(response.status_code, status.HTTP_202_ACCEPTED, response.content)
                self.assertEqual(len(mail.outbox), 1)

    def test_a_stale_authorization_header_does_not_stop_a_reset_confirmation(self):
        for name, header in self.stale_headers.items():
            with self.subTest(header=name):
                self.user.refresh_from_db()
                body = {
                    "uid": urlsafe_base64_encode(force_bytes(self.user.pk)),
                    "token": default_token_generator.make_token(self.user),
                    "new_password": f"{NEW_PASSWORD}-{name.split()[0]}",
                }

                response = self.send(PASSWORD_RESET_CONFIRM, body, header)

                self.assertEqual(response.status_code, status.HTTP_204_NO_CONTENT, response.content)
                self.user.refresh_from_db()
                self.assertTrue(self.user.check_password(body["new_password"]))

    def test_a_signed_in_endpoint_still_refuses_the_expired_token(self):
        self.client.credentials(HTTP_AUTHORIZATION=self.stale_headers["expired access token"])

        assert_problem(self, self.client.get(ME), status.HTTP_401_UNAUTHORIZED, "token_not_valid")
