"""Who may teach: `STUDIO_INSTRUCTOR_SIGNUP` open (anyone registers as an
instructor) or closed (only staff grant the role, in the admin)."""

from django.conf import settings
from django.test import TestCase, override_settings
from rest_framework import status

from accounts import services
from accounts.models import Role, User
from accounts.tests.factories import PASSWORD, ClientFactory
from core.errors import InstructorSignupClosedError
from core.models import ActionLogEntry
from testing.api import REGISTER, AccountApiTestCase, register_body
from testing.problems import assert_problem


def written() -> tuple:
    return list(User.objects.values_list("pk", "email", "role")), ActionLogEntry.objects.count()


@override_settings(STUDIO_INSTRUCTOR_SIGNUP="closed")
class ClosedSignupServiceTests(TestCase):
    def test_user_register_refuses_an_instructor_and_writes_nothing(self):
        before = written()

        with self.assertRaises(InstructorSignupClosedError):
            services.user_register(
                email="priya@example.com", password=PASSWORD, name="Priya", role=Role.INSTRUCTOR
            )

        self.assertEqual(written(), before)

    def test_user_register_still_registers_a_client(self):
        user = services.user_register(
            email="maya@example.com", password=PASSWORD, name="Maya", role=Role.CLIENT
        )

        self.assertEqual(user.role, Role.CLIENT)


class OpenSignupServiceTests(TestCase):
    def test_the_setting_is_open_by_default(self):
        self.assertEqual(settings.STUDIO_INSTRUCTOR_SIGNUP, "open")

    def test_user_register_registers_an_instructor_while_open(self):
        user = services.user_register(
            email="priya@example.com", password=PASSWORD, name="Priya", role=Role.INSTRUCTOR
        )

        self.assertEqual(user.role, Role.INSTRUCTOR)


class InstructorSignupViewTests(AccountApiTestCase):
    @override_settings(STUDIO_INSTRUCTOR_SIGNUP="closed")
    def test_registering_as_an_instructor_while_closed_is_403_and_writes_nothing(self):
        before = written()

        response = self.client.post(REGISTER, register_body(role="instructor"), format="json")

        assert_problem(self, response, status.HTTP_403_FORBIDDEN, "instructor_signup_closed")
        self.assertEqual(written(), before)

    @override_settings(STUDIO_INSTRUCTOR_SIGNUP="closed")
    def test_registering_as_a_client_while_closed_is_201(self):
        response = self.client.post(REGISTER, register_body(role="client"), format="json")

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        self.assertEqual(response.json()["user"]["role"], "client")

    @override_settings(STUDIO_INSTRUCTOR_SIGNUP="closed")
    def test_invalid_fields_are_still_400_while_closed(self):
        body = register_body(role="instructor", email="not-an-email")

        response = self.client.post(REGISTER, body, format="json")

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "invalid")

    @override_settings(STUDIO_INSTRUCTOR_SIGNUP="open")
    def test_registering_as_an_instructor_while_open_is_201(self):
        response = self.client.post(REGISTER, register_body(role="instructor"), format="json")

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        self.assertEqual(User.objects.get().role, Role.INSTRUCTOR)


@override_settings(STUDIO_INSTRUCTOR_SIGNUP="closed")
class StaffGrantTheRoleTests(TestCase):
    def test_staff_make_a_client_an_instructor_in_the_admin_while_signup_is_closed(self):
        staff = User.objects.create_superuser(
            email="boss@example.com", password=PASSWORD, name="Boss"
        )
        self.client.force_login(staff)
        user = ClientFactory()

        response = self.client.post(
            f"/admin/accounts/user/{user.pk}/change/",
            {
                "email": user.email,
                "name": user.name,
                "role": Role.INSTRUCTOR,
                "timezone": user.timezone,
                "is_active": "on",
            },
        )

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        user.refresh_from_db()
        self.assertEqual(user.role, Role.INSTRUCTOR)
