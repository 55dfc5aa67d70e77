"""The outbox end to end with the real parts: Celery workers in their own
processes, run as in production (`celery -A studio worker --beat` under
studio.settings), Redis as the broker, and a real SMTP server.

Needs Redis: REDIS_URL names it (CI's PostgreSQL run sets it). The workers
use the suite's database, so the tests commit their writes
(TransactionTestCase) and stop every worker before the database is emptied.
"""

import asyncio
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from datetime import timedelta
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from django.conf import settings
from django.test import TransactionTestCase
from django.utils.timezone import now

from accounts.tests.factories import ClientFactory
from bookings import services as booking_services
from bookings.models import Booking
from bookings.tests.factories import make_slot
from core.signals import MailKind
from notifications.models import Notification, NotificationStatus
from notifications.tasks import deliver
from studio.celery import app as celery_app
from testing.processes import (
    PRODUCTION_KEYS,
    PROJECT,
    BackgroundProcess,
    database_url,
    free_port,
    own_environment,
)

REDIS_URL = os.environ.get("REDIS_URL", "")
WAIT_SECONDS = 60

requires_redis = unittest.skipUnless(
    REDIS_URL, "real workers need a Redis server: set REDIS_URL (CI's PostgreSQL run does)"
)


def eventually(check, what: str, seconds: float = WAIT_SECONDS):
    """Polls `check` until it returns something true; fails naming `what`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"Not within {seconds} s: {what}")


class Mailbox:
    """What the SMTP server accepted. With `stall` set, the server holds the
    next conversation after RCPT TO until `release` is set, and then refuses
    it, so a sender killed meanwhile delivers nothing."""

    def __init__(self) -> None:
        self.messages = []
        self.lock = threading.Lock()
        self.stall = threading.Event()
        self.stalled = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, options):
        if self.stall.is_set():
            self.stall.clear()
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def subjects(self, to: str | None = None) -> list[str]:
        with self.lock:
            return [
                str(message["Subject"])
                for message in self.messages
                if to is None or message["To"] == to
            ]


class Worker(BackgroundProcess):
    """`celery -A studio worker --beat` in its own process, configured as in
    production from the environment: Redis as the broker, the suite's
    database, SMTP to `smtp_port`, and a one-second beat for the outbox."""

    def __init__(self, smtp_port: int, schedule_dir: str, name: str, **env: str) -> None:
        environment = own_environment(
            **PRODUCTION_KEYS,
            DJANGO_SETTINGS_MODULE="studio.settings",
            DATABASE_URL=database_url(),
            REDIS_URL=REDIS_URL,
            DJANGO_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            DJANGO_EMAIL_HOST="127.0.0.1",
            DJANGO_EMAIL_PORT=str(smtp_port),
            DJANGO_EMAIL_TIMEOUT="5",
            STUDIO_OUTBOX_POLL_SECONDS="1",
            PYTHONUNBUFFERED="1",
            **env,
        )
        command = [
            *("-m", "celery", "-A", "studio", "worker", "--beat", "--pool=solo"),
            f"--schedule={schedule_dir}/{name}-beat",
            f"--hostname={name}@%h",
            *("--without-mingle", "--without-gossip", "--loglevel=INFO"),
        ]
        super().__init__([sys.executable, *command], environment)

    def wait_until_ready(self) -> None:
        eventually(
            lambda: "ready." in self.output() or self.process.poll() is not None,
            "the worker to start",
        )
        if self.process.poll() is not None:
            raise AssertionError(f"The worker stopped:\n{self.output()}")


@requires_redis
class RealWorkerTests(TransactionTestCase):
    def setUp(self):
        # aiosmtpd logs every line of every conversation.
        smtp_log = logging.getLogger("mail.log")
        self.addCleanup(smtp_log.setLevel, smtp_log.level)
        smtp_log.setLevel(logging.WARNING)
        self.mailbox = Mailbox()
        self.smtp = Controller(self.mailbox, hostname="127.0.0.1", port=free_port())
        self.smtp.start()
        self.addCleanup(self.smtp.stop)
        self.schedules = tempfile.TemporaryDirectory()
        self.addCleanup(self.schedules.cleanup)
        # This process queues through Redis, as a web server does.
        eager = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = False
        self.addCleanup(setattr, celery_app.conf, "task_always_eager", eager)
        celery_app.control.purge()

    def start_worker(self, name: str = "one", **env: str) -> Worker:
        worker = Worker(self.smtp.port, self.schedules.name, name, **env)
        self.addCleanup(worker.stop)
        worker.wait_until_ready()
        return worker

    def notification(self, booking: Booking, kind: str) -> Notification | None:
        return Notification.objects.filter(booking=booking, kind=kind).first()

    def test_a_booking_is_mailed_by_a_worker_through_redis_and_smtp(self):
        self.start_worker()
        client = ClientFactory(email="maya@client.example", timezone="America/New_York")
        slot = make_slot(title="Evening Yoga")

        booking = booking_services.booking_create(client=client, time_slot_id=slot.pk, by=client)

        subjects = eventually(lambda: self.mailbox.subjects(to=client.email), "the confirmation")
        self.assertEqual(len(subjects), 1)
        self.assertTrue(subjects[0].startswith("Booked: Evening Yoga, "), subjects[0])
        self.assertIn("(America/New_York)", subjects[0])
        row = eventually(
            lambda: Notification.objects.filter(
                booking=booking, kind=MailKind.BOOKING_CONFIRMED, status=NotificationStatus.SENT
            ).first(),
            "the confirmation recorded as sent",
        )
        self.assertEqual(row.attempts, 1)
        self.assertIsNotNone(row.sent_at)
        message = self.mailbox.messages[0]
        types = [part.get_content_type() for part in message.walk()]
        self.assertIn("text/calendar", types)

    def test_beat_writes_a_reminder_when_it_falls_due_and_a_worker_mails_it(self):
        client = ClientFactory(email="ravi@client.example")
        slot = make_slot(title="Spin Express", start=now() + timedelta(minutes=9))
        booking = booking_services.booking_create(client=client, time_slot_id=slot.pk, by=client)
        # Booked well before the reminder's lead began.
        Booking.objects.filter(pk=booking.pk).update(confirmed_at=now() - timedelta(days=1))
        self.assertIsNone(self.notification(booking, MailKind.REMINDER))

        self.start_worker(STUDIO_REMINDER_MINUTES="10")

        eventually(
            lambda: any(s.startswith("Reminder: Spin Express") for s in self.mailbox.subjects()),
            "the reminder",
        )
        eventually(
            lambda: (
                getattr(self.notification(booking, MailKind.REMINDER), "status", None)
                == NotificationStatus.SENT
            ),
            "the reminder recorded as sent",
        )
        # Beat keeps scanning every second; the reminder is never written or sent again.
        time.sleep(3)
        reminders = [s for s in self.mailbox.subjects() if s.startswith("Reminder:")]
        self.assertEqual(len(reminders), 1)
        self.assertEqual(
            Notification.objects.filter(booking=booking, kind=MailKind.REMINDER).count(), 1
        )

    def test_a_worker_killed_mid_send_leaves_the_mail_to_another_worker(self):
        first = self.start_worker("first")
        self.mailbox.stall.set()
        client = ClientFactory(email="lee@client.example")
        slot = make_slot(title="Morning Yoga")

        booking = booking_services.booking_create(client=client, time_slot_id=slot.pk, by=client)
        eventually(self.mailbox.stalled.is_set, "the worker to be in the middle of the send")
        first.kill()
        self.mailbox.release.set()

        row = self.notification(booking, MailKind.BOOKING_CONFIRMED)
        self.assertEqual(row.status, NotificationStatus.PENDING)
        self.assertEqual(row.attempts, 1)
        self.assertEqual(self.mailbox.subjects(), [])
        self.assertLessEqual(row.next_attempt_at, now() + timedelta(minutes=2))
        # The dead worker's claim runs out at next_attempt_at; bring that
        # moment forward instead of waiting for it.
        Notification.objects.filter(pk=row.pk).update(next_attempt_at=now())
        self.start_worker("second")

        eventually(
            lambda: self.mailbox.subjects(to=client.email), "the mail from the second worker"
        )
        row = eventually(
            lambda: Notification.objects.filter(pk=row.pk, status=NotificationStatus.SENT).first(),
            "the mail recorded as sent",
        )
        self.assertEqual(row.attempts, 2)
        time.sleep(2)
        self.assertEqual(len(self.mailbox.subjects(to=client.email)), 1)

    def test_two_workers_racing_over_the_same_notifications_mail_each_once(self):
        self.start_worker("first")
        self.start_worker("second")
        clients = ClientFactory.create_batch(12)
        slot = make_slot(title="HIIT Blast", capacity=20)

        bookings = [
            booking_services.booking_create(client=client, time_slot_id=slot.pk, by=client)
            for client in clients
        ]
        # Every row handed to the workers three more times, as a sweep racing
        # the first delivery would.
        for row in Notification.objects.filter(booking__in=bookings):
            for _ in range(3):
                deliver.delay(row.pk)

        eventually(
            lambda: Notification.objects.filter(status=NotificationStatus.SENT).count() == 12,
            "every confirmation recorded as sent",
        )
        time.sleep(2)
        for client in clients:
            self.assertEqual(len(self.mailbox.subjects(to=client.email)), 1, client.email)
        self.assertEqual(len(self.mailbox.messages), 12)
        self.assertEqual(sorted(Notification.objects.values_list("attempts", flat=True)), [1] * 12)

    def test_mail_queued_while_no_worker_runs_goes_out_when_one_starts(self):
        client = ClientFactory(email="ana@client.example")
        slot = make_slot(title="Zumba Party")
        booking = booking_services.booking_create(client=client, time_slot_id=slot.pk, by=client)
        booking_services.booking_cancel(booking=booking, by=client)
        celery_app.control.purge()  # even the queued messages are lost

        self.start_worker()

        eventually(lambda: len(self.mailbox.subjects(to=client.email)) == 2, "both mails")
        self.assertEqual(
            sorted(subject.split(":")[0] for subject in self.mailbox.subjects()),
            ["Booked", "Cancelled"],
        )

    def test_a_booking_made_while_the_broker_is_down_is_mailed_once_it_is_back(self):
        client = ClientFactory(email="sam@client.example")
        slot = make_slot(title="Strength Basics")
        # A web process whose broker refuses connections books, as a server
        # would during a Redis outage.
        code = (
            "import time; from accounts.models import User; from bookings import services; "
            "client = User.objects.get(email='sam@client.example'); started = time.monotonic(); "
            f"services.booking_create(client=client, time_slot_id={slot.pk}, by=client); "
            "print(round(time.monotonic() - started, 2))"
        )
        environment = own_environment(
            **PRODUCTION_KEYS,
            DJANGO_SETTINGS_MODULE="studio.settings",
            DATABASE_URL=database_url(),
            REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
        )
        booked = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=PROJECT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.assertEqual(booked.returncode, 0, booked.stderr)
        self.assertLess(float(booked.stdout.split()[-1]), 5, "the booking waited on the broker")
        self.assertIn("not queued; the resend sweep sends it", booked.stderr)
        row = Notification.objects.get(booking__client=client)
        self.assertEqual((row.status, row.attempts), (NotificationStatus.PENDING, 0))

        self.start_worker()

        eventually(lambda: self.mailbox.subjects(to=client.email), "the confirmation")
        time.sleep(2)
        self.assertEqual(len(self.mailbox.subjects(to=client.email)), 1)
        row.refresh_from_db()
        self.assertEqual((row.status, row.attempts), (NotificationStatus.SENT, 1))


class WorkerSettingsTests(unittest.TestCase):
    def test_beat_schedules_the_outbox_at_least_every_half_minute(self):
        schedule = {
            entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
        }
        self.assertLessEqual(schedule["notifications.queue_reminders"], 30)
        self.assertLessEqual(schedule["notifications.resend_due"], 30)
