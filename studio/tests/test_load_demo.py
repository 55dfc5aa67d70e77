"""`manage.py load_demo`: the demo users, timetable and bookings of demodata.json."""

import json
from datetime import date, datetime, time, timedelta
from io import StringIO
from unittest import mock

from django.conf import settings
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.test import TestCase
from django.utils.timezone import now

from accounts.models import User
from bookings.models import Booking, BookingStatus
from core.timezones import studio_today
from sessions_app.models import Session, TimeSlot
from testing.timetable import IST

DEMO = json.loads((settings.BASE_DIR / "demodata.json").read_text())
LIFECYCLE = DEMO["lifecycle"]
# The lifecycle's slots beside the timetable's: one that starts within hours
# (the late cancellation) and one that took place (the past class).
LIFECYCLE_SLOTS = 2
LIFECYCLE_BOOKINGS = (
    len(LIFECYCLE["full_class"]["clients"]) + 1 + len(LIFECYCLE["past_class"]["attendance"])
)
DEMO_PASSWORD = "demo-Pass-2027"
ADMIN_EMAIL = "admin@studio.example"
ADMIN_PASSWORD = "admin-Pass-2027"


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out, stderr=StringIO())
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "sessions": Session.objects.count(),
        "slots": TimeSlot.objects.count(),
        "bookings": Booking.objects.count(),
        "booked": sum(TimeSlot.objects.values_list("booked", flat=True)),
    }


def wanted_starts(today: date) -> dict[str, set[datetime]]:
    """Each demo session's slot starts when loaded on `today` (studio dates)."""
    return {
        item["title"]: {
            datetime.combine(
                today + timedelta(days=slot["day"]), time.fromisoformat(slot["time"]), IST
            )
            for slot in item["slots"]
        }
        for item in DEMO["sessions"]
    }


class LoadDemoTests(TestCase):
    def test_load_demo_creates_the_demo_users(self):
        load_demo()

        self.assertEqual(
            set(User.objects.values_list("email", flat=True)),
            {item["email"] for item in DEMO["users"]},
        )
        admin = User.objects.get(email=ADMIN_EMAIL)
        self.assertTrue(admin.is_superuser and admin.is_staff)
        self.assertEqual(User.objects.get(email="sam@client.example").timezone, "America/New_York")
        self.assertEqual(User.objects.get(email="priya@studio.example").role, "instructor")
        self.assertEqual(User.objects.get(email="maya@client.example").role, "client")

    def test_demo_users_sign_in_with_the_readme_passwords(self):
        load_demo()

        for user in User.objects.all():
            with self.subTest(email=user.email):
                password = ADMIN_PASSWORD if user.email == ADMIN_EMAIL else DEMO_PASSWORD
                self.assertTrue(user.check_password(password))
                self.assertFalse(user.check_password("wrong-Pass-2027"))

    def test_load_demo_creates_the_sessions_with_their_slots_upcoming_but_the_past_class(self):
        load_demo()

        self.assertEqual(
            set(Session.objects.values_list("title", flat=True)),
            {item["title"] for item in DEMO["sessions"]},
        )
        self.assertEqual(
            TimeSlot.objects.count(),
            sum(len(s["slots"]) for s in DEMO["sessions"]) + LIFECYCLE_SLOTS,
        )
        past = LIFECYCLE["past_class"]
        self.assertEqual(
            list(TimeSlot.objects.filter(start__lte=now()).values_list("start", flat=True)),
            [
                datetime.combine(
                    studio_today() - timedelta(days=past["days_ago"]),
                    time.fromisoformat(past["time"]),
                    IST,
                )
            ],
        )
        self.assertFalse(TimeSlot.objects.filter(is_cancelled=True).exists())
        for title, starts in wanted_starts(studio_today()).items():
            with self.subTest(title=title):
                session = Session.objects.get(title=title)
                shown = set(
                    session.time_slots.filter(start__gt=now()).values_list("start", flat=True)
                )
                extra = 1 if title == LIFECYCLE["late_cancellation"]["session"] else 0
                self.assertLessEqual(starts, shown)
                self.assertEqual(len(shown - starts), extra)

    def test_load_demo_gives_each_instructor_a_timetable_without_overlaps(self):
        load_demo()

        for slot in TimeSlot.objects.select_related("session"):
            clashes = TimeSlot.objects.filter(
                session__instructor=slot.session.instructor_id,
                start__lt=slot.end,
                end__gt=slot.start,
            ).exclude(pk=slot.pk)
            self.assertFalse(clashes.exists(), slot)

    def test_load_demo_books_the_demo_bookings(self):
        output = load_demo()

        total = len(DEMO["bookings"]) + LIFECYCLE_BOOKINGS
        self.assertEqual(Booking.objects.count(), total)
        self.assertIn(f"{total} new bookings", output)
        mismatched = TimeSlot.objects.annotate(
            confirmed=Count("bookings", filter=Q(bookings__status=BookingStatus.CONFIRMED)),
            waiting=Count("bookings", filter=Q(bookings__status=BookingStatus.WAITLISTED)),
        ).exclude(booked=F("confirmed"), waitlisted=F("waiting"))
        self.assertFalse(mismatched.exists())
        for item in DEMO["bookings"]:
            with self.subTest(**item):
                slot = Session.objects.get(title=item["session"]).time_slots.order_by("start")[
                    item["slot"]
                ]
                self.assertTrue(
                    Booking.objects.filter(time_slot=slot, client__email=item["client"]).exists()
                )

    def test_load_demo_twice_creates_nothing_new(self):
        load_demo()
        first = counts()
        passwords = dict(User.objects.values_list("email", "password"))

        output = load_demo()

        self.assertEqual(counts(), first)
        self.assertIn("0 new bookings", output)
        self.assertEqual(dict(User.objects.values_list("email", "password")), passwords)

    def test_load_demo_on_a_later_day_adds_that_days_slots_and_keeps_the_others(self):
        load_demo()
        before = set(TimeSlot.objects.values_list("pk", "start"))
        bookings = set(Booking.objects.values_list("pk", "time_slot_id", "status"))
        tomorrow = studio_today() + timedelta(days=1)

        with mock.patch("core.timezones.studio_today", return_value=tomorrow):
            load_demo()

        after = set(TimeSlot.objects.values_list("pk", "start"))
        self.assertLessEqual(before, after)
        for title, starts in wanted_starts(tomorrow).items():
            with self.subTest(title=title):
                session = Session.objects.get(title=title)
                self.assertLessEqual(
                    starts, set(session.time_slots.values_list("start", flat=True))
                )
        self.assertLessEqual(
            bookings, set(Booking.objects.values_list("pk", "time_slot_id", "status"))
        )


class LoadDemoLifecycleTests(TestCase):
    def setUp(self):
        load_demo()

    def test_the_full_class_has_no_seat_left_and_a_waitlist(self):
        item = LIFECYCLE["full_class"]
        slot = Session.objects.get(title=item["session"]).time_slots.order_by("start")[item["slot"]]
        self.assertEqual((slot.booked, slot.status), (slot.capacity, "full"))
        waiting = Booking.objects.filter(time_slot=slot, status=BookingStatus.WAITLISTED)
        self.assertEqual(slot.waitlisted, waiting.count())
        self.assertGreaterEqual(slot.waitlisted, 1)
        self.assertTrue(
            set(waiting.values_list("client__email", flat=True)) <= set(item["clients"])
        )

    def test_one_booking_was_cancelled_late(self):
        item = LIFECYCLE["late_cancellation"]
        late = Booking.objects.get(late=True)
        self.assertEqual(late.status, BookingStatus.CANCELLED)
        self.assertEqual(late.client.email, item["client"])
        self.assertGreater(late.cancelled_at, late.cancel_before)
        self.assertGreater(late.time_slot.start, now())

    def test_the_past_class_has_its_attendance_marked(self):
        item = LIFECYCLE["past_class"]
        marked = dict(
            Booking.objects.filter(time_slot__start__lte=now()).values_list(
                "client__email", "attendance"
            )
        )
        self.assertEqual(marked, item["attendance"])

    def test_the_lifecycle_is_not_loaded_twice(self):
        before = set(Booking.objects.values_list("pk", "status", "late", "attendance"))
        self.assertIn("0 new bookings", load_demo())
        self.assertEqual(
            set(Booking.objects.values_list("pk", "status", "late", "attendance")), before
        )
