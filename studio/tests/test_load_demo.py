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
from sessions_app.models import Session, TimeSlot
from studio.testing import IST, studio_today

DEMO = json.loads((settings.BASE_DIR / "demodata.json").read_text())
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

    def test_load_demo_creates_the_sessions_with_their_slots_all_upcoming(self):
        load_demo()

        self.assertEqual(
            set(Session.objects.values_list("title", flat=True)),
            {item["title"] for item in DEMO["sessions"]},
        )
        self.assertEqual(TimeSlot.objects.count(), sum(len(s["slots"]) for s in DEMO["sessions"]))
        self.assertFalse(TimeSlot.objects.filter(start__lte=now()).exists())
        self.assertFalse(TimeSlot.objects.filter(is_cancelled=True).exists())
        for title, starts in wanted_starts(studio_today()).items():
            with self.subTest(title=title):
                session = Session.objects.get(title=title)
                self.assertEqual(set(session.time_slots.values_list("start", flat=True)), starts)

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

        self.assertEqual(Booking.objects.count(), len(DEMO["bookings"]))
        self.assertFalse(Booking.objects.exclude(status=BookingStatus.CONFIRMED).exists())
        self.assertIn(f"{len(DEMO['bookings'])} new bookings", output)
        mismatched = TimeSlot.objects.annotate(
            confirmed=Count("bookings", filter=Q(bookings__status=BookingStatus.CONFIRMED))
        ).exclude(booked=F("confirmed"))
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

        with mock.patch("studio.timezones.studio_today", return_value=tomorrow):
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
