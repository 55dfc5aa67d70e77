"""The admin is for staff only: its index and every changelist of the models
registered in the admin site, for anonymous, signed-in non-staff users, an
API token, and staff with and without permissions.
"""

from django.contrib import admin
from django.test import TestCase
from django.urls import reverse

from accounts import services as account_services
from accounts.models import User
from accounts.tests.factories import PASSWORD, ClientFactory, InstructorFactory, UserFactory
from bookings.models import Booking
from bookings.tests.factories import book, make_slot
from sessions_app.models import Session, TimeSlot


class AdminOnlyForStaffTests(TestCase):
    """The admin index and the changelist of every model registered in the admin
    site (read from the site, so a new ModelAdmin is covered): staff only."""

    @classmethod
    def setUpTestData(cls):
        cls.staff = User.objects.create_superuser(
            email="staff@example.com", password=PASSWORD, name="Staff"
        )
        cls.non_staff = {
            "client": ClientFactory(),
            "instructor": InstructorFactory(),
            "superuser flag without staff": UserFactory(is_superuser=True),
        }
        cls.staff_without_permissions = UserFactory(is_staff=True)
        book(make_slot(), ClientFactory())  # a row in every changelist

    def pages(self) -> list[str]:
        changelists = [
            reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            for model in admin.site._registry
        ]
        return [reverse("admin:index"), *changelists]

    def assert_sent_to_login(self, response, page: str) -> None:
        self.assertEqual(response.status_code, 302, page)
        self.assertEqual(response["Location"], f"{reverse('admin:login')}?next={page}", page)

    def test_the_studio_models_are_in_the_admin(self):
        self.assertTrue({User, Session, TimeSlot, Booking} <= set(admin.site._registry))

    def test_anonymous_is_sent_to_the_login(self):
        for page in self.pages():
            with self.subTest(page=page):
                self.assert_sent_to_login(self.client.get(page), page)

    def test_signed_in_users_who_are_not_staff_are_sent_to_the_login(self):
        for who, user in self.non_staff.items():
            self.client.force_login(user)
            for page in self.pages():
                with self.subTest(who=who, page=page):
                    self.assert_sent_to_login(self.client.get(page), page)

    def test_an_api_token_does_not_open_the_admin(self):
        access = account_services.tokens_for(self.staff)["access"]
        for page in self.pages():
            with self.subTest(page=page):
                response = self.client.get(page, headers={"Authorization": f"Bearer {access}"})

                self.assert_sent_to_login(response, page)

    def test_staff_see_the_index_and_every_changelist(self):
        self.client.force_login(self.staff)
        for page in self.pages():
            with self.subTest(page=page):
                self.assertEqual(self.client.get(page).status_code, 200, page)

    def test_staff_see_only_the_changelists_they_have_permission_for(self):
        self.client.force_login(self.staff_without_permissions)
        index, *changelists = self.pages()

        self.assertEqual(self.client.get(index).status_code, 200)
        for page in changelists:
            with self.subTest(page=page):
                self.assertEqual(self.client.get(page).status_code, 403, page)
