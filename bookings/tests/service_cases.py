"""The test case of the booking services' tests: a signed-up client, the
state a refused booking must leave alone, and full slots."""

from django.test import TestCase

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.models import Booking
from bookings.tests.factories import book
from core.errors import StudioError
from sessions_app.models import TimeSlot


class BookingServiceTestCase(TestCase):
    def setUp(self):
        self.client_user = ClientFactory()

    def state(self) -> tuple:
        """Everything a refused booking must leave alone: bookings and every counter."""
        bookings = tuple(Booking.objects.order_by("pk").values_list("pk", "status", "cancelled_at"))
        counters = tuple(TimeSlot.objects.order_by("pk").values_list("pk", "booked"))
        return bookings, counters

    def assert_refused(self, error_class, *, client=None, slot_id: int):
        """booking_create raises exactly `error_class` and changes nothing."""
        before = self.state()
        with self.assertRaises(StudioError) as caught:
            services.booking_create(
                client=client or self.client_user, time_slot_id=slot_id, by=None
            )
        self.assertIs(type(caught.exception), error_class)
        self.assertEqual(self.state(), before)
        return caught.exception

    def fill(self, slot: TimeSlot) -> None:
        while True:
            slot.refresh_from_db()
            if slot.is_full:
                return
            book(slot, ClientFactory())
