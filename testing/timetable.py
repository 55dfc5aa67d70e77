"""Studio time, the items of a session service's `time_slots`, a snapshot
of every row a timetable or booking write can change, and an object's
action log."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import TestCase
from django.utils.timezone import now

from bookings.models import Booking
from core.models import ActionLogEntry
from core.timezones import studio_today
from sessions_app.models import Session, TimeSlot
from testing.problems import assert_slot_errors

IST = ZoneInfo("Asia/Kolkata")
NEW_YORK = ZoneInfo("America/New_York")


def ist(days: int, hour: int, minute: int = 0) -> datetime:
    """`hour:minute` on the studio's clocks, `days` after the studio's today."""
    return datetime.combine(studio_today() + timedelta(days=days), time(hour, minute), IST)


def hours_from_now(hours: float) -> datetime:
    return now() + timedelta(hours=hours)


def slot_item(start_hours: float, hours: float = 1, capacity: int = 10, **extra) -> dict:
    """One item of a `time_slots` list that starts `start_hours` from now."""
    start = hours_from_now(start_hours)
    return {"start": start, "end": start + timedelta(hours=hours), "capacity": capacity, **extra}


class SessionServiceTestCase(TestCase):
    def assert_slot_errors(self, raised, expected_keys: list[set[str]]) -> list:
        """The error of `raised` is `invalid` and nests one dict per item, with these keys."""
        self.assertEqual(raised.exception.code, "invalid")
        return assert_slot_errors(self, raised.exception.errors, expected_keys)


def db_state() -> dict:
    """Everything a timetable or booking write can change, the action log and
    the admin's log included, to compare before and after."""
    return {
        "sessions": list(
            Session.objects.order_by("pk").values_list(
                "pk", "instructor_id", "title", "description", "category", "updated_at"
            )
        ),
        "slots": list(
            TimeSlot.objects.order_by("pk").values_list(
                "pk",
                "session_id",
                "start",
                "end",
                "capacity",
                "booked",
                "waitlisted",
                "is_cancelled",
            )
        ),
        "bookings": list(
            Booking.objects.order_by("pk").values_list(
                "pk", "time_slot_id", "status", "late", "attendance"
            )
        ),
        "action_log": ActionLogEntry.objects.count(),
        "admin_log": LogEntry.objects.count(),
    }


def log_of(obj_or_model, pk: int | None = None) -> list[tuple]:
    """(action, actor id) of the object's action-log entries, oldest first."""
    model = obj_or_model if pk is not None else type(obj_or_model)
    pk = pk if pk is not None else obj_or_model.pk
    entries = ActionLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id=pk
    ).order_by("created_at", "id")
    return [(entry.action, entry.actor_id) for entry in entries]
