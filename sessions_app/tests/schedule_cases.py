"""What the tests of recurring schedules' services share: a schedule's
parts, the action log of an object, and a test case that creates and
updates sessions with a schedule."""

from datetime import datetime

from django.test import TestCase

from accounts.tests.factories import InstructorFactory
from core.models import ActionLogEntry
from sessions_app import services
from sessions_app.models import Session
from testing.timetable import ist

DAILY = "FREQ=DAILY"


def recurrence(rrule: str = DAILY, start: datetime | None = None, **extra) -> dict:
    return {
        "rrule": rrule,
        "start": start or ist(1, 7),
        "duration_minutes": 60,
        "capacity": 12,
        **extra,
    }


def actions(target, action: str) -> list[ActionLogEntry]:
    return list(ActionLogEntry.objects.filter(object_id=target.pk, action=action).order_by("pk"))


class RecurrenceServiceTestCase(TestCase):
    def setUp(self):
        self.instructor = InstructorFactory()

    def create(self, rule: dict | None = None, **fields) -> Session:
        fields.setdefault("title", "Morning Yoga")
        fields.setdefault("category", "yoga")
        return services.session_create(
            instructor=self.instructor,
            recurrence=rule or recurrence(),
            by=self.instructor,
            **fields,
        )

    def update(self, session: Session, **data) -> Session:
        return services.session_update(session=session, data=data, by=self.instructor)

    def starts(self, session: Session) -> list[datetime]:
        return list(session.time_slots.order_by("start").values_list("start", flat=True))

    def assert_invalid(self, raised, field: str | None) -> list[str]:
        errors = raised.exception.errors
        self.assertEqual(raised.exception.code, "invalid")
        self.assertEqual(set(errors), {"recurrence"}, errors)
        messages = errors["recurrence"] if field is None else errors["recurrence"][field]
        self.assertTrue(messages)
        self.assertTrue(all(isinstance(m, str) and m for m in messages), messages)
        return messages
