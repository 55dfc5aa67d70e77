"""Bookings made, waited for and cancelled through the booking services, so
each slot's `booked` and `waitlisted` counters stay equal to its rows. (A slot
moved into the past is `bookings.tests.factories.move_to_past`.)"""

from django.db.models import F

from accounts.models import User
from accounts.tests.factories import ClientFactory
from bookings import services as booking_services
from bookings.models import Booking, BookingStatus
from sessions_app.models import TimeSlot


def book(slot: TimeSlot, client: User | None = None) -> Booking:
    """Books `slot` for `client` (a new client when none is given) through
    `bookings.services.booking_create`, then refreshes `slot` from the database."""
    booking = booking_services.booking_create(
        client=client or ClientFactory(), time_slot_id=slot.pk, by=None
    )
    slot.refresh_from_db()
    return booking


def cancel_slot(slot: TimeSlot) -> int:
    """The studio cancels `slot` through `bookings.services.time_slot_cancel`;
    `slot` is refreshed. Returns how many bookings were cancelled."""
    return booking_services.time_slot_cancel(time_slot=slot, by=None)


def wait(slot: TimeSlot, client: User | None = None) -> Booking:
    """A booking of `client` (a new client when none is given) waiting for a
    seat on `slot`, written as the waitlist keeps it: the row, and the slot's
    `waitlisted` counter one higher; `slot` is refreshed."""
    booking = Booking.objects.create(
        client=client or ClientFactory(),
        time_slot=slot,
        status=BookingStatus.WAITLISTED,
        cancel_before=booking_services.cancel_before(slot),
    )
    TimeSlot.objects.filter(pk=slot.pk).update(waitlisted=F("waitlisted") + 1)
    slot.refresh_from_db()
    return booking


def book_and_cancel(slot: TimeSlot, client: User | None = None) -> Booking:
    """A booking of `slot` made and then cancelled through the services."""
    booking = booking_services.booking_cancel(booking=book(slot, client), by=None)
    slot.refresh_from_db()
    return booking
