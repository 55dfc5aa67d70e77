"""Two app servers, one PostgreSQL database, one Redis: what a studio chain
runs past one machine. Each server is the production server (gunicorn with
gunicorn.conf.py, debug off) in its own process; the suite's database and
Redis are theirs.

- 40 clients race for a 5-seat class, their requests split over both
  servers: exactly 5 seats are sold.
- A read through one server right after a write through the other is fresh,
  with the public timetable cached in Redis.
- The sign-in throttle counts one client's attempts over both servers.
"""

import os
import sys
import threading
import unittest

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import TransactionTestCase
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import PASSWORD, ClientFactory
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import make_slot
from sessions_app.models import TimeSlot
from testing.processes import PRODUCTION_KEYS, ServedApi, database_url, free_port, own_environment

REDIS_URL = os.environ.get("REDIS_URL", "")
RACERS = 40
SEATS = 5

requires_postgresql_and_redis = unittest.skipUnless(
    connection.vendor == "postgresql" and REDIS_URL,
    "two servers share PostgreSQL and Redis: set DATABASE_URL and REDIS_URL (CI's second run does)",
)


class AppServer(ServedApi):
    """gunicorn, two sync workers, on the suite's database and Redis, with
    the suite's JWT signing key (tokens minted by the test are good there)."""

    def __init__(self, **env: str) -> None:
        port = free_port()
        environment = own_environment(
            DJANGO_SECRET_KEY=PRODUCTION_KEYS["DJANGO_SECRET_KEY"],
            DJANGO_SETTINGS_MODULE="studio.settings",
            STUDIO_JWT_SIGNING_KEY=settings.SIMPLE_JWT["SIGNING_KEY"],
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            DATABASE_URL=database_url(),
            REDIS_URL=REDIS_URL,
            GUNICORN_BIND=f"127.0.0.1:{port}",
            WEB_CONCURRENCY="2",
            STUDIO_TIMETABLE_CACHE_SECONDS="300",
            DJANGO_EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
            **env,
        )
        super().__init__(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"], environment, port
        )


@requires_postgresql_and_redis
class TwoServersTests(TransactionTestCase):
    def start_servers(self, **env: str) -> tuple[AppServer, AppServer]:
        servers = (AppServer(**env), AppServer(**env))
        for server in servers:
            self.addCleanup(server.stop)
        for server in servers:
            server.wait_until_serving()
        return servers

    def test_forty_clients_over_two_servers_book_exactly_the_five_seats(self):
        servers = self.start_servers()
        slot = make_slot(capacity=SEATS)
        tokens = [
            str(AccessToken.for_user(client)) for client in ClientFactory.create_batch(RACERS)
        ]
        start = threading.Barrier(RACERS)
        answers: list[int] = [0] * RACERS

        def book(index: int) -> None:
            start.wait(timeout=60)
            server = servers[index % 2]
            answers[index] = server.call(
                "POST", "/api/bookings/", {"time_slot": slot.pk}, token=tokens[index]
            )[0]

        threads = [threading.Thread(target=book, args=(index,)) for index in range(RACERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

        self.assertEqual(sorted(set(answers)), [201, 409], answers)  # 409: slot_full
        self.assertEqual(answers.count(201), SEATS)
        slot.refresh_from_db()
        self.assertEqual(slot.booked, SEATS)
        self.assertEqual(
            Booking.objects.filter(time_slot=slot, status=BookingStatus.CONFIRMED).count(), SEATS
        )

    def test_a_read_through_one_server_right_after_a_write_through_the_other_is_fresh(self):
        one, two = self.start_servers()
        slot = make_slot(capacity=3)
        path = f"/api/public/sessions/{slot.session_id}/"
        token = str(AccessToken.for_user(ClientFactory()))

        for _ in range(2):  # the second read is served from the cache
            status, body = one.call("GET", path)
            self.assertEqual((status, body["time_slots"][0]["booked"]), (200, 0))

        status, body = two.call("POST", "/api/bookings/", {"time_slot": slot.pk}, token=token)
        self.assertEqual(status, 201, body)

        status, body = one.call("GET", path)
        self.assertEqual((status, body["time_slots"][0]["booked"]), (200, 1))
        self.assertEqual(TimeSlot.objects.get(pk=slot.pk).booked, 1)

    def test_the_sign_in_throttle_counts_attempts_over_both_servers(self):
        one, two = self.start_servers(STUDIO_AUTH_THROTTLE="4/min")
        cache.clear()  # the shared Redis: no attempts counted from before
        user = ClientFactory()
        wrong = {"email": user.email, "password": "not-" + PASSWORD}

        statuses = [server.call("POST", "/api/login/", wrong)[0] for server in (one, two, one, two)]
        throttled, body = two.call(
            "POST", "/api/login/", {"email": user.email, "password": PASSWORD}
        )

        self.assertEqual(statuses, [401, 401, 401, 401])
        self.assertEqual(throttled, 429, body)
        self.assertEqual(body["code"], "throttled")
