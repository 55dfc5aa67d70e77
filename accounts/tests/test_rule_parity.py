"""An account rule answers the same through the API and in the admin."""

from django.test import TestCase
from rest_framework.test import APIClient

from accounts.models import Role, User
from accounts.services import EMAIL_TAKEN
from accounts.tests.factories import PASSWORD, ClientFactory


class EmailTakenParityTests(TestCase):
    def setUp(self):
        self.taken = ClientFactory(email="ana@example.com")
        self.staff = User.objects.create_superuser(
            email="boss@example.com", password=PASSWORD, name="Boss"
        )
        self.client.force_login(self.staff)

    def api_register(self, email: str) -> list[str]:
        response = APIClient().post(
            "/api/register/",
            {"email": email, "password": PASSWORD, "name": "Other Ana", "role": Role.CLIENT},
            format="json",
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["code"], "invalid")
        return response.json()["errors"]["email"]

    def admin_errors(self, url: str, data: dict) -> list[str]:
        response = self.client.post(url, data)
        self.assertEqual(response.status_code, 200)
        return list(response.context["adminform"].form.errors["email"])

    def test_a_taken_email_has_one_message_in_the_api_and_the_admin_add_form(self):
        api = self.api_register("ANA@example.com")
        admin = self.admin_errors(
            "/admin/accounts/user/add/",
            {
                "email": "Ana@Example.com",
                "name": "Other Ana",
                "role": Role.CLIENT,
                "timezone": "Asia/Kolkata",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
        self.assertEqual(api, [str(EMAIL_TAKEN)])
        self.assertEqual(admin, api)
        self.assertEqual(User.objects.filter(email="ana@example.com").count(), 1)

    def test_a_taken_email_has_the_same_message_in_the_admin_change_form(self):
        other = ClientFactory(email="bea@example.com", name="Bea")
        admin = self.admin_errors(
            f"/admin/accounts/user/{other.pk}/change/",
            {
                "email": "ANA@example.com",
                "name": "Bea",
                "role": Role.CLIENT,
                "timezone": "Asia/Kolkata",
                "is_active": "on",
            },
        )
        self.assertEqual(admin, self.api_register("ana@example.com"))
        other.refresh_from_db()
        self.assertEqual(other.email, "bea@example.com")

    def test_keeping_ones_own_email_is_no_clash(self):
        response = self.client.post(
            f"/admin/accounts/user/{self.taken.pk}/change/",
            {
                "email": "Ana@example.com",
                "name": "Ana",
                "role": Role.CLIENT,
                "timezone": "Asia/Kolkata",
                "is_active": "on",
            },
        )
        self.assertEqual(response.status_code, 302)
