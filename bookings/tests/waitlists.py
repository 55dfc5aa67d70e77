"""What the waitlist's tests share: joining through the service, the
positions the API shows, and a test case with full slots and exact
counters."""

from django.test import TestCase

from accounts.tests.factories import ClientFactory
from bookings import selectors, services
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import book, make_slot
from sessions_app.models import TimeSlot


def join(slot: TimeSlot, client=None) -> Booking:
    """`client` (a new one when none is given) books `slot` with the waitlist on."""
    booking = services.booking_create(
        client=client or ClientFactory(), time_slot_id=slot.pk, waitlist=True, by=None
    )
    slot.refresh_from_db()
    return booking


def positions(slot: TimeSlot) -> dict[int, int | None]:
    """Booking id → waitlist position, as the API's selectors compute it."""
    bookings = selectors.with_waitlist_positions(
        list(Booking.objects.filter(time_slot=slot).select_related("time_slot"))
    )
    return {booking.pk: booking.waitlist_position for booking in bookings}


class WaitlistTestCase(TestCase):
    def assert_counters_exact(self, *slots: TimeSlot) -> None:
        for slot in slots:
            slot.refresh_from_db()
            bookings = Booking.objects.filter(time_slot=slot)
            self.assertEqual(slot.booked, bookings.filter(status=BookingStatus.CONFIRMED).count())
            self.assertEqual(
                slot.waitlisted, bookings.filter(status=BookingStatus.WAITLISTED).count()
            )
            self.assertLessEqual(slot.booked, slot.capacity)

    def full_slot(self, capacity: int = 1, **kwargs) -> TimeSlot:
        slot = make_slot(capacity=capacity, **kwargs)
        for _ in range(capacity):
            book(slot)
        return slot
