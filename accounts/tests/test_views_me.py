"""The signed-in user's profile (GET and PATCH /api/me/), and the methods the
account endpoints refuse."""

from datetime import timedelta

from rest_framework import status
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services
from accounts.models import Role, User
from accounts.tests.factories import PASSWORD, ClientFactory
from testing.api import (
    LOGIN,
    LOGOUT,
    ME,
    NEW_PASSWORD,
    PASSWORD_CHANGE,
    PASSWORD_RESET,
    PASSWORD_RESET_CONFIRM,
    REFRESH,
    REGISTER,
    AccountApiTestCase,
    register_body,
    sign_in,
)
from testing.problems import assert_problem


class MeViewTests(AccountApiTestCase):
    def setUp(self):
        super().setUp()
        self.user = ClientFactory(email="ana@example.com", name="Ana", timezone="Asia/Kolkata")
        self.pair = sign_in(self.client, self.user)

    def test_me_returns_the_signed_in_user(self):
        response = self.client.get(ME)

        self.assertEqual(response.status_code, status.HTTP_200_OK)
        self.assertEqual(
            response.json(),
            {
                "id": self.user.pk,
                "email": "ana@example.com",
                "name": "Ana",
                "role": "client",
                "timezone": "Asia/Kolkata",
                "email_reminders": True,
            },
        )

    def test_patch_me_changes_name_and_timezone(self):
        response = self.client.patch(ME, {"name": "Ana Lopez", "timezone": "America/New_York"})

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        self.assertEqual(response.json()["name"], "Ana Lopez")
        self.assertEqual(response.json()["timezone"], "America/New_York")
        self.user.refresh_from_db()
        self.assertEqual(self.user.name, "Ana Lopez")
        self.assertEqual(self.user.timezone, "America/New_York")

    def test_patch_me_refuses_a_name_that_is_not_a_string(self):
        for name in [0, 1.5, True]:
            with self.subTest(name=name):
                response = self.client.patch(ME, {"name": name})

                self.assert_invalid(response, "name")
                self.user.refresh_from_db()
                self.assertEqual(self.user.name, "Ana")

    def test_patch_me_does_not_change_role_or_email(self):
        response = self.client.patch(
            ME, {"role": "instructor", "email": "boss@example.com", "name": "Ana L"}
        )

        self.assertEqual(response.status_code, status.HTTP_200_OK)
        self.assertEqual(response.json()["role"], "client")
        self.assertEqual(response.json()["email"], "ana@example.com")
        self.user.refresh_from_db()
        self.assertEqual(self.user.role, Role.CLIENT)
        self.assertEqual(self.user.email, "ana@example.com")
        self.assertEqual(self.user.name, "Ana L")

    def test_patch_me_does_not_set_staff_flags(self):
        response = self.client.patch(ME, {"is_staff": True, "is_superuser": True})

        self.assertEqual(response.status_code, status.HTTP_200_OK)
        self.user.refresh_from_db()
        self.assertFalse(self.user.is_staff)
        self.assertFalse(self.user.is_superuser)

    def test_patch_me_refuses_an_unknown_timezone(self):
        response = self.client.patch(ME, {"timezone": "Atlantis/Capital"})

        self.assert_invalid(response, "timezone")
        self.user.refresh_from_db()
        self.assertEqual(self.user.timezone, "Asia/Kolkata")

    def test_patch_me_refuses_a_blank_name(self):
        response = self.client.patch(ME, {"name": ""})

        self.assert_invalid(response, "name")
        self.user.refresh_from_db()
        self.assertEqual(self.user.name, "Ana")

    def test_patch_me_refuses_a_malformed_json_body(self):
        response = self.client.patch(ME, data='{"name": ', content_type="application/json")

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "parse_error")

    def test_put_me_is_405(self):
        response = self.client.put(ME, {"name": "X", "timezone": "Asia/Kolkata"})

        assert_problem(self, response, status.HTTP_405_METHOD_NOT_ALLOWED, "method_not_allowed")
        self.user.refresh_from_db()
        self.assertEqual(self.user.name, "Ana")

    def test_delete_me_is_405(self):
        response = self.client.delete(ME)

        assert_problem(self, response, status.HTTP_405_METHOD_NOT_ALLOWED, "method_not_allowed")
        self.assertTrue(User.objects.filter(pk=self.user.pk).exists())

    def test_me_without_credentials_is_401_not_authenticated(self):
        self.client.credentials()

        response = self.client.get(ME)

        assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "not_authenticated")

    def test_me_with_another_auth_scheme_is_401_not_authenticated(self):
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {self.pair['access']}")

        response = self.client.get(ME)

        assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "not_authenticated")

    def assert_access_refused(self, access: str) -> None:
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        response = self.client.get(ME)
        body = assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "token_not_valid")
        self.assertNotIn("email", body)

    def test_me_refuses_a_garbage_access_token(self):
        self.assert_access_refused("garbage")

    def test_me_refuses_an_expired_access_token(self):
        token = AccessToken.for_user(self.user)
        token.set_exp(lifetime=-timedelta(seconds=1))

        self.assert_access_refused(str(token))

    def test_me_refuses_a_refresh_token_used_as_access(self):
        self.assert_access_refused(self.pair["refresh"])

    def test_me_refuses_an_access_token_signed_with_another_key(self):
        header, payload, _signature = self.pair["access"].split(".")

        self.assert_access_refused(f"{header}.{payload}.c2lnbmVkLWJ5LXNvbWVvbmUtZWxzZQ")

    def test_me_refuses_the_access_token_of_a_deactivated_user(self):
        self.user.is_active = False
        self.user.save()

        self.assert_access_refused(self.pair["access"])

    def test_me_refuses_the_access_token_of_a_deleted_user(self):
        self.user.delete()

        self.assert_access_refused(self.pair["access"])

    def test_me_refuses_an_access_token_revoked_by_a_password_change(self):
        services.user_change_password(
            user=self.user, old_password=PASSWORD, new_password=NEW_PASSWORD, by=None
        )

        self.assert_access_refused(self.pair["access"])


class MethodNotAllowedTests(AccountApiTestCase):
    def test_each_post_endpoint_refuses_get_with_405(self):
        sign_in(self.client, ClientFactory())
        endpoints = [
            REGISTER,
            LOGIN,
            REFRESH,
            LOGOUT,
            PASSWORD_CHANGE,
            PASSWORD_RESET,
            PASSWORD_RESET_CONFIRM,
        ]
        for url in endpoints:
            with self.subTest(url=url):
                response = self.client.get(url)

                assert_problem(
                    self, response, status.HTTP_405_METHOD_NOT_ALLOWED, "method_not_allowed"
                )

    def test_register_refuses_put_and_delete_with_405(self):
        for method in ["put", "delete"]:
            with self.subTest(method=method):
                response = getattr(self.client, method)(REGISTER, register_body())

                assert_problem(
                    self, response, status.HTTP_405_METHOD_NOT_ALLOWED, "method_not_allowed"
                )
        self.assertFalse(User.objects.exists())
