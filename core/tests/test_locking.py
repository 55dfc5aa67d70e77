"""`core.locking.lock_objects`: one global lock order, only inside a transaction."""

import re
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.test import SimpleTestCase, TestCase
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import now

from accounts.models import User
from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings.models import Booking
from core.locking import LOCK_ORDER, LockOutsideTransactionError, lock_objects
from sessions_app.models import Category, Session, TimeSlot

ROOT = Path(settings.BASE_DIR)


def table_order(queries: list[dict]) -> list[str]:
    """The first table each captured SELECT reads, in the order they ran."""
    tables = []
    for query in queries:
        match = re.search(r'\bFROM\s+"?(\w+)"?', query["sql"])
        if query["sql"].lstrip().upper().startswith("SELECT") and match:
            tables.append(match.group(1))
    return tables


class LockObjectsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.client_user = ClientFactory()
        session = Session.objects.create(
            instructor=InstructorFactory(), title="Morning Yoga", category=Category.YOGA
        )
        start = now() + timedelta(days=1)
        cls.slots = [
            TimeSlot.objects.create(
                session=session,
                start=start + timedelta(hours=2 * i),
                end=start + timedelta(hours=2 * i + 1),
                capacity=5,
            )
            for i in range(3)
        ]

    def test_lock_objects_locks_in_the_global_order_whatever_the_order_given(self):
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            slots, users = lock_objects(
                TimeSlot.objects.filter(pk__in=[slot.pk for slot in self.slots]),
                User.objects.filter(pk=self.client_user.pk),
            )
        self.assertEqual(
            table_order(queries.captured_queries), ["accounts_user", "sessions_app_timeslot"]
        )
        self.assertEqual(users, [self.client_user])
        self.assertEqual([slot.pk for slot in slots], sorted(slot.pk for slot in self.slots))

    def test_lock_objects_locks_rows_in_primary_key_order(self):
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            lock_objects(
                TimeSlot.objects.filter(pk__in=[s.pk for s in self.slots]).order_by("-start")
            )
        sql = queries.captured_queries[0]["sql"]
        self.assertRegex(sql, r'ORDER BY "sessions_app_timeslot"\."id" ASC')
        if connection.features.has_select_for_update:
            self.assertIn("FOR UPDATE", sql)

    def test_lock_objects_refuses_a_model_without_a_place_in_the_order(self):
        with transaction.atomic(), self.assertRaisesMessage(ValueError, "LOCK_ORDER"):
            lock_objects(Session.objects.all())

    def test_lock_objects_refuses_two_querysets_of_one_model(self):
        with transaction.atomic(), self.assertRaisesMessage(ValueError, "one queryset per model"):
            lock_objects(User.objects.filter(pk=1), User.objects.filter(pk=2))

    def test_the_lock_order_names_the_rows_the_services_lock(self):
        self.assertEqual(
            LOCK_ORDER,
            (
                User._meta.label_lower,
                "token_blacklist.outstandingtoken",
                TimeSlot._meta.label_lower,
                Booking._meta.label_lower,
            ),
        )


class LockDisciplineTests(SimpleTestCase):
    def test_lock_objects_refuses_to_run_outside_a_transaction(self):
        # No test transaction here: the call is outside any atomic block, and
        # refuses before it sends a query.
        with self.assertRaises(LockOutsideTransactionError):
            lock_objects(User.objects.filter(pk=1))

    def test_only_the_locking_module_calls_select_for_update(self):
        callers = []
        for app in (
            "core",
            "accounts",
            "sessions_app",
            "bookings",
            "notifications",
            "calendars",
            "studio",
        ):
            for path in sorted((ROOT / app).rglob("*.py")):
                relative = path.relative_to(ROOT).as_posix()
                if "/tests/" in relative or relative == "core/locking.py":
                    continue
                if "select_for_update" in path.read_text():
                    callers.append(relative)
        self.assertEqual(callers, [])
