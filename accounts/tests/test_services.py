import re

from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import RequestFactory, TestCase, override_settings
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services
from accounts.models import Role, User
from accounts.tests.factories import PASSWORD, ClientFactory, InstructorFactory, UserFactory
from core.errors import (
    ForbiddenError,
    InvalidCredentialsError,
    TokenNotValidError,
    ValidationFailedError,
)
from testing.api import NEW_PASSWORD


def _uid(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def _is_revoked(raw_refresh: str) -> bool:
    jti = RefreshToken(raw_refresh, verify=False)["jti"]
    return BlacklistedToken.objects.filter(token__jti=jti).exists()


class UserRegisterTests(TestCase):
    def register(self, **overrides) -> User:
        fields = {
            "email": "Ana@Example.COM",
            "password": PASSWORD,
            "name": "Ana",
            "role": Role.CLIENT,
        }
        fields.update(overrides)
        return services.user_register(**fields)

    def test_register_stores_the_email_lower_case(self):
        user = self.register(email="  Ana.Lopez@Example.COM ")

        user.refresh_from_db()
        self.assertEqual(user.email, "ana.lopez@example.com")

    def test_register_hashes_the_password(self):
        user = self.register()

        user.refresh_from_db()
        self.assertNotEqual(user.password, PASSWORD)
        self.assertTrue(user.check_password(PASSWORD))

    def test_register_keeps_the_role_and_name(self):
        user = self.register(role=Role.INSTRUCTOR, name="Ravi")

        user.refresh_from_db()
        self.assertEqual(user.role, Role.INSTRUCTOR)
        self.assertEqual(user.name, "Ravi")

    def test_register_never_makes_staff_or_superuser(self):
        user = self.register()

        user.refresh_from_db()
        self.assertFalse(user.is_staff)
        self.assertFalse(user.is_superuser)
        self.assertTrue(user.is_active)

    @override_settings(TIME_ZONE="America/New_York")
    def test_register_defaults_the_timezone_to_the_studio_zone(self):
        user = self.register()

        user.refresh_from_db()
        self.assertEqual(user.timezone, "America/New_York")

    def test_register_keeps_a_given_timezone(self):
        user = self.register(timezone="Europe/Berlin")

        user.refresh_from_db()
        self.assertEqual(user.timezone, "Europe/Berlin")

    def test_register_refuses_an_email_taken_in_another_case_and_leaves_one_user(self):
        UserFactory(email="ana@example.com")

        with self.assertRaises(ValidationFailedError) as caught:
            self.register(email="ANA@example.com")

        self.assertIn("email", caught.exception.errors)
        self.assertEqual(User.objects.filter(email__iexact="ana@example.com").count(), 1)

    def test_register_refuses_a_too_short_password_and_creates_nobody(self):
        with self.assertRaises(ValidationFailedError) as caught:
            self.register(password="Ab1-x")

        self.assertIn("password", caught.exception.errors)
        self.assertFalse(User.objects.exists())

    def test_register_refuses_a_common_password(self):
        with self.assertRaises(ValidationFailedError) as caught:
            self.register(password="password123")

        self.assertIn("password", caught.exception.errors)
        self.assertFalse(User.objects.exists())

    def test_register_refuses_an_all_numeric_password(self):
        with self.assertRaises(ValidationFailedError) as caught:
            self.register(password="8301947265")

        self.assertIn("password", caught.exception.errors)

    def test_register_refuses_a_password_too_like_the_email(self):
        with self.assertRaises(ValidationFailedError) as caught:
            self.register(email="margaretha.vandenberg@example.com", password="margarethavdb")

        self.assertIn("password", caught.exception.errors)
        self.assertFalse(User.objects.exists())


class UserAuthenticateTests(TestCase):
    def setUp(self):
        self.user = ClientFactory(email="ana@example.com")
        self.request = RequestFactory().post("/api/login/")

    def test_authenticate_ignores_the_email_case(self):
        user = services.user_authenticate(
            request=self.request, email=" ANA@Example.com", password=PASSWORD
        )

        self.assertEqual(user, self.user)

    def test_authenticate_records_the_last_login(self):
        self.assertIsNone(self.user.last_login)

        services.user_authenticate(request=self.request, email="ana@example.com", password=PASSWORD)

        self.user.refresh_from_db()
        self.assertIsNotNone(self.user.last_login)

    def test_authenticate_refuses_a_wrong_password(self):
        with self.assertRaises(InvalidCredentialsError):
            services.user_authenticate(
                request=self.request, email="ana@example.com", password="wrong-Pass-123"
            )

    def test_authenticate_refuses_an_unknown_email(self):
        with self.assertRaises(InvalidCredentialsError):
            services.user_authenticate(
                request=self.request, email="nobody@example.com", password=PASSWORD
            )

    def test_authenticate_refuses_an_inactive_user(self):
        self.user.is_active = False
        self.user.save()

        with self.assertRaises(InvalidCredentialsError):
            services.user_authenticate(
                request=self.request, email="ana@example.com", password=PASSWORD
            )


class TokenRefreshTests(TestCase):
    def setUp(self):
        self.user = ClientFactory()
        self.pair = services.tokens_for(self.user)

    def test_tokens_for_records_the_refresh_token_as_outstanding(self):
        jti = RefreshToken(self.pair["refresh"])["jti"]

        self.assertTrue(OutstandingToken.objects.filter(jti=jti, user=self.user).exists())

    def test_refresh_returns_a_new_pair_for_the_same_user(self):
        pair = services.token_refresh(refresh=self.pair["refresh"])

        self.assertNotEqual(pair["refresh"], self.pair["refresh"])
        self.assertNotEqual(pair["access"], self.pair["access"])
        self.assertEqual(RefreshToken(pair["refresh"])["user_id"], str(self.user.pk))

    def test_refresh_revokes_the_old_refresh_token(self):
        services.token_refresh(refresh=self.pair["refresh"])

        self.assertTrue(_is_revoked(self.pair["refresh"]))

    def test_refresh_refuses_a_refresh_token_used_twice(self):
        services.token_refresh(refresh=self.pair["refresh"])

        with self.assertRaises(TokenNotValidError):
            services.token_refresh(refresh=self.pair["refresh"])

    def test_refreshed_refresh_token_can_itself_be_refreshed(self):
        pair = services.token_refresh(refresh=self.pair["refresh"])

        again = services.token_refresh(refresh=pair["refresh"])

        self.assertTrue(_is_revoked(pair["refresh"]))
        self.assertFalse(_is_revoked(again["refresh"]))

    def test_refresh_refuses_garbage(self):
        with self.assertRaises(TokenNotValidError):
            services.token_refresh(refresh="not-a-token")

    def test_refresh_refuses_an_access_token(self):
        with self.assertRaises(TokenNotValidError):
            services.token_refresh(refresh=self.pair["access"])

    def test_refresh_refuses_a_token_the_studio_never_issued(self):
        token = RefreshToken()
        token["user_id"] = str(self.user.pk)

        with self.assertRaises(TokenNotValidError):
            services.token_refresh(refresh=str(token))

    def test_refresh_refuses_a_token_issued_before_a_password_set_outside_the_api(self):
        self.user.set_password(NEW_PASSWORD)
        self.user.save()

        with self.assertRaises(TokenNotValidError):
            services.token_refresh(refresh=self.pair["refresh"])

    def test_refresh_refuses_a_token_of_a_deactivated_user(self):
        self.user.is_active = False
        self.user.save()

        with self.assertRaises(TokenNotValidError):
            services.token_refresh(refresh=self.pair["refresh"])
        self.assertFalse(_is_revoked(self.pair["refresh"]))


class TokenRevokeTests(TestCase):
    def setUp(self):
        self.user = ClientFactory()
        self.pair = services.tokens_for(self.user)

    def test_revoke_blacklists_the_refresh_token(self):
        services.token_revoke(refresh=self.pair["refresh"], user=self.user)

        self.assertTrue(_is_revoked(self.pair["refresh"]))
        with self.assertRaises(TokenNotValidError):
            services.token_refresh(refresh=self.pair["refresh"])

    def test_revoke_leaves_the_users_other_refresh_tokens_alone(self):
        other = services.tokens_for(self.user)

        services.token_revoke(refresh=self.pair["refresh"], user=self.user)

        self.assertFalse(_is_revoked(other["refresh"]))

    def test_revoke_refuses_another_users_token_and_leaves_it_live(self):
        stranger = InstructorFactory()

        with self.assertRaises(ForbiddenError):
            services.token_revoke(refresh=self.pair["refresh"], user=stranger)

        self.assertFalse(_is_revoked(self.pair["refresh"]))

    def test_revoke_refuses_an_already_revoked_token(self):
        services.token_revoke(refresh=self.pair["refresh"], user=self.user)

        with self.assertRaises(TokenNotValidError):
            services.token_revoke(refresh=self.pair["refresh"], user=self.user)

    def test_revoke_refuses_garbage(self):
        with self.assertRaises(TokenNotValidError):
            services.token_revoke(refresh="garbage", user=self.user)

    def test_revoke_all_revokes_every_live_refresh_token_of_the_user_only(self):
        first = services.tokens_for(self.user)
        services.token_revoke(refresh=first["refresh"], user=self.user)
        stranger_pair = services.tokens_for(ClientFactory())

        revoked = services.user_revoke_refresh_tokens(user=self.user)

        self.assertEqual(revoked, 1)
        self.assertTrue(_is_revoked(self.pair["refresh"]))
        self.assertFalse(_is_revoked(stranger_pair["refresh"]))


class UserUpdateTests(TestCase):
    def test_update_changes_name_and_timezone(self):
        user = ClientFactory(name="Old", timezone="Asia/Kolkata")

        services.user_update(user=user, name="New", timezone="Europe/Paris", by=None)

        user.refresh_from_db()
        self.assertEqual(user.name, "New")
        self.assertEqual(user.timezone, "Europe/Paris")

    def test_update_leaves_fields_it_is_not_given(self):
        user = ClientFactory(name="Old", timezone="Asia/Kolkata")

        services.user_update(user=user, timezone="Europe/Paris", by=None)

        user.refresh_from_db()
        self.assertEqual(user.name, "Old")
        self.assertEqual(user.timezone, "Europe/Paris")


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
            self.assertTrue(_is_revoked(pair["refresh"]))
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
        self.assertFalse(_is_revoked(pair["refresh"]))

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

        self.assertTrue(_is_revoked(pair["refresh"]))

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
