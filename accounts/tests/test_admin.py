from django.test import TestCase

from accounts import services
from accounts.models import Role, User
from accounts.tests.factories import PASSWORD, ClientFactory, InstructorFactory
from sessions_app.tests.factories import SessionFactory
from testing.admin import AdminTestCase, column
from testing.problems import assert_problem

CHANGELIST = "/admin/accounts/user/"


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
        assert_problem(self, refused, 401, "token_not_valid")


class UserChangelistTests(AdminTestCase):
    def test_changelist_shows_role_and_time_zone(self):
        ClientFactory(email="ana@example.com", timezone="Europe/London")
        InstructorFactory(email="maya@example.com", timezone="Asia/Kolkata")

        response = self.client.get(CHANGELIST)

        self.assertEqual(
            column(response, "email"), ["ana@example.com", "boss@example.com", "maya@example.com"]
        )
        self.assertEqual(column(response, "role"), ["Client", "Client", "Instructor"])
        self.assertEqual(
            column(response, "timezone"), ["Europe/London", "Asia/Kolkata", "Asia/Kolkata"]
        )

    def test_changelist_filters_by_role(self):
        maya = InstructorFactory()
        ClientFactory()

        response = self.client.get(CHANGELIST, {"role__exact": Role.INSTRUCTOR})

        self.assertEqual(self.listed(response), {maya.pk})

    def test_changelist_filters_by_time_zone(self):
        london = ClientFactory(timezone="Europe/London")
        InstructorFactory(timezone="Asia/Kolkata")

        page = self.client.get(CHANGELIST)
        response = self.client.get(CHANGELIST, {"timezone": "Europe/London"})

        self.assertContains(page, 'href="?timezone=Europe%2FLondon"')
        self.assertContains(page, 'href="?timezone=Asia%2FKolkata"')
        self.assertEqual(self.listed(response), {london.pk})

    def test_changelist_searches_by_email(self):
        ana = ClientFactory(email="ana.lopez@example.com")
        ClientFactory(email="bob@example.com")

        response = self.client.get(CHANGELIST, {"q": "lopez"})

        self.assertEqual(self.listed(response), {ana.pk})

    def test_changelist_queries_do_not_grow_with_its_rows(self):
        self.assert_queries_do_not_grow(
            CHANGELIST,
            ClientFactory,
            lambda response: response.context["cl"].result_count - 1,  # and the superuser
        )

    def test_filtered_changelist_queries_do_not_grow_with_its_rows(self):
        self.assert_queries_do_not_grow(
            f"{CHANGELIST}?role__exact=instructor&timezone=Asia%2FKolkata&q=example",
            lambda: InstructorFactory(timezone="Asia/Kolkata"),
        )


class UserRoleChangeTests(AdminTestCase):
    def change(self, user: User, role: str):
        return self.client.post(
            f"{CHANGELIST}{user.pk}/change/",
            {
                "email": user.email,
                "name": user.name,
                "role": role,
                "timezone": user.timezone,
                "is_active": "on",
            },
        )

    def test_staff_make_a_client_an_instructor_who_can_then_use_the_instructor_api(self):
        user = ClientFactory()
        tokens = services.tokens_for(user)

        response = self.change(user, Role.INSTRUCTOR)

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        user.refresh_from_db()
        self.assertEqual(user.role, Role.INSTRUCTOR)
        own = self.client.get(
            "/api/sessions/instructor/", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}"
        )
        self.assertEqual(own.status_code, 200)

    def test_a_role_change_keeps_the_password_and_the_users_sign_in(self):
        user = ClientFactory()
        refresh = services.tokens_for(user)["refresh"]

        self.change(user, Role.INSTRUCTOR)

        user.refresh_from_db()
        self.assertTrue(user.check_password(PASSWORD))
        renewed = self.client.post(
            "/api/refresh-token/", {"refresh": refresh}, content_type="application/json"
        )
        self.assertEqual(renewed.status_code, 200)
        me = self.client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {renewed.json()['access']}")
        self.assertEqual(me.json()["role"], Role.INSTRUCTOR)

    def test_an_instructor_without_sessions_can_become_a_client(self):
        user = InstructorFactory()

        response = self.change(user, Role.CLIENT)

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        self.assertEqual(User.objects.get(pk=user.pk).role, Role.CLIENT)

    def test_an_instructor_who_teaches_sessions_keeps_the_role(self):
        user = InstructorFactory()
        SessionFactory(instructor=user)

        response = self.change(user, Role.CLIENT)

        self.assertEqual(response.status_code, 200)
        errors = response.context["adminform"].form.errors
        self.assertEqual(
            errors["role"],
            ["This instructor teaches 1 session; give it to another instructor first."],
        )
        self.assertEqual(User.objects.get(pk=user.pk).role, Role.INSTRUCTOR)
