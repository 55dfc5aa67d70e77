"""Bounded waits on PostgreSQL: every connection carries a lock timeout and a
statement timeout, and a request that runs into one is answered 503 with
nothing of it written."""

import threading
import unittest
from contextlib import contextmanager
from unittest import mock

from django.conf import settings
from django.db import OperationalError, connection, connections, transaction
from django.test import SimpleTestCase, TransactionTestCase
from rest_framework.test import APIClient

from accounts.tests.factories import ClientFactory
from bookings.models import Booking
from bookings.tests.factories import make_slot
from core.errors import ServiceUnavailableError
from core.exception_handler import to_studio_error
from sessions_app.models import TimeSlot
from testing.problems import assert_problem
from testing.processes import SETUP, run

THREAD_TIMEOUT = 20
PG_URL = "postgres://u:p@db.internal:5432/studio"
PRINT_OPTIONS = SETUP + "print(settings.DATABASES['default'].get('OPTIONS', {}).get('options'))"

requires_postgresql = unittest.skipUnless(
    connection.vendor == "postgresql", "lock and statement timeouts are PostgreSQL's"
)


def timeout_ms(cursor, name: str) -> int:
    cursor.execute("SELECT (EXTRACT(EPOCH FROM current_setting(%s)::interval) * 1000)::int", [name])
    return cursor.fetchone()[0]


@contextmanager
def new_connections_with(**timeouts: int):
    """Connections opened meanwhile (by other threads) carry these timeouts.

    The settings dict is the one every new connection of the suite is built
    from; the connections already open keep theirs."""
    options = " ".join(f"-c {name}={value}" for name, value in timeouts.items())
    with mock.patch.dict(connection.settings_dict["OPTIONS"], {"options": options}):
        yield


def in_thread(work):
    """Runs `work()` in a thread with its own connection; returns the thread
    and a one-item list that receives the result or the exception."""
    result: list = []

    def target():
        try:
            result.append(work())
        except BaseException as exc:  # handed to the test
            result.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, result


class TimeoutSettingsTests(SimpleTestCase):
    def test_postgresql_connections_get_the_default_timeouts(self):
        result = run(PRINT_OPTIONS, DJANGO_DEBUG="1", DATABASE_URL=PG_URL)
        self.assertEqual(
            result.stdout.strip(), "-c lock_timeout=5000 -c statement_timeout=20000", result.stderr
        )

    def test_timeouts_come_from_their_variables(self):
        result = run(
            PRINT_OPTIONS,
            DJANGO_DEBUG="1",
            DATABASE_URL=PG_URL,
            STUDIO_DB_LOCK_TIMEOUT_MS="250",
            STUDIO_DB_STATEMENT_TIMEOUT_MS="0",
        )
        self.assertEqual(
            result.stdout.strip(), "-c lock_timeout=250 -c statement_timeout=0", result.stderr
        )

    def test_options_in_the_database_url_are_kept_after_the_timeouts(self):
        result = run(
            PRINT_OPTIONS,
            DJANGO_DEBUG="1",
            DATABASE_URL=PG_URL + "?options=-c%20search_path%3Dstudio",
        )
        self.assertEqual(
            result.stdout.strip(),
            "-c lock_timeout=5000 -c statement_timeout=20000 -c search_path=studio",
            result.stderr,
        )

    def test_connections_wait_five_seconds_for_an_unanswering_database_unless_told(self):
        code = SETUP + "print(settings.DATABASES['default']['OPTIONS']['connect_timeout'])"
        result = run(code, DJANGO_DEBUG="1", DATABASE_URL=PG_URL)
        self.assertEqual(result.stdout.strip(), "5", result.stderr)
        result = run(
            code,
            DJANGO_DEBUG="1",
            DATABASE_URL=PG_URL,
            STUDIO_DB_CONNECT_TIMEOUT_S="3",
        )
        self.assertEqual(result.stdout.strip(), "3", result.stderr)

    def test_sqlite_gets_no_postgresql_options(self):
        result = run(PRINT_OPTIONS, DJANGO_DEBUG="1")
        self.assertEqual(result.stdout.strip(), "None", result.stderr)

    def test_a_malformed_or_negative_timeout_is_refused_in_one_line(self):
        for name, value in [
            ("STUDIO_DB_LOCK_TIMEOUT_MS", "5s"),
            ("STUDIO_DB_LOCK_TIMEOUT_MS", "-1"),
            ("STUDIO_DB_STATEMENT_TIMEOUT_MS", "-1"),
            ("STUDIO_DB_CONNECT_TIMEOUT_S", "1"),
        ]:
            with self.subTest(name=name, value=value):
                result = run(SETUP, DJANGO_DEBUG="1", **{name: value})
                self.assertEqual(result.returncode, 1)
                self.assertIn(name, result.stderr)
                self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)


@requires_postgresql
class ConnectionTimeoutTests(TransactionTestCase):
    def test_a_new_connection_carries_the_configured_timeouts(self):
        fresh = connections.create_connection("default")
        try:
            with fresh.cursor() as cursor:
                lock = timeout_ms(cursor, "lock_timeout")
                statement = timeout_ms(cursor, "statement_timeout")
        finally:
            fresh.close()
        self.assertEqual(lock, settings.STUDIO_DB_LOCK_TIMEOUT_MS)
        self.assertEqual(statement, settings.STUDIO_DB_STATEMENT_TIMEOUT_MS)

    def test_timeout_variables_reach_the_server_session(self):
        db = connection.settings_dict
        url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        code = (
            SETUP + "from django.db import connection; c = connection.cursor(); "
            "c.execute('SHOW lock_timeout'); print(c.fetchone()[0]); "
            "c.execute('SHOW statement_timeout'); print(c.fetchone()[0])"
        )
        result = run(
            code,
            DJANGO_DEBUG="1",
            DATABASE_URL=url,
            STUDIO_DB_LOCK_TIMEOUT_MS="1234",
            STUDIO_DB_STATEMENT_TIMEOUT_MS="4321",
        )
        self.assertEqual(result.stdout.split(), ["1234ms", "4321ms"], result.stderr)

    def test_a_statement_over_its_timeout_is_cancelled_as_a_503(self):
        def slow_query():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(5)")

        with new_connections_with(lock_timeout=5000, statement_timeout=100):
            thread, result = in_thread(slow_query)
            thread.join(THREAD_TIMEOUT)
        self.assertFalse(thread.is_alive())
        self.assertIsInstance(result[0], OperationalError)
        self.assertIn("statement timeout", str(result[0]))
        with self.assertLogs("core.exception_handler", "WARNING"):
            self.assertIsInstance(to_studio_error(result[0]), ServiceUnavailableError)


@requires_postgresql
class LockTimeoutTests(TransactionTestCase):
    def test_booking_a_slot_locked_too_long_answers_503_writes_nothing_and_succeeds_later(self):
        client = ClientFactory()
        slot = make_slot(capacity=5)
        locked, release = threading.Event(), threading.Event()

        def hold_slot_lock():
            with transaction.atomic():
                TimeSlot.objects.select_for_update().get(pk=slot.pk)
                locked.set()
                release.wait(THREAD_TIMEOUT)

        def post_booking():
            api = APIClient()
            api.force_authenticate(client)
            response = api.post("/api/bookings/", {"time_slot": slot.pk}, format="json")
            return response

        with new_connections_with(lock_timeout=200, statement_timeout=30000):
            holder, held = in_thread(hold_slot_lock)
            try:
                self.assertTrue(locked.wait(THREAD_TIMEOUT), held)
                with self.assertLogs(level="WARNING") as logs:
                    booker, answer = in_thread(post_booking)
                    booker.join(THREAD_TIMEOUT)
                # The request gave up while the lock was still held.
                self.assertFalse(booker.is_alive(), "the booking waited for the lock")
                self.assertTrue(holder.is_alive())
            finally:
                release.set()
                holder.join(THREAD_TIMEOUT)

        response = answer[0]
        self.assertEqual(response.status_code, 503, getattr(response, "content", response))
        assert_problem(self, response, 503, "service_unavailable")
        self.assertGreater(int(response.headers["Retry-After"]), 0)
        self.assertIn("canceling statement due to lock timeout", "\n".join(logs.output))
        self.assertFalse(Booking.objects.filter(time_slot=slot).exists())
        slot.refresh_from_db()
        self.assertEqual(slot.booked, 0)

        # Once the lock is gone the same booking goes through.
        self.assertEqual(held, [None])
        api = APIClient()
        api.force_authenticate(client)
        response = api.post("/api/bookings/", {"time_slot": slot.pk}, format="json")
        self.assertEqual(response.status_code, 201, response.content)
        slot.refresh_from_db()
        self.assertEqual(slot.booked, 1)
