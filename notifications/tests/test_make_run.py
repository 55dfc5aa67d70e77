"""`make run` alone delivers mail: with no REDIS_URL, no broker and no worker,
a booking's confirmation is printed as soon as it is made, and its reminder
when it falls due, by the development server's own beat thread.

The server runs exactly as the README starts it, on a database file of its
own, with a one-minute reminder lead so the reminder falls due during the test.
"""

import tempfile
import time
from datetime import datetime, timedelta

from django.test import SimpleTestCase
from django.utils.timezone import now

from testing.processes import ServedApi, free_port, own_environment

STARTUP_SECONDS = 180


class MakeRun(ServedApi):
    def __init__(self, directory: str, **env: str) -> None:
        port = free_port()
        environment = own_environment(
            DATABASE_URL=f"sqlite:///{directory}/db.sqlite3", PYTHONUNBUFFERED="1", **env
        )
        # A fresh make, not one run by the suite's own `make test`.
        for name in [name for name in environment if name.startswith(("MAKE", "MFLAGS"))]:
            del environment[name]
        super().__init__(["make", "run", f"ADDRESS=127.0.0.1:{port}"], environment, port)


class MakeRunDeliversMailTests(SimpleTestCase):
    def test_make_run_prints_a_confirmation_at_once_and_the_reminder_when_due(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        server = MakeRun(
            directory.name, STUDIO_REMINDER_MINUTES="1", STUDIO_OUTBOX_POLL_SECONDS="1"
        )
        self.addCleanup(server.stop)
        server.wait_until_serving(STARTUP_SECONDS)
        self.assertIn("Background tasks run in this process", server.output())

        password = "sturdy-Pass-123"
        status, body = server.call(
            "POST",
            "/api/register/",
            {
                "email": "tara@studio.example",
                "password": password,
                "name": "Tara",
                "role": "instructor",
            },
        )
        self.assertEqual(status, 201, body)
        instructor = body["access"]
        start = now().replace(microsecond=0) + timedelta(seconds=90)
        status, body = server.call(
            "POST",
            "/api/sessions/create/",
            {
                "title": "Sunrise Pilates",
                "description": "",
                "category": "pilates",
                "time_slots": [
                    {
                        "start": start.isoformat(),
                        "end": (start + timedelta(hours=1)).isoformat(),
                        "capacity": 5,
                    }
                ],
            },
            token=instructor,
        )
        self.assertEqual(status, 201, body)
        slot = body["time_slots"][0]["id"]
        status, body = server.call(
            "POST",
            "/api/register/",
            {
                "email": "noor@client.example",
                "password": password,
                "name": "Noor",
                "role": "client",
                "timezone": "America/New_York",
            },
        )
        self.assertEqual(status, 201, body)
        client = body["access"]

        status, body = server.call("POST", "/api/bookings/", {"time_slot": slot}, token=client)
        self.assertEqual(status, 201, body)

        confirmation = "Subject: Booked: Sunrise Pilates"
        self.wait_for(server, confirmation, seconds=15)
        self.assertIn("To: noor@client.example", server.output())
        self.assertIn("(America/New_York)", server.output())
        self.assertNotIn("Subject: Reminder: Sunrise Pilates", server.output())

        # Due a minute before the start: 30 seconds from now.
        self.wait_for(server, "Subject: Reminder: Sunrise Pilates", seconds=75)
        status, body = server.call("GET", "/api/notifications/", token=client)
        self.assertEqual(status, 200, body)
        self.assertEqual(
            [(item["kind"], item["status"]) for item in body["results"]],
            [("reminder", "sent"), ("booking_confirmed", "sent")],
        )
        # Not before it fell due, and within the minute after.
        sent = datetime.fromisoformat(body["results"][0]["sent_at"])
        due = start - timedelta(minutes=1)
        self.assertGreaterEqual(sent, due)
        self.assertLess(sent, due + timedelta(minutes=1))
        self.assertNotIn("Traceback", server.output())

    def wait_for(self, server: MakeRun, text: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if text in server.output():
                return
            time.sleep(0.5)
        raise AssertionError(f"{text!r} not printed within {seconds} s:\n{server.output()[-5000:]}")
