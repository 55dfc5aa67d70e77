"""Registering through HTTP: the answer, the account made, and the checks of
the body."""

from django.conf import settings
from django.test import override_settings
from rest_framework import status

from accounts.models import Role, User
from accounts.tests.factories import ClientFactory
from testing.api import (
    ME,
    REFRESH,
    REGISTER,
    USER_KEYS,
    AccountApiTestCase,
    register_body,
)
from testing.problems import PROBLEM_KEYS, assert_problem


class RegisterViewTests(AccountApiTestCase):
    def test_register_returns_201_with_the_user_and_a_token_pair(self):
        response = self.client.post(REGISTER, register_body(role="instructor"))

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        body = response.json()
        self.assertEqual(set(body), {"user", "access", "refresh"})
        self.assertEqual(set(body["user"]), USER_KEYS)
        user = User.objects.get()
        self.assertEqual(
            body["user"],
            {
                "id": user.pk,
                "email": "ana@example.com",
                "name": "Ana",
                "role": "instructor",
                "timezone": settings.TIME_ZONE,
                "email_reminders": True,
            },
        )

    def test_register_tokens_sign_the_new_user_in(self):
        body = self.client.post(REGISTER, register_body()).json()

        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
        me = self.client.get(ME)
        self.assertEqual(me.status_code, status.HTTP_200_OK)
        self.assertEqual(me.json()["email"], "ana@example.com")
        self.client.credentials()
        refreshed = self.client.post(REFRESH, {"refresh": body["refresh"]})
        self.assertEqual(refreshed.status_code, status.HTTP_200_OK)

    def test_register_stores_the_email_lower_case(self):
        response = self.client.post(REGISTER, register_body(email="Ana.Lopez@Example.COM"))

        self.assertEqual(response.status_code, status.HTTP_201_CREATED)
        self.assertEqual(response.json()["user"]["email"], "ana.lopez@example.com")
        self.assertTrue(User.objects.filter(email="ana.lopez@example.com").exists())

    def test_register_defaults_the_timezone_to_the_studio_zone(self):
        response = self.client.post(REGISTER, register_body())

        self.assertEqual(response.json()["user"]["timezone"], settings.TIME_ZONE)
        self.assertEqual(User.objects.get().timezone, settings.TIME_ZONE)

    @override_settings(TIME_ZONE="America/New_York")
    def test_register_default_timezone_follows_the_studio_zone_setting(self):
        response = self.client.post(REGISTER, register_body())

        self.assertEqual(response.json()["user"]["timezone"], "America/New_York")

    def test_register_keeps_a_given_timezone(self):
        response = self.client.post(REGISTER, register_body(timezone="Europe/Berlin"))

        self.assertEqual(response.status_code, status.HTTP_201_CREATED)
        self.assertEqual(response.json()["user"]["timezone"], "Europe/Berlin")
        self.assertEqual(User.objects.get().timezone, "Europe/Berlin")

    def test_register_refuses_an_unknown_timezone_with_the_full_problem_body(self):
        response = self.client.post(REGISTER, register_body(timezone="Mars/Olympus_Mons"))

        body = assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "invalid")
        self.assertEqual(body["title"], "Bad Request")
        self.assertEqual(set(body), PROBLEM_KEYS | {"errors"})
        self.assertEqual(set(body["errors"]), {"timezone"})
        self.assertFalse(User.objects.exists())

    def test_register_refuses_each_missing_field(self):
        for field in ["email", "password", "name", "role"]:
            with self.subTest(field=field):
                body = register_body()
                del body[field]

                response = self.client.post(REGISTER, body)

                self.assert_invalid(response, field)
        self.assertFalse(User.objects.exists())

    def test_register_refuses_a_malformed_email(self):
        response = self.client.post(REGISTER, register_body(email="not-an-email"))

        self.assert_invalid(response, "email")
        self.assertFalse(User.objects.exists())

    def test_register_refuses_the_admin_role(self):
        response = self.client.post(REGISTER, register_body(role="admin"))

        self.assert_invalid(response, "role")
        self.assertFalse(User.objects.exists())

    def test_register_never_creates_staff_or_superusers(self):
        response = self.client.post(
            REGISTER, register_body(is_staff=True, is_superuser=True, is_active=False)
        )

        self.assertEqual(response.status_code, status.HTTP_201_CREATED)
        user = User.objects.get()
        self.assertFalse(user.is_staff)
        self.assertFalse(user.is_superuser)
        self.assertTrue(user.is_active)
        self.assertEqual(user.role, Role.CLIENT)

    def test_register_refuses_an_email_taken_in_another_case(self):
        ClientFactory(email="ana@example.com")

        response = self.client.post(REGISTER, register_body(email="ANA@Example.com"))

        self.assert_invalid(response, "email")
        self.assertEqual(User.objects.count(), 1)

    def test_register_refuses_a_weak_password_and_leaves_no_user(self):
        for password in ["short", "password123", "0123456789", "ana@example.com"]:
            with self.subTest(password=password):
                response = self.client.post(REGISTER, register_body(password=password))

                self.assert_invalid(response, "password")
        self.assertFalse(User.objects.exists())

    def test_register_refuses_a_malformed_json_body(self):
        response = self.client.post(
            REGISTER, data='{"email": "ana@example.com",', content_type="application/json"
        )

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "parse_error")
        self.assertFalse(User.objects.exists())


class RegisterTypeTests(AccountApiTestCase):
    def test_register_refuses_a_name_or_password_that_is_not_a_string(self):
        for field, value in [("name", 12345), ("password", 83749261587)]:
            with self.subTest(field=field):
                response = self.client.post(REGISTER, register_body(**{field: value}))

                self.assert_invalid(response, field)
                self.assertFalse(User.objects.exists())
