"""Who may call each endpoint of API.md section 2, and who may use the admin."""

from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.test import TestCase
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework import status
from rest_framework.test import APITestCase

from accounts import services
from accounts.models import User
from accounts.tests.factories import PASSWORD, ClientFactory, InstructorFactory, UserFactory
from testing.api import NEW_PASSWORD, sign_in
from testing.problems import assert_problem


class EndpointPermissionTests(APITestCase):
    """Each endpoint x (anonymous, client, instructor)."""

    def setUp(self):
        cache.clear()
        self.users = {"client": ClientFactory(), "instructor": InstructorFactory()}

    def sign_in_as(self, who: str) -> User | None:
        """Signs `who` in on the test client; the user, or None for anonymous."""
        user = None if who == "anonymous" else self.users[who]
        sign_in(self.client, user)
        return user

    def assert_not_authenticated(self, response) -> None:
        assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "not_authenticated")

    # Protected endpoints: anonymous is refused, both roles succeed.

    def test_anonymous_cannot_log_out(self):
        refresh = services.tokens_for(self.users["client"])["refresh"]
        self.sign_in_as("anonymous")

        response = self.client.post(reverse("logout"), {"refresh": refresh})

        self.assert_not_authenticated(response)
        self.assertEqual(
            self.client.post(reverse("refresh-token"), {"refresh": refresh}).status_code,
            status.HTTP_200_OK,
        )

    def test_client_and_instructor_can_log_out(self):
        for who in ["client", "instructor"]:
            with self.subTest(who=who):
                user = self.sign_in_as(who)
                refresh = services.tokens_for(user)["refresh"]

                response = self.client.post(reverse("logout"), {"refresh": refresh})

                self.assertEqual(response.status_code, status.HTTP_204_NO_CONTENT)

    def test_anonymous_cannot_read_me(self):
        self.sign_in_as("anonymous")

        self.assert_not_authenticated(self.client.get(reverse("me")))

    def test_client_and_instructor_can_read_me(self):
        for who in ["client", "instructor"]:
            with self.subTest(who=who):
                user = self.sign_in_as(who)

                response = self.client.get(reverse("me"))

                self.assertEqual(response.status_code, status.HTTP_200_OK)
                self.assertEqual(response.json()["id"], user.pk)
                self.assertEqual(response.json()["role"], who)

    def test_anonymous_cannot_patch_me(self):
        self.sign_in_as("anonymous")

        response = self.client.patch(reverse("me"), {"name": "Nobody"})

        self.assert_not_authenticated(response)
        self.assertFalse(User.objects.filter(name="Nobody").exists())

    def test_client_and_instructor_can_patch_me(self):
        for who in ["client", "instructor"]:
            with self.subTest(who=who):
                user = self.sign_in_as(who)

                response = self.client.patch(reverse("me"), {"name": f"New {who}"})

                self.assertEqual(response.status_code, status.HTTP_200_OK)
                user.refresh_from_db()
                self.assertEqual(user.name, f"New {who}")

    def test_anonymous_cannot_put_me(self):
        self.sign_in_as("anonymous")

        self.assert_not_authenticated(self.client.put(reverse("me"), {"name": "Nobody"}))

    def test_anonymous_cannot_change_a_password(self):
        self.sign_in_as("anonymous")

        response = self.client.post(
            reverse("password-change"), {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
        )

        self.assert_not_authenticated(response)

    def test_client_and_instructor_can_change_their_password(self):
        for who in ["client", "instructor"]:
            with self.subTest(who=who):
                user = self.sign_in_as(who)

                response = self.client.post(
                    reverse("password-change"),
                    {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
                )

                self.assertEqual(response.status_code, status.HTTP_204_NO_CONTENT)
                user.refresh_from_db()
                self.assertTrue(user.check_password(NEW_PASSWORD))

    # Public endpoints: open to anyone, signed in or not.

    def test_anyone_can_register(self):
        for who in ["anonymous", "client", "instructor"]:
            with self.subTest(who=who):
                self.sign_in_as(who)

                response = self.client.post(
                    reverse("register"),
                    {
                        "email": f"new-{who}@example.com",
                        "password": PASSWORD,
                        "name": "New",
                        "role": "client",
                    },
                )

                self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)

    def test_anyone_can_log_in(self):
        for who in ["anonymous", "client", "instructor"]:
            with self.subTest(who=who):
                self.sign_in_as(who)

                response = self.client.post(
                    reverse("login"),
                    {"email": self.users["instructor"].email, "password": PASSWORD},
                )

                self.assertEqual(response.status_code, status.HTTP_200_OK)
                self.assertEqual(response.json()["user"]["id"], self.users["instructor"].pk)

    def test_anyone_can_refresh_a_token(self):
        for who in ["anonymous", "client", "instructor"]:
            with self.subTest(who=who):
                self.sign_in_as(who)
                refresh = services.tokens_for(self.users["client"])["refresh"]

                response = self.client.post(reverse("refresh-token"), {"refresh": refresh})

                self.assertEqual(response.status_code, status.HTTP_200_OK)

    def test_anyone_can_ask_for_a_password_reset(self):
        for who in ["anonymous", "client", "instructor"]:
            with self.subTest(who=who):
                self.sign_in_as(who)

                response = self.client.post(
                    reverse("password-reset"), {"email": self.users["client"].email}
                )

                self.assertEqual(response.status_code, status.HTTP_202_ACCEPTED)

    def test_anyone_can_confirm_a_password_reset(self):
        for who in ["anonymous", "client", "instructor"]:
            with self.subTest(who=who):
                self.sign_in_as(who)
                target = ClientFactory()

                response = self.client.post(
                    reverse("password-reset-confirm"),
                    {
                        "uid": urlsafe_base64_encode(force_bytes(target.pk)),
                        "token": default_token_generator.make_token(target),
                        "new_password": NEW_PASSWORD,
                    },
                )

                self.assertEqual(response.status_code, status.HTTP_204_NO_CONTENT)
                target.refresh_from_db()
                self.assertTrue(target.check_password(NEW_PASSWORD))


class AdminAccessTests(TestCase):
    login_url = "/admin/login/"
    changelist_url = "/admin/accounts/user/"

    def setUp(self):
        self.superuser = User.objects.create_superuser(
            email="Boss@Example.com", password=PASSWORD, name="Boss"
        )

    def admin_login(self, email: str, password: str = PASSWORD):
        return self.client.post(
            self.login_url, {"username": email, "password": password, "next": "/admin/"}
        )

    def test_admin_login_refuses_non_staff_users(self):
        for user in [ClientFactory(), InstructorFactory()]:
            with self.subTest(role=user.role):
                response = self.admin_login(user.email)

                self.assertEqual(response.status_code, status.HTTP_200_OK)
                self.assertTrue(response.context["form"].errors)
                self.assertNotIn("_auth_user_id", self.client.session)
                self.assertRedirects(
                    self.client.get("/admin/"),
                    "/admin/login/?next=/admin/",
                    fetch_redirect_response=False,
                )

    def test_admin_login_refuses_a_superuser_with_a_wrong_password(self):
        response = self.admin_login("boss@example.com", "wrong-Pass-123")

        self.assertEqual(response.status_code, status.HTTP_200_OK)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_create_superuser_sets_the_flags_and_stores_the_email_lower_case(self):
        self.assertTrue(self.superuser.is_staff)
        self.assertTrue(self.superuser.is_superuser)
        self.assertEqual(self.superuser.email, "boss@example.com")

    def test_admin_login_accepts_a_superuser_whatever_the_email_case(self):
        response = self.admin_login("BOSS@example.com")

        self.assertRedirects(response, "/admin/", fetch_redirect_response=False)
        self.assertEqual(self.client.session["_auth_user_id"], str(self.superuser.pk))
        self.assertEqual(self.client.get("/admin/").status_code, status.HTTP_200_OK)

    def test_user_changelist_loads_for_a_superuser_and_search_filters_it(self):
        UserFactory(email="ana.lopez@example.com", name="Ana Lopez")
        UserFactory(email="bob.stone@example.com", name="Bob Stone")
        self.client.force_login(self.superuser)

        full = self.client.get(self.changelist_url)
        found = self.client.get(self.changelist_url, {"q": "lopez"})

        self.assertEqual(full.status_code, status.HTTP_200_OK)
        self.assertContains(full, "bob.stone@example.com")
        self.assertContains(found, "ana.lopez@example.com")
        self.assertNotContains(found, "bob.stone@example.com")
        self.assertEqual(found.context["cl"].result_count, 1)

    def test_user_changelist_search_matches_the_name(self):
        UserFactory(email="ana@example.com", name="Priya Raman")
        UserFactory(email="bob@example.com", name="Bob Stone")
        self.client.force_login(self.superuser)

        response = self.client.get(self.changelist_url, {"q": "Priya"})

        self.assertEqual(response.status_code, status.HTTP_200_OK)
        self.assertEqual(
            [user.email for user in response.context["cl"].result_list], ["ana@example.com"]
        )

    def test_user_changelist_redirects_non_staff_to_the_login(self):
        self.client.force_login(ClientFactory())

        response = self.client.get(self.changelist_url)

        self.assertEqual(response.status_code, status.HTTP_302_FOUND)
        self.assertTrue(response["Location"].startswith(self.login_url))
