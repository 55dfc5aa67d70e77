"""Factories for bookings, and the slots booking tests start from.

Slots are written through the ORM; bookings are always made with
`bookings.services.booking_create` (BookingFactory, or `testing.bookings.book`),
so each slot's `booked` counter stays equal to its confirmed bookings.
"""

from datetime import datetime, timedelta

import factory
from django.utils.timezone import now

from accounts.models import User
from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings import services
from bookings.models import Booking
from sessions_app.models import Category, Session, TimeSlot
from sessions_app.tests.factories import TimeSlotFactory


class BookingFactory(factory.django.DjangoModelFactory):
    """A confirmed booking of a new client on a new slot, unless told.

    It books through `bookings.services.booking_create`, never by inserting the
    row, so the booking rules apply and the slot's `booked` counter counts it;
    `cancelled=True` then cancels it through `booking_cancel`, freeing the seat.
    The slot passed in is refreshed from the database afterwards.
    """

    class Meta:
        model = Booking

    client = factory.SubFactory(ClientFactory)
    time_slot = factory.SubFactory(TimeSlotFactory)

    @classmethod
    def _create(cls, model_class, *, client, time_slot, cancelled=False, **fields):
        if fields:
            raise TypeError(f"BookingFactory sets only client and time_slot, not {sorted(fields)}")
        booking = services.booking_create(client=client, time_slot_id=time_slot.pk, by=None)
        if cancelled:
            booking = services.booking_cancel(booking=booking, by=None)
        time_slot.refresh_from_db()
        return booking

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise TypeError("BookingFactory only creates: a booking exists only through the service")


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


def move_to_past(slot: TimeSlot, *, ago: timedelta = timedelta(minutes=5)) -> TimeSlot:
    """Lets `slot` start `ago` before now, keeping its length, as if time had passed."""
    length = slot.end - slot.start
    start = now() - ago
    TimeSlot.objects.filter(pk=slot.pk).update(start=start, end=start + length)
    slot.refresh_from_db()
    return slot
