"""Helpers for booking tests: slots made through the ORM, bookings through the service.

Bookings are always made with `bookings.services.booking_create`, so each
slot's `booked` counter stays equal to its confirmed bookings.
"""

from datetime import datetime, timedelta

from django.utils.timezone import now

from accounts.models import User
from accounts.tests.factories import InstructorFactory
from bookings import services
from bookings.models import Booking
from sessions_app.models import Category, Session, TimeSlot


def make_slot(
    *,
    instructor: User | None = None,
    start: datetime | None = None,
    minutes: int = 60,
    capacity: int = 10,
    title: str = "Morning Yoga",
    category: str = Category.YOGA,
) -> TimeSlot:
    """A new session with one time slot; the slot starts a day from now unless told."""
    session = Session.objects.create(
        instructor=instructor or InstructorFactory(),
        title=title,
        description=f"{title}, all levels.",
        category=category,
    )
    start = start if start is not None else now() + timedelta(days=1)
    return TimeSlot.objects.create(
        session=session, start=start, end=start + timedelta(minutes=minutes), capacity=capacity
    )


def add_slot(
    session: Session, *, start: datetime, minutes: int = 60, capacity: int = 10
) -> TimeSlot:
    """Another time slot of an existing session."""
    return TimeSlot.objects.create(
        session=session, start=start, end=start + timedelta(minutes=minutes), capacity=capacity
    )


def book(client: User, slot: TimeSlot) -> Booking:
    """Books `slot` for `client` through the service and refreshes the slot."""
    booking = services.booking_create(client=client, time_slot_id=slot.pk)
    slot.refresh_from_db()
    return booking


def move_to_past(slot: TimeSlot, *, ago: timedelta = timedelta(minutes=5)) -> TimeSlot:
    """Lets `slot` start `ago` before now, keeping its length, as if time had passed."""
    length = slot.end - slot.start
    start = now() - ago
    TimeSlot.objects.filter(pk=slot.pk).update(start=start, end=start + length)
    slot.refresh_from_db()
    return slot
