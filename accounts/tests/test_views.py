import re
from datetime import timedelta

from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from rest_framework import status
from rest_framework.test import APITestCase
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts import services
from accounts.models import Role, User
from accounts.tests.factories import PASSWORD, ClientFactory, InstructorFactory
from studio.testing import PROBLEM_KEYS, assert_problem, sign_in

NEW_PASSWORD = "fresh-Word-456"
USER_KEYS = {"id", "email", "name", "role", "timezone"}

REGISTER = reverse("register")
LOGIN = reverse("login")
REFRESH = reverse("refresh-token")
LOGOUT = reverse("logout")
ME = reverse("me")
PASSWORD_CHANGE = reverse("password-change")
PASSWORD_RESET = reverse("password-reset")
PASSWORD_RESET_CONFIRM = reverse("password-reset-confirm")


class ApiTestCase(APITestCase):
    """Clears the cache, so no test inherits another's throttle counts."""

    def setUp(self):
        cache.clear()

    def assert_invalid(self, response, *fields: str) -> dict:
        body = assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "invalid")
        for field in fields:
            self.assertIn(field, body["errors"])
            self.assertIsInstance(body["errors"][field], list)
            self.assertTrue(all(isinstance(m, str) and m for m in body["errors"][field]))
        return body

    def assert_token_refused(self, refresh: str) -> None:
        response = self.client.post(REFRESH, {"refresh": refresh})
        assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "token_not_valid")

    def login(self, email: str, password: str):
        return self.client.post(LOGIN, {"email": email, "password": password})


def _register_body(**overrides) -> dict:
    body = {
        "email": "ana@example.com",
        "password": PASSWORD,
        "name": "Ana",
        "role": "client",
    }
    body.update(overrides)
    return body


class RegisterViewTests(ApiTestCase):
    def test_register_returns_201_with_the_user_and_a_token_pair(self):
        response = self.client.post(REGISTER, _register_body(role="instructor"))

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
            },
        )

    def test_register_tokens_sign_the_new_user_in(self):
        body = self.client.post(REGISTER, _register_body()).json()

        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
        me = self.client.get(ME)
        self.assertEqual(me.status_code, status.HTTP_200_OK)
        self.assertEqual(me.json()["email"], "ana@example.com")
        self.client.credentials()
        refreshed = self.client.post(REFRESH, {"refresh": body["refresh"]})
        self.assertEqual(refreshed.status_code, status.HTTP_200_OK)

    def test_register_stores_the_email_lower_case(self):
        response = self.client.post(REGISTER, _register_body(email="Ana.Lopez@Example.COM"))

        self.assertEqual(response.status_code, status.HTTP_201_CREATED)
        self.assertEqual(response.json()["user"]["email"], "ana.lopez@example.com")
        self.assertTrue(User.objects.filter(email="ana.lopez@example.com").exists())

    def test_register_defaults_the_timezone_to_the_studio_zone(self):
        response = self.client.post(REGISTER, _register_body())

        self.assertEqual(response.json()["user"]["timezone"], settings.TIME_ZONE)
        self.assertEqual(User.objects.get().timezone, settings.TIME_ZONE)

    @override_settings(TIME_ZONE="America/New_York")
    def test_register_default_timezone_follows_the_studio_zone_setting(self):
        response = self.client.post(REGISTER, _register_body())

        self.assertEqual(response.json()["user"]["timezone"], "America/New_York")

    def test_register_keeps_a_given_timezone(self):
        response = self.client.post(REGISTER, _register_body(timezone="Europe/Berlin"))

        self.assertEqual(response.status_code, status.HTTP_201_CREATED)
        self.assertEqual(response.json()["user"]["timezone"], "Europe/Berlin")
        self.assertEqual(User.objects.get().timezone, "Europe/Berlin")

    def test_register_refuses_an_unknown_timezone_with_the_full_problem_body(self):
        response = self.client.post(REGISTER, _register_body(timezone="Mars/Olympus_Mons"))

        body = assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "invalid")
        self.assertEqual(body["title"], "Bad Request")
        self.assertEqual(set(body), PROBLEM_KEYS | {"errors"})
        self.assertEqual(set(body["errors"]), {"timezone"})
        self.assertFalse(User.objects.exists())

    def test_register_refuses_each_missing_field(self):
        for field in ["email", "password", "name", "role"]:
            with self.subTest(field=field):
                body = _register_body()
                del body[field]

                response = self.client.post(REGISTER, body)

                self.assert_invalid(response, field)
        self.assertFalse(User.objects.exists())

    def test_register_refuses_a_malformed_email(self):
        response = self.client.post(REGISTER, _register_body(email="not-an-email"))

        self.assert_invalid(response, "email")
        self.assertFalse(User.objects.exists())

    def test_register_refuses_the_admin_role(self):
        response = self.client.post(REGISTER, _register_body(role="admin"))

        self.assert_invalid(response, "role")
        self.assertFalse(User.objects.exists())

    def test_register_never_creates_staff_or_superusers(self):
        response = self.client.post(
            REGISTER, _register_body(is_staff=True, is_superuser=True, is_active=False)
        )

        self.assertEqual(response.status_code, status.HTTP_201_CREATED)
        user = User.objects.get()
        self.assertFalse(user.is_staff)
        self.assertFalse(user.is_superuser)
        self.assertTrue(user.is_active)
        self.assertEqual(user.role, Role.CLIENT)

    def test_register_refuses_an_email_taken_in_another_case(self):
        ClientFactory(email="ana@example.com")

        response = self.client.post(REGISTER, _register_body(email="ANA@Example.com"))

        self.assert_invalid(response, "email")
        self.assertEqual(User.objects.count(), 1)

    def test_register_refuses_a_weak_password_and_leaves_no_user(self):
        for password in ["short", "password123", "0123456789", "ana@example.com"]:
            with self.subTest(password=password):
                response = self.client.post(REGISTER, _register_body(password=password))

                self.assert_invalid(response, "password")
        self.assertFalse(User.objects.exists())

    def test_register_refuses_a_malformed_json_body(self):
        response = self.client.post(
            REGISTER, data='{"email": "ana@example.com",', content_type="application/json"
        )

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "parse_error")
        self.assertFalse(User.objects.exists())


class RegisterTypeTests(ApiTestCase):
    def test_register_refuses_a_name_or_password_that_is_not_a_string(self):
        for field, value in [("name", 12345), ("password", 83749261587)]:
            with self.subTest(field=field):
                response = self.client.post(REGISTER, _register_body(**{field: value}))

                self.assert_invalid(response, field)
                self.assertFalse(User.objects.exists())


class LoginViewTests(ApiTestCase):
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
class AuthThrottleTests(ApiTestCase):
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
            response = self.client.post(REGISTER, _register_body(email=f"new{n}@example.com"))
            self.assertEqual(response.status_code, status.HTTP_201_CREATED)

        response = self.client.post(REGISTER, _register_body(email="new2@example.com"))

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


class RefreshTokenViewTests(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.user = ClientFactory()
        self.pair = services.tokens_for(self.user)

    def test_refresh_returns_a_new_working_pair(self):
        response = self.client.post(REFRESH, {"refresh": self.pair["refresh"]})

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        body = response.json()
        self.assertEqual(set(body), {"access", "refresh"})
        self.assertNotEqual(body["refresh"], self.pair["refresh"])
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
        self.assertEqual(self.client.get(ME).json()["id"], self.user.pk)
        self.client.credentials()
        again = self.client.post(REFRESH, {"refresh": body["refresh"]})
        self.assertEqual(again.status_code, status.HTTP_200_OK)

    def test_refresh_refuses_the_old_refresh_token_afterwards(self):
        self.client.post(REFRESH, {"refresh": self.pair["refresh"]})

        self.assert_token_refused(self.pair["refresh"])

    def test_refresh_refuses_garbage(self):
        response = self.client.post(REFRESH, {"refresh": "garbage.token.value"})

        assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "token_not_valid")

    def test_refresh_refuses_an_expired_refresh_token(self):
        token = RefreshToken.for_user(self.user)
        token.set_exp(lifetime=-timedelta(seconds=1))

        self.assert_token_refused(str(token))

    def test_refresh_refuses_an_access_token(self):
        self.assert_token_refused(self.pair["access"])

    def test_refresh_refuses_a_deactivated_users_token(self):
        self.user.is_active = False
        self.user.save()

        self.assert_token_refused(self.pair["refresh"])

    def test_refresh_refuses_a_missing_refresh(self):
        response = self.client.post(REFRESH, {})

        self.assert_invalid(response, "refresh")

    def test_refresh_refuses_a_malformed_json_body(self):
        response = self.client.post(REFRESH, data="{", content_type="application/json")

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "parse_error")


class LogoutViewTests(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.user = ClientFactory()
        self.pair = sign_in(self.client, self.user)

    def test_logout_returns_204_and_revokes_the_refresh_token(self):
        response = self.client.post(LOGOUT, {"refresh": self.pair["refresh"]})

        self.assertEqual(response.status_code, status.HTTP_204_NO_CONTENT, response.content)
        self.client.credentials()
        self.assert_token_refused(self.pair["refresh"])

    def test_logout_leaves_the_users_other_sessions_alone(self):
        other = services.tokens_for(self.user)

        self.client.post(LOGOUT, {"refresh": self.pair["refresh"]})

        response = self.client.post(REFRESH, {"refresh": other["refresh"]})
        self.assertEqual(response.status_code, status.HTTP_200_OK)

    def test_logout_refuses_another_users_refresh_token_and_leaves_it_live(self):
        stranger = services.tokens_for(InstructorFactory())

        response = self.client.post(LOGOUT, {"refresh": stranger["refresh"]})

        assert_problem(self, response, status.HTTP_403_FORBIDDEN, "permission_denied")
        self.client.credentials()
        self.assertEqual(
            self.client.post(REFRESH, {"refresh": stranger["refresh"]}).status_code,
            status.HTTP_200_OK,
        )

    def test_logout_refuses_garbage_refresh(self):
        response = self.client.post(LOGOUT, {"refresh": "garbage"})

        assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "token_not_valid")

    def test_logout_refuses_a_refresh_token_already_revoked(self):
        self.client.post(LOGOUT, {"refresh": self.pair["refresh"]})

        response = self.client.post(LOGOUT, {"refresh": self.pair["refresh"]})

        assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "token_not_valid")

    def test_logout_refuses_a_missing_refresh(self):
        response = self.client.post(LOGOUT, {})

        self.assert_invalid(response, "refresh")

    def test_logout_refuses_a_malformed_json_body(self):
        response = self.client.post(LOGOUT, data="[1,", content_type="application/json")

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "parse_error")

    def test_logout_without_credentials_is_401_not_authenticated(self):
        self.client.credentials()

        response = self.client.post(LOGOUT, {"refresh": self.pair["refresh"]})

        assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "not_authenticated")
        self.assertIn("Bearer", response["WWW-Authenticate"])


class MeViewTests(ApiTestCase):
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
            user=self.user, old_password=PASSWORD, new_password=NEW_PASSWORD
        )

        self.assert_access_refused(self.pair["access"])


class PasswordChangeViewTests(ApiTestCase):
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


class PasswordResetViewTests(ApiTestCase):
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


class PasswordResetConfirmViewTests(ApiTestCase):
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


class MethodNotAllowedTests(ApiTestCase):
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
                response = getattr(self.client, method)(REGISTER, _register_body())

                assert_problem(
                    self, response, status.HTTP_405_METHOD_NOT_ALLOWED, "method_not_allowed"
                )
        self.assertFalse(User.objects.exists())
