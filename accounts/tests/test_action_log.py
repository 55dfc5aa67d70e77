"""The account services record who changed an account, never a password."""

from django.contrib.contenttypes.models import ContentType
from django.test import TestCase

from accounts import services
from accounts.models import Role, User
from accounts.tests.factories import PASSWORD, ClientFactory
from core.models import ActionLogEntry


def entries_for(user: User) -> list[ActionLogEntry]:
    return list(
        ActionLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(User), object_id=user.pk
        ).order_by("created_at", "id")
    )


class AccountActionLogTests(TestCase):
    def test_user_register_records_the_new_account_as_its_own_actor(self):
        user = services.user_register(
            email="Ana@Example.com", password=PASSWORD, name="Ana", role=Role.CLIENT
        )
        [entry] = entries_for(user)
        self.assertEqual(
            (entry.action, entry.actor, entry.data), ("user.registered", user, {"role": "client"})
        )

    def test_user_update_records_old_and_new_values_of_what_changed(self):
        user = ClientFactory(name="Ana", timezone="Asia/Kolkata")
        services.user_update(user=user, by=user, name="Ana B", timezone="Asia/Kolkata")
        [entry] = entries_for(user)
        self.assertEqual(entry.action, "user.updated")
        self.assertEqual(entry.actor, user)
        self.assertEqual(entry.data, {"name": ["Ana", "Ana B"]})

    def test_user_update_without_a_change_records_nothing(self):
        user = ClientFactory(name="Ana")
        services.user_update(user=user, by=user, name="Ana")
        self.assertEqual(entries_for(user), [])

    def test_a_password_change_is_recorded_without_the_password(self):
        user = ClientFactory()
        services.user_change_password(
            user=user, old_password=PASSWORD, new_password="another-Pass-456", by=user
        )
        [entry] = entries_for(user)
        self.assertEqual(
            (entry.action, entry.actor, entry.data), ("user.password_changed", user, {})
        )
