"""Factories for bookings, and the slots booking tests start from.

`book`, `wait`, `book_and_cancel` and `cancel_slot` make, wait for and cancel
bookings through the booking services, so each slot's `booked` and
`waitlisted` counters stay equal to its rows; `slots_of_every_kind` gives one
slot of each status, each holding bookings.

Slots are written through the ORM; bookings are always made with
`bookings.services.booking_create` (BookingFactory, or `book`),
so each slot's `booked` counter stays equal to its confirmed bookings.
"""

from datetime import datetime, timedelta

import factory
from django.db.models import F
from django.utils.timezone import now

from accounts.models import User
from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings import services
from bookings.models import Booking, BookingStatus
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


def book(slot: TimeSlot, client: User | None = None) -> Booking:
    """Books `slot` for `client` (a new client when none is given) through
    `bookings.services.booking_create`, then refreshes `slot` from the database."""
    booking = services.booking_create(
        client=client or ClientFactory(), time_slot_id=slot.pk, by=None
    )
    slot.refresh_from_db()
    return booking


def cancel_slot(slot: TimeSlot) -> int:
    """The studio cancels `slot` through `bookings.services.time_slot_cancel`;
    `slot` is refreshed. Returns how many bookings were cancelled."""
    return services.time_slot_cancel(time_slot=slot, by=None)


def wait(slot: TimeSlot, client: User | None = None) -> Booking:
    """A booking of `client` (a new client when none is given) waiting for a
    seat on `slot`, written as the waitlist keeps it: the row, and the slot's
    `waitlisted` counter one higher; `slot` is refreshed."""
    booking = Booking.objects.create(
        client=client or ClientFactory(),
        time_slot=slot,
        status=BookingStatus.WAITLISTED,
        cancel_before=services.cancel_before(slot),
    )
    TimeSlot.objects.filter(pk=slot.pk).update(waitlisted=F("waitlisted") + 1)
    slot.refresh_from_db()
    return booking


def book_and_cancel(slot: TimeSlot, client: User | None = None) -> Booking:
    """A booking of `slot` made and then cancelled through the services."""
    booking = services.booking_cancel(booking=book(slot, client), by=None)
    slot.refresh_from_db()
    return booking


def slots_of_every_kind() -> list[int]:
    """The ids of five slots, each of its own session and each holding a
    booking: open; full with one waiting; cancelled by the studio; past; and
    started ten minutes ago with one still waiting (shown expired)."""
    open_slot = make_slot(capacity=3)
    book(open_slot)
    full = make_slot(capacity=1, start=now() + timedelta(days=2))
    book(full)
    wait(full, ClientFactory())
    cancelled = make_slot(start=now() + timedelta(days=3))
    book(cancelled)
    cancel_slot(cancelled)
    past = make_slot(start=now() + timedelta(days=4))
    book(past)
    waiter = make_slot(capacity=1, start=now() + timedelta(days=5))
    book(waiter)
    wait(waiter, ClientFactory())
    move_to_past(past)
    move_to_past(waiter, ago=timedelta(minutes=10))
    return [open_slot.pk, full.pk, cancelled.pk, past.pk, waiter.pk]
