"""Faults: a database that goes away and comes back, behind a TCP proxy the
test switches off and on, while one server process rides it out."""

import unittest
from datetime import timedelta
from urllib.parse import quote

from django.db import connection
from django.test import TransactionTestCase
from django.utils.timezone import now
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import ClientFactory
from bookings.models import Booking
from bookings.tests.factories import make_slot
from studio.tests.outage_server import TcpProxy, UnavailableAssertions, running_server


@unittest.skipUnless(connection.vendor == "postgresql", "a TCP proxy to PostgreSQL")
class DatabaseRecoveryTests(UnavailableAssertions, TransactionTestCase):
    """One server process rides out an outage of its database."""

    def database_url(self, port: int) -> str:
        db = connection.settings_dict
        user = quote(db["USER"] or "", safe="")
        password = quote(db["PASSWORD"] or "", safe="")
        return f"postgres://{user}:{password}@127.0.0.1:{port}/{quote(db['NAME'], safe='')}"

    def test_server_answers_503_while_the_database_is_down_and_recovers_without_restart(self):
        db = connection.settings_dict
        proxy = TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
        self.addCleanup(proxy.close)
        client = ClientFactory(name="Lee")
        first, second = make_slot(), make_slot(start=now() + timedelta(days=2))
        token = str(AccessToken.for_user(client))

        with running_server(self.database_url(proxy.port)) as server:
            self.assertEqual(server.request("GET", "/api/health/").status, 200, server.output())
            self.assertEqual(server.request("GET", "/api/me/", token=token).json()["name"], "Lee")
            answer = server.request(
                "POST", "/api/bookings/", token=token, json_body={"time_slot": first.pk}
            )
            self.assertEqual(answer.status, 201, answer.body)

            proxy.cut()
            for round_ in range(2):
                for method, path, body in [
                    ("GET", "/api/health/", None),
                    ("GET", "/api/me/", None),
                    ("GET", "/api/public/sessions/", None),
                    ("POST", "/api/bookings/", {"time_slot": second.pk}),
                ]:
                    with self.subTest(round=round_, path=path):
                        answer = server.request(method, path, token=token, json_body=body)
                        self.assert_unavailable(answer, f"{method} {path} (outage)")
            self.assertFalse(Booking.objects.filter(time_slot=second).exists())

            proxy.restore()
            self.assertEqual(server.request("GET", "/api/health/").json()["database"], "ok")
            self.assertEqual(server.request("GET", "/api/me/", token=token).status, 200)
            answer = server.request(
                "POST", "/api/bookings/", token=token, json_body={"time_slot": second.pk}
            )
            self.assertEqual(answer.status, 201, answer.body)
            self.assertEqual(server.request("GET", "/api/public/sessions/").status, 200)

            self.assertIsNone(server.process.poll(), "the server stopped")
            server.stop()
            log = server.output()
        self.assertEqual(log.count("Booting worker"), 1, log)
        self.assertNotIn("Traceback", log)
        self.assertEqual(Booking.objects.filter(client=client).count(), 2)
        second.refresh_from_db()
        self.assertEqual(second.booked, 1)
