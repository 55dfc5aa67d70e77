"""Real races on one `Idempotency-Key`: threads, each with its own database
connection, post the same booking at once. No mocks; the same assertions hold
on SQLite and on PostgreSQL."""

from collections import Counter

from django.test import TransactionTestCase
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.tests.factories import ClientFactory
from bookings.models import Booking, IdempotencyKey
from bookings.tests.factories import make_slot
from testing.api import BOOKINGS
from testing.races import race

THREADS = 8


class IdempotentBookingRaceTests(TransactionTestCase):
    def race_one_key(self, bodies):
        """Posts `bodies[i]` from thread i, all as one client with one key; returns
        (status, replayed header, body) of each answer."""
        client = ClientFactory()
        token = account_services.tokens_for(client)["access"]

        def work(index, barrier):
            api = APIClient()
            api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            barrier.wait()
            response = api.post(
                BOOKINGS, bodies[index], format="json", HTTP_IDEMPOTENCY_KEY="one-key"
            )
            return (
                response.status_code,
                response.headers.get("Idempotent-Replayed"),
                response.json(),
            )

        results = race(len(bodies), work)
        errors = [repr(r)[:300] for r in results if isinstance(r, BaseException)]
        self.assertEqual(errors, [])
        return client, results

    def test_eight_posts_with_one_key_make_one_booking_and_answer_it_or_in_use(self):
        slot = make_slot(capacity=THREADS)

        client, results = self.race_one_key([{"time_slot": slot.pk}] * THREADS)

        first = [body for code, replayed, body in results if code == 201 and replayed is None]
        self.assertEqual(len(first), 1, results)
        kinds = Counter()
        for code, replayed, body in results:
            if code == 201 and replayed is None:
                kinds["first"] += 1
            elif code == 201 and replayed == "true":
                self.assertEqual(body, first[0])
                kinds["replayed"] += 1
            else:
                self.assertEqual(
                    (code, replayed, body["code"]), (409, None, "idempotency_key_in_use")
                )
                kinds["in_use"] += 1
        self.assertEqual(sum(kinds.values()), THREADS, kinds)
        self.assertEqual(
            list(Booking.objects.filter(client=client).values_list("pk", flat=True)),
            [first[0]["id"]],
        )
        slot.refresh_from_db()
        self.assertEqual(slot.booked, 1)
        key = IdempotencyKey.objects.get(client=client)
        self.assertEqual((key.status_code, key.response_body["id"]), (201, first[0]["id"]))

    def test_racing_bodies_on_one_key_book_only_the_body_that_claimed_it(self):
        slots = [make_slot(capacity=THREADS) for _ in range(2)]
        bodies = [{"time_slot": slots[index % 2].pk} for index in range(THREADS)]

        client, results = self.race_one_key(bodies)

        booked = [body for code, replayed, body in results if code == 201 and replayed is None]
        self.assertEqual(len(booked), 1, results)
        winner = booked[0]["time_slot"]["id"]
        for (code, replayed, body), sent in zip(results, bodies, strict=True):
            if code == 201:
                self.assertEqual((sent["time_slot"], body), (winner, booked[0]))
                self.assertIn(replayed, {None, "true"})
            elif sent["time_slot"] == winner:
                self.assertEqual((code, body["code"]), (409, "idempotency_key_in_use"))
            else:
                self.assertIn(
                    (code, body["code"]),
                    {(409, "idempotency_key_in_use"), (422, "idempotency_key_reused")},
                )
        self.assertEqual(Booking.objects.filter(client=client).count(), 1)
