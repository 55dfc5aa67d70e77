"""The reminder scan with a full timetable ahead: 100,000 upcoming confirmed
bookings, a handful of them due. The scan writes exactly those, in a fixed
number of queries, led by the index on the slots' starts."""

from datetime import timedelta
from unittest import skipUnless

from django.db import connection
from django.test import TestCase
from django.utils.timezone import now

from accounts.models import Role, User
from accounts.tests.factories import InstructorFactory
from bookings.models import Booking, BookingStatus
from core.signals import MailKind
from notifications.models import Notification, NotificationStatus
from notifications.outbox import reminders_due, reminders_queue
from sessions_app.models import Category, Session, TimeSlot

BOOKINGS = 100_000
PER_SLOT = 20
SLOTS = BOOKINGS // PER_SLOT
CLIENTS = 2_000
SESSIONS = 50
LEAD = timedelta(minutes=60)
SENT = 20_000


def users(prefix: str, count: int, **fields) -> list[User]:
    return User.objects.bulk_create(
        User(
            email=f"{prefix}{n}@example.com",
            name=f"{prefix} {n}",
            role=Role.CLIENT,
            password="!",
            **fields,
        )
        for n in range(count)
    )


def booking_row(client: User, slot: TimeSlot, confirmed_at, **fields) -> Booking:
    """An unsaved booking of `client` on `slot`, confirmed unless told."""
    return Booking(
        client=client,
        time_slot=slot,
        status=fields.pop("status", BookingStatus.CONFIRMED),
        confirmed_at=confirmed_at,
        cancel_before=slot.start - timedelta(hours=12),
        **fields,
    )


def insert_confirmed(rows) -> None:
    """Inserts confirmed bookings, (client id, slot, confirmed at) each: the
    rows `booking_row` builds, without a model instance each, in multi-row
    INSERTs of as many rows as the database takes parameters for, so 100,000
    go in within seconds."""
    columns = ["client_id", "time_slot_id", "status", "created_at", "confirmed_at"]
    columns += ["cancel_before", "late"]
    quote = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    created = adapt(now())
    values = [
        (
            client_id,
            slot.pk,
            BookingStatus.CONFIRMED.value,
            created,
            adapt(confirmed_at),
            adapt(slot.start - timedelta(hours=12)),
            False,
        )
        for client_id, slot, confirmed_at in rows
    ]
    batch = min(1_000, (connection.features.max_query_params or 10_000) // len(columns))
    row = "({})".format(", ".join(["%s"] * len(columns)))
    with connection.cursor() as cursor:
        for first in range(0, len(values), batch):
            chunk = values[first : first + batch]
            cursor.execute(
                "INSERT INTO {} ({}) VALUES {}".format(
                    quote(Booking._meta.db_table),
                    ", ".join(quote(column) for column in columns),
                    ", ".join([row] * len(chunk)),
                ),
                [value for item in chunk for value in item],
            )


class ReminderScanAtScaleTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.at = (now() + timedelta(days=1)).replace(microsecond=0)
        long_ago = now() - timedelta(days=30)
        instructor = InstructorFactory()
        sessions = Session.objects.bulk_create(
            Session(instructor=instructor, title=f"Class {n}", category=Category.YOGA)
            for n in range(SESSIONS)
        )
        clients = users("client", CLIENTS)
        # The timetable ahead: every slot starts after the lead that begins at
        # `at`, from a day after it on, one every 30 minutes, each one full.
        first = cls.at + timedelta(days=1)
        slots = TimeSlot.objects.bulk_create(
            TimeSlot(
                session=sessions[n % SESSIONS],
                start=first + n * timedelta(minutes=30),
                end=first + n * timedelta(minutes=30) + timedelta(hours=1),
                capacity=PER_SLOT,
                booked=PER_SLOT,
            )
            for n in range(SLOTS - 1)
        )
        # One more, starting just after the lead that begins at `at`: not due.
        slots += TimeSlot.objects.bulk_create(
            [
                TimeSlot(
                    session=sessions[0],
                    start=cls.at + LEAD + timedelta(seconds=1),
                    end=cls.at + LEAD + timedelta(hours=1),
                    capacity=PER_SLOT,
                    booked=PER_SLOT,
                )
            ]
        )
        insert_confirmed(
            (clients[(n * PER_SLOT + seat) % CLIENTS].pk, slot, long_ago)
            for n, slot in enumerate(slots)
            for seat in range(PER_SLOT)
        )
        # The mail already sent for the first of them: the scan looks for a
        # reminder among many rows.
        Notification.objects.bulk_create(
            (
                Notification(
                    user_id=client_id,
                    booking_id=booking_id,
                    kind=MailKind.BOOKING_CONFIRMED,
                    status=NotificationStatus.SENT,
                    subject="Booked",
                    created_at=long_ago,
                    next_attempt_at=long_ago,
                    sent_at=long_ago,
                )
                for booking_id, client_id in Booking.objects.order_by("pk").values_list(
                    "pk", "client_id"
                )[:SENT]
            ),
            batch_size=5_000,
        )
        # The slot starting within the lead: five due bookings among others
        # that get no reminder.
        due_slot = TimeSlot.objects.create(
            session=sessions[1],
            start=cls.at + timedelta(minutes=30),
            end=cls.at + timedelta(minutes=90),
            capacity=10,
            booked=7,
            waitlisted=1,
        )
        guests = users("guest", 10)
        quiet = users("quiet", 1, email_reminders=False)
        cls.due = Booking.objects.bulk_create(
            booking_row(guest, due_slot, long_ago) for guest in guests[:5]
        )
        Booking.objects.bulk_create(
            [
                # Confirmed inside the window (made or promoted there).
                booking_row(guests[5], due_slot, due_slot.start - timedelta(minutes=40)),
                # Its client wants no reminders.
                booking_row(quiet[0], due_slot, long_ago),
                booking_row(guests[6], due_slot, None, status=BookingStatus.WAITLISTED),
                booking_row(
                    guests[7],
                    due_slot,
                    long_ago,
                    status=BookingStatus.CANCELLED,
                    cancelled_at=long_ago,
                ),
            ]
        )
        cancelled_slot = TimeSlot.objects.create(
            session=sessions[2],
            start=cls.at + timedelta(minutes=20),
            end=cls.at + timedelta(minutes=80),
            capacity=10,
            is_cancelled=True,
            cancelled_at=long_ago,
        )
        booking_row(
            guests[8],
            cancelled_slot,
            long_ago,
            status=BookingStatus.CANCELLED,
            cancelled_at=long_ago,
        ).save()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

    def test_the_timetable_holds_a_hundred_thousand_upcoming_confirmed_bookings(self):
        upcoming = Booking.objects.filter(
            status=BookingStatus.CONFIRMED, time_slot__start__gt=self.at
        )
        self.assertGreaterEqual(upcoming.count(), BOOKINGS)

    def test_the_scan_writes_exactly_the_due_reminders_in_five_queries(self):
        # 1. SELECT the due bookings, with their clients, slots, sessions and
        #    instructors (reminders_due, joined by select_related);
        # 2. SAVEPOINT (the scan's atomic block, inside the test's transaction);
        # 3. INSERT the reminder rows, in one statement;
        # 4. SELECT the ids of the rows this scan wrote;
        # 5. RELEASE SAVEPOINT.
        with self.captureOnCommitCallbacks(execute=False) as callbacks, self.assertNumQueries(5):
            written = reminders_queue(at=self.at)

        self.assertEqual(written, 5)
        self.assertEqual(
            sorted(
                Notification.objects.filter(kind=MailKind.REMINDER).values_list(
                    "booking_id", flat=True
                )
            ),
            sorted(booking.pk for booking in self.due),
        )
        self.assertEqual(Notification.objects.count(), SENT + 5)
        self.assertEqual(len(callbacks), 1)

    def test_a_second_scan_writes_nothing_in_one_query(self):
        reminders_queue(at=self.at)

        # 1. SELECT the due bookings: none left, so nothing is written.
        with self.assertNumQueries(1):
            self.assertEqual(reminders_queue(at=self.at), 0)

        self.assertEqual(Notification.objects.filter(kind=MailKind.REMINDER).count(), 5)

    def test_a_second_before_the_lead_of_the_due_slot_nothing_is_due(self):
        lead_begins = self.at - timedelta(minutes=30)

        self.assertEqual(list(reminders_due(lead_begins - timedelta(seconds=1))), [])
        self.assertEqual(len(reminders_due(lead_begins)), 5)

    @skipUnless(connection.vendor == "postgresql", "EXPLAIN is read on PostgreSQL's planner")
    def test_the_scan_is_led_by_the_index_on_the_slots_start_on_postgresql(self):
        plan = reminders_due(self.at).explain()

        self.assertIn("timeslot_upcoming_idx", plan, plan)
        self.assertNotIn(f"Seq Scan on {Booking._meta.db_table}", plan, plan)
        self.assertNotIn(f"Seq Scan on {TimeSlot._meta.db_table}", plan, plan)
        self.assertNotIn(f"Seq Scan on {Notification._meta.db_table}", plan, plan)
