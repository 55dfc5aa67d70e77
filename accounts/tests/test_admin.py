from django.test import TestCase

from accounts import services
from accounts.models import Role, User
from accounts.tests.factories import PASSWORD, ClientFactory


class UserAdminTests(TestCase):
    add_url = "/admin/accounts/user/add/"

    def setUp(self):
        self.superuser = User.objects.create_superuser(
            email="boss@example.com", password=PASSWORD, name="Boss"
        )
        self.client.force_login(self.superuser)

    def add_form(self, **overrides) -> dict:
        data = {
            "email": "New.Person@Example.COM",
            "name": "New Person",
            "role": Role.INSTRUCTOR,
            "timezone": "Europe/London",
            "password1": PASSWORD,
            "password2": PASSWORD,
        }
        data.update(overrides)
        return data

    def test_add_page_loads(self):
        response = self.client.get(self.add_url)

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'name="email"')

    def test_admin_adds_a_user_with_the_email_lower_case_and_a_usable_password(self):
        response = self.client.post(self.add_url, self.add_form())

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        user = User.objects.get(email="new.person@example.com")
        self.assertEqual(user.role, Role.INSTRUCTOR)
        self.assertEqual(user.timezone, "Europe/London")
        self.assertTrue(user.check_password(PASSWORD))
        self.assertFalse(user.is_staff)

    def test_admin_add_refuses_an_email_taken_in_another_case(self):
        ClientFactory(email="new.person@example.com")

        response = self.client.post(self.add_url, self.add_form())

        self.assertEqual(response.status_code, 200)
        self.assertIn("email", response.context["adminform"].form.errors)
        self.assertEqual(User.objects.filter(email__iexact="new.person@example.com").count(), 1)

    def test_admin_add_refuses_an_unknown_timezone(self):
        response = self.client.post(self.add_url, self.add_form(timezone="Nowhere/Land"))

        self.assertEqual(response.status_code, 200)
        self.assertIn("timezone", response.context["adminform"].form.errors)
        self.assertFalse(User.objects.filter(email="new.person@example.com").exists())

    def test_change_page_loads_and_shows_the_user(self):
        user = ClientFactory(email="ana@example.com")

        response = self.client.get(f"/admin/accounts/user/{user.pk}/change/")

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "ana@example.com")

    def test_change_form_saves_the_email_lower_case(self):
        user = ClientFactory(email="ana@example.com", name="Ana")
        url = f"/admin/accounts/user/{user.pk}/change/"
        data = {
            "email": "Ana.New@Example.com",
            "name": "Ana New",
            "role": Role.CLIENT,
            "timezone": "Asia/Kolkata",
            "phone": "",
            "is_active": "on",
        }

        response = self.client.post(url, data)

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        user.refresh_from_db()
        self.assertEqual(user.email, "ana.new@example.com")
        self.assertEqual(user.name, "Ana New")
        self.assertTrue(user.check_password(PASSWORD))

    def test_admin_password_change_revokes_the_users_refresh_tokens(self):
        user = ClientFactory()
        refresh = services.tokens_for(user)["refresh"]
        url = f"/admin/accounts/user/{user.pk}/password/"

        response = self.client.post(
            url,
            {"password1": "admin-Set-789", "password2": "admin-Set-789", "usable_password": "true"},
        )

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        user.refresh_from_db()
        self.assertTrue(user.check_password("admin-Set-789"))
        refused = self.client.post(
            "/api/refresh-token/", {"refresh": refresh}, content_type="application/json"
        )
        self.assertEqual(refused.status_code, 401)
        self.assertEqual(refused.json()["code"], "token_not_valid")
