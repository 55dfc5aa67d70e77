"""The admin shows and edits a session's recurring schedule, writing through
the same services as the API: a new or changed rule generates slots, an
unchanged one leaves them alone, and a refused rule writes nothing."""

from datetime import timedelta

from django.test import TestCase, override_settings

from accounts.models import User
from accounts.tests.factories import PASSWORD, InstructorFactory
from core.models import ActionLogEntry
from sessions_app import schedules, services
from sessions_app.models import Session, TimeSlot
from testing.admin import SESSIONS_URL, admin_inputs, existing_rows, session_form, staff_browser
from testing.api import SESSIONS, api_client
from testing.timetable import db_state, ist

HORIZON_DAYS = 20


def schedule_inputs(rule: str, start, minutes: int = 45, capacity: int = 10) -> dict[str, str]:
    return {
        "rrule": rule,
        **admin_inputs(start, "rrule_start"),
        "rrule_minutes": str(minutes),
        "rrule_capacity": str(capacity),
    }


@override_settings(STUDIO_SCHEDULE_HORIZON_DAYS=HORIZON_DAYS)
class AdminRecurrenceTests(TestCase):
    def setUp(self):
        self.staff = User.objects.create_superuser(
            email="desk@studio.example", password=PASSWORD, name="Front Desk"
        )
        self.admin = staff_browser(self.staff)
        self.instructor = InstructorFactory()
        self.start = ist(3, 7)

    def weekly(self, **changes) -> Session:
        recurrence = {
            "rrule": "FREQ=WEEKLY",
            "start": self.start,
            "duration_minutes": 45,
            "capacity": 10,
            **changes,
        }
        return services.session_create(
            instructor=self.instructor,
            title="Monday Pilates",
            category="pilates",
            recurrence=recurrence,
            by=self.instructor,
        )

    def change_form(self, session: Session, **schedule: str) -> dict[str, str]:
        slots = list(TimeSlot.objects.filter(session=session).order_by("start"))
        data = session_form(
            instructor=self.instructor,
            rows=existing_rows(slots),
            initial=len(slots),
            title=session.title,
            category=session.category,
        )
        return {**data, **schedule}

    def test_the_change_page_shows_the_schedule(self):
        session = self.weekly()

        response = self.admin.get(f"{SESSIONS_URL}{session.pk}/change/")

        self.assertEqual(response.status_code, 200)
        form = response.context["adminform"].form
        self.assertEqual(form.initial["rrule"], "FREQ=WEEKLY")
        self.assertEqual(form.initial["rrule_minutes"], 45)
        self.assertContains(response, "Recurring schedule")
        self.assertContains(response, f"{HORIZON_DAYS} days ahead")

    def test_adding_a_session_with_a_schedule_and_no_slot_rows_generates_its_slots(self):
        data = {
            **session_form(
                instructor=self.instructor, rows=[], title="Daily Spin", category="spin"
            ),
            **schedule_inputs("FREQ=DAILY;COUNT=5", self.start),
        }

        response = self.admin.post(f"{SESSIONS_URL}add/", data)

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        session = Session.objects.get(title="Daily Spin")
        self.assertEqual(session.rrule, "FREQ=DAILY;COUNT=5")
        starts = list(
            TimeSlot.objects.filter(session=session, generated=True)
            .order_by("start")
            .values_list("start", flat=True)
        )
        self.assertEqual(starts, [self.start + timedelta(days=day) for day in range(5)])
        created = ActionLogEntry.objects.get(action="session.created", object_id=session.pk)
        self.assertEqual(created.actor, self.staff)
        self.assertEqual(created.data["recurrence"]["rrule"], "FREQ=DAILY;COUNT=5")

    def test_saving_without_changing_the_schedule_keeps_the_generated_slots(self):
        session = self.weekly()
        before = list(TimeSlot.objects.filter(session=session).values_list("pk", "start"))
        data = self.change_form(session, **schedule_inputs("FREQ=WEEKLY", self.start))
        data["title"] = "Monday Pilates (mat)"

        response = self.admin.post(f"{SESSIONS_URL}{session.pk}/change/", data)

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        session.refresh_from_db()
        self.assertEqual(session.title, "Monday Pilates (mat)")
        self.assertEqual(
            list(TimeSlot.objects.filter(session=session).values_list("pk", "start")), before
        )

    def test_changing_the_rule_replaces_the_upcoming_generated_slots(self):
        session = self.weekly()
        old = set(TimeSlot.objects.filter(session=session).values_list("pk", flat=True))
        later = self.start + timedelta(hours=2)
        data = self.change_form(session, **schedule_inputs("FREQ=WEEKLY;COUNT=2", later, 30, 6))

        response = self.admin.post(f"{SESSIONS_URL}{session.pk}/change/", data)

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        session.refresh_from_db()
        self.assertEqual(session.rrule, "FREQ=WEEKLY;COUNT=2")
        slots = list(TimeSlot.objects.filter(session=session).order_by("start"))
        self.assertEqual(
            [(slot.start, slot.end - slot.start, slot.capacity) for slot in slots],
            [(later + timedelta(weeks=week), timedelta(minutes=30), 6) for week in range(2)],
        )
        self.assertFalse(old & {slot.pk for slot in slots})

    def test_clearing_the_rule_stops_the_series_and_keeps_its_slots(self):
        session = self.weekly()
        before = list(TimeSlot.objects.filter(session=session).values_list("pk", flat=True))
        data = self.change_form(
            session,
            rrule="",
            rrule_start_0="",
            rrule_start_1="",
            rrule_minutes="",
            rrule_capacity="",
        )

        response = self.admin.post(f"{SESSIONS_URL}{session.pk}/change/", data)

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        session.refresh_from_db()
        self.assertEqual(session.rrule, "")
        self.assertEqual(
            list(TimeSlot.objects.filter(session=session).values_list("pk", flat=True)), before
        )
        self.assertEqual(schedules.schedules_extend(at=self.start + timedelta(days=60)), 0)

    def test_a_schedule_without_its_start_is_refused_and_writes_nothing(self):
        state = db_state()
        data = {
            **session_form(
                instructor=self.instructor, rows=[], title="Daily Spin", category="spin"
            ),
            "rrule": "FREQ=DAILY",
            "rrule_minutes": "30",
            "rrule_capacity": "8",
        }

        response = self.admin.post(f"{SESSIONS_URL}add/", data)

        self.assertEqual(response.status_code, 200)
        self.assertIn("rrule_start", response.context["adminform"].form.errors)
        self.assertEqual(db_state(), state)

    def test_a_rule_the_service_refuses_shows_its_words_and_writes_nothing(self):
        state = db_state()
        data = {
            **session_form(
                instructor=self.instructor, rows=[], title="Monthly Spin", category="spin"
            ),
            **schedule_inputs("FREQ=MONTHLY", self.start),
        }

        response = self.admin.post(f"{SESSIONS_URL}add/", data)

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "FREQ must be DAILY or WEEKLY.")
        self.assertEqual(db_state(), state)

    def test_an_overlapping_occurrence_is_refused_in_the_api_s_words(self):
        other = services.session_create(
            instructor=self.instructor,
            title="Evening Yoga",
            category="yoga",
            time_slots=[
                {"start": self.start, "end": self.start + timedelta(hours=1), "capacity": 8}
            ],
            by=self.instructor,
        )
        slot = other.time_slots.get()
        state = db_state()
        body = {
            "title": "Daily Spin",
            "category": "spin",
            "recurrence": {
                "rrule": "FREQ=DAILY;COUNT=3",
                "start": self.start.isoformat(),
                "duration_minutes": 30,
                "capacity": 8,
            },
        }

        answer = api_client(self.instructor).post(SESSIONS, body, format="json")
        page = self.admin.post(
            f"{SESSIONS_URL}add/",
            {
                **session_form(instructor=self.instructor, rows=[], title="Daily Spin"),
                **schedule_inputs("FREQ=DAILY;COUNT=3", self.start, 30, 8),
            },
        )

        words = (
            f"The occurrence at {self.start:%Y-%m-%dT%H:%M} overlaps your time slot "
            f"{slot.pk} of Evening Yoga."
        )
        self.assertEqual(answer.status_code, 400)
        self.assertEqual(answer.json()["errors"], {"recurrence": [words]})
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, words)
        self.assertEqual(db_state(), state)
