"""Factories for accounts; other apps import these for their users.

Every user made here signs in with the password `PASSWORD`, the one
`testing.api` signs in with.
"""

import factory

from accounts.models import Role, User
from testing.api import PASSWORD


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    role = Role.CLIENT
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        """Stores the hash that `set_password` made after the first save."""
        if create:
            instance.save(update_fields=["password"])


class ClientFactory(UserFactory):
    role = Role.CLIENT


class InstructorFactory(UserFactory):
    role = Role.INSTRUCTOR
