"""Factories for sessions and time slots; other apps import these for their timetables.

The slots are written straight to the database, past the services' checks:
a test that needs the rules applied goes through `sessions_app.services`.
"""

from datetime import timedelta

import factory
from django.utils.timezone import now

from accounts.tests.factories import InstructorFactory
from sessions_app.models import Category, Session, TimeSlot


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    instructor = factory.SubFactory(InstructorFactory)
    title = factory.Sequence(lambda n: f"Session {n}")
    description = ""
    category = Category.YOGA


class TimeSlotFactory(factory.django.DjangoModelFactory):
    """A slot of one hour that starts a day from now, with ten seats."""

    class Meta:
        model = TimeSlot

    session = factory.SubFactory(SessionFactory)
    start = factory.LazyFunction(lambda: now() + timedelta(days=1))
    end = factory.LazyAttribute(lambda slot: slot.start + timedelta(hours=1))
    capacity = 10
