"""The account services of users: registering, authenticating and updating one."""

from django.test import RequestFactory, TestCase, override_settings

from accounts import services
from accounts.models import Role, User
from accounts.tests.factories import PASSWORD, ClientFactory, UserFactory
from core.errors import (
    InvalidCredentialsError,
    ValidationFailedError,
)


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
