"""What booking and cancelling cost in SQL queries through the API: a fixed
number, the same whether one client waits for the freed seat or ten.

The counts are those bench/report.py holds as the booking writes' query
budgets (`QUERY_BUDGETS`), counted here inside the test's transaction, where
each write's transaction is a savepoint: SAVEPOINT and RELEASE SAVEPOINT take
the places of BEGIN and COMMIT, so the numbers are the same."""

from django.contrib.contenttypes.models import ContentType
from rest_framework import status

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import book, make_slot
from testing.api import BookingApiTestCase, booking_cancel_url

# The user, BEGIN, the client's and the slot's locks, the client's holding
# bookings, the booking, the seat, the action log, the confirmation's outbox
# row, COMMIT.
BOOK_QUERIES = 10
# The user, the booking; BEGIN, the client's overlapping waits, the waiting
# clients, the locks of users and slots, the overlapping waits again, the
# booking's status, the booking, the seat, the action log, the client (to
# address the mail) and the cancellation's outbox row; the waiters, their
# overlapping bookings, the promotion, the seats, its action log, the
# promoted client and the confirmation's outbox row; COMMIT; the booking read
# again and as answered.
CANCEL_PROMOTING_QUERIES = 24


class BookingWriteQueryCountTests(BookingApiTestCase):
    def setUp(self):
        super().setUp()
        # Made once in a server's life, not per write: the cache of content
        # types the action log uses.
        ContentType.objects.get_for_model(Booking)

    def test_booking_a_seat(self):
        slot = make_slot(capacity=2)

        with self.assertNumQueries(BOOK_QUERIES):
            response = self.post_booking(slot.pk)

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        self.assertEqual(response.json()["status"], BookingStatus.CONFIRMED)

    def test_cancelling_with_one_waiter_or_ten_costs_the_same(self):
        for waiters in (1, 10):
            with self.subTest(waiters=waiters):
                slot = make_slot(capacity=1)
                mine = book(slot, self.me)
                for _ in range(waiters):
                    services.booking_create(
                        client=ClientFactory(), time_slot_id=slot.pk, waitlist=True, by=None
                    )

                with self.assertNumQueries(CANCEL_PROMOTING_QUERIES):
                    response = self.client.post(booking_cancel_url(mine.pk))

                self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
                slot.refresh_from_db()
                self.assertEqual((slot.booked, slot.waitlisted), (1, waiters - 1))
