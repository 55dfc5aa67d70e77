"""An optional read replica (DATABASE_REPLICA_URL): the public timetable is
read there, everything else from the primary.

The live test gives the server a "replica" that is a database of its own with
other content, so where each answer was read from shows in the answer.
"""

import subprocess
import sys
import unittest
from unittest import mock

from django.conf import settings
from django.db import connection
from django.test import SimpleTestCase, TransactionTestCase
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import ClientFactory
from bookings.tests.factories import make_slot
from core.routers import REPLICA, PublicReadsRouter, public_reads
from sessions_app.models import Session
from testing.processes import (
    PRODUCTION_KEYS,
    PROJECT,
    SETUP,
    ServedApi,
    database_url,
    free_port,
    own_environment,
    run,
)


class PublicReadsRouterTests(SimpleTestCase):
    def test_public_reads_go_to_the_replica_and_everything_else_to_the_primary(self):
        router = PublicReadsRouter()
        with mock.patch.dict(settings.DATABASES, {REPLICA: {}}):
            self.assertIsNone(router.db_for_read(Session))
            with public_reads():
                self.assertEqual(router.db_for_read(Session), REPLICA)
                self.assertIsNone(router.db_for_write(Session))
            self.assertIsNone(router.db_for_read(Session))
            self.assertFalse(router.allow_migrate(REPLICA, "sessions_app"))
            self.assertTrue(router.allow_migrate("default", "sessions_app"))

    def test_without_a_replica_public_reads_stay_on_the_primary(self):
        with public_reads():
            self.assertIsNone(PublicReadsRouter().db_for_read(Session))

    def test_the_setting_adds_the_replica_and_its_router(self):
        code = SETUP + (
            "print(settings.DATABASES['replica']['NAME'], settings.DATABASE_ROUTERS, "
            "settings.DATABASES['replica']['TEST']['MIRROR'])"
        )
        result = run(
            code,
            DJANGO_DEBUG="1",
            DATABASE_URL="postgres://studio@127.0.0.1:5432/studio",
            DATABASE_REPLICA_URL="postgres://studio@10.0.0.2:5432/studio",
        )
        self.assertEqual(
            result.stdout.strip(),
            "studio ['core.routers.PublicReadsRouter'] default",
            result.stderr,
        )
        without = run(SETUP + "print(sorted(settings.DATABASES))", DJANGO_DEBUG="1")
        self.assertEqual(without.stdout.strip(), "['default']", without.stderr)


@unittest.skipUnless(connection.vendor == "postgresql", "a replica is a PostgreSQL database")
class ReadReplicaServerTests(TransactionTestCase):
    def setUp(self):
        self.replica_name = f"{connection.settings_dict['NAME']}_replica"
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{self.replica_name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{self.replica_name}"')
        self.addCleanup(self.drop_replica)
        self.environment = own_environment(
            **PRODUCTION_KEYS, DJANGO_SETTINGS_MODULE="studio.settings", DJANGO_DEBUG="0"
        )
        # The replica's own content: one session the primary does not have.
        self.manage(database_url(self.replica_name), "migrate", "--noinput", "-v0")
        self.manage(
            database_url(self.replica_name),
            "shell",
            "-c",
            "from datetime import timedelta; from django.utils.timezone import now; "
            "from accounts.models import User; from sessions_app import services; "
            "teacher = User.objects.create_user(email='r@replica.example', password='x', "
            "name='R', role='instructor'); start = now() + timedelta(days=1); "
            "services.session_create(instructor=teacher, title='Only On The Replica', "
            "category='yoga', time_slots=[{'start': start, 'end': start + timedelta(hours=1), "
            "'capacity': 5}], by=None)",
        )

    def manage(self, database_url: str, *args: str) -> None:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT,
            env={**self.environment, "DATABASE_URL": database_url},
            capture_output=True,
            text=True,
            timeout=180,
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def drop_replica(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{self.replica_name}" WITH (FORCE)')

    def test_the_public_timetable_is_read_from_the_replica_and_the_rest_from_the_primary(self):
        slot = make_slot(title="Only On The Primary")
        client = ClientFactory()
        port = free_port()
        api = ServedApi(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
            {
                **self.environment,
                "STUDIO_JWT_SIGNING_KEY": settings.SIMPLE_JWT["SIGNING_KEY"],
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
                "DATABASE_URL": database_url(),
                "DATABASE_REPLICA_URL": database_url(self.replica_name),
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "WEB_CONCURRENCY": "1",
                "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            },
            port,
        )
        self.addCleanup(api.stop)
        api.wait_until_serving()

        status, body = api.call("GET", "/api/public/sessions/")
        self.assertEqual(status, 200, body)
        self.assertEqual([item["title"] for item in body["results"]], ["Only On The Replica"])

        token = str(AccessToken.for_user(client))
        status, body = api.call("POST", "/api/bookings/", {"time_slot": slot.pk}, token=token)
        self.assertEqual(status, 201, body)
        status, body = api.call("GET", "/api/bookings/", token=token)
        self.assertEqual(
            [item["session"]["title"] for item in body["results"]], ["Only On The Primary"]
        )
        slot.refresh_from_db()
        self.assertEqual(slot.booked, 1)
