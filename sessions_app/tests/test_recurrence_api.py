"""Recurring schedules through the session endpoints (API.md section 9):
create, PATCH and PUT with `recurrence`, how it shows, and who may change it."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.test import override_settings
from rest_framework import status

from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings.tests.factories import BookingFactory, make_slot
from sessions_app.models import Session, TimeSlot
from testing.api import (
    PUBLIC,
    SESSIONS,
    SessionApiTestCase,
    detail_url,
    public_url,
    sign_in,
    slot_body,
    update_url,
)
from testing.problems import assert_problem
from testing.timetable import IST, NEW_YORK, db_state, ist

RECURRENCE_KEYS = {"rrule", "start", "duration_minutes", "capacity"}


def schedule(rrule: str = "FREQ=DAILY", start: datetime | None = None, **extra) -> dict:
    """A `recurrence` body; the start in studio time without an offset."""
    start = start or ist(1, 7)
    return {
        "rrule": rrule,
        "start": f"{start.astimezone(IST):%Y-%m-%dT%H:%M:%S}",
        "duration_minutes": 60,
        "capacity": 12,
        **extra,
    }


def studio_minute(value: datetime) -> str:
    return f"{value.astimezone(IST):%Y-%m-%dT%H:%M}"


@override_settings(STUDIO_SCHEDULE_HORIZON_DAYS=7)
class RecurrenceApiTestCase(SessionApiTestCase):
    def setUp(self):
        super().setUp()
        self.instructor = InstructorFactory()
        sign_in(self.client, self.instructor)

    def post(self, url: str = SESSIONS, **body):
        body.setdefault("title", "Morning Yoga")
        body.setdefault("category", "yoga")
        return self.client.post(url, body, format="json")

    def created(self, **body) -> dict:
        response = self.post(**body)
        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        return response.json()

    def patch(self, pk: int, body: dict, **extra):
        return self.client.patch(detail_url(pk), body, format="json", **extra)

    def starts(self, session_id: int) -> list[datetime]:
        return list(
            TimeSlot.objects.filter(session_id=session_id)
            .order_by("start")
            .values_list("start", flat=True)
        )


class CreateTests(RecurrenceApiTestCase):
    def test_create_with_a_schedule_and_no_slots_returns_201_with_generated_slots(self):
        body = self.created(recurrence=schedule("FREQ=DAILY;COUNT=3"))

        self.assertEqual(
            body["recurrence"],
            {
                "rrule": "FREQ=DAILY;COUNT=3",
                "start": ist(1, 7).isoformat(),
                "duration_minutes": 60,
                "capacity": 12,
            },
        )
        shown = [datetime.fromisoformat(slot["start"]) for slot in body["time_slots"]]
        self.assertEqual(shown, [ist(1, 7), ist(2, 7), ist(3, 7)])
        self.assertEqual({slot["capacity"] for slot in body["time_slots"]}, {12})
        self.assertEqual(
            {
                datetime.fromisoformat(slot["end"]) - datetime.fromisoformat(slot["start"])
                for slot in body["time_slots"]
            },
            {timedelta(hours=1)},
        )
        self.assertTrue(all(s.generated for s in TimeSlot.objects.filter(session_id=body["id"])))

    def test_the_create_alias_takes_a_schedule_too(self):
        body = self.created(url="/api/sessions/create/", recurrence=schedule("FREQ=DAILY;COUNT=2"))

        self.assertEqual(body["recurrence"]["rrule"], "FREQ=DAILY;COUNT=2")
        self.assertEqual(len(body["time_slots"]), 2)

    def test_slots_and_a_schedule_may_be_given_together(self):
        body = self.created(
            time_slots=[slot_body(ist(1, 19))], recurrence=schedule("FREQ=DAILY;COUNT=2")
        )

        self.assertEqual(self.starts(body["id"]), [ist(1, 7), ist(1, 19), ist(2, 7)])

    def test_the_schedule_start_shows_in_the_viewers_zone(self):
        body = self.created(recurrence=schedule("FREQ=WEEKLY"))

        shown = self.client.get(detail_url(body["id"]), {"tz": "America/New_York"}).json()

        start = shown["recurrence"]["start"]
        self.assertEqual(start, ist(1, 7).astimezone(NEW_YORK).isoformat())
        self.assertTrue(start.endswith("-05:00"), start)
        self.assertTrue(body["recurrence"]["start"].endswith("+05:30"))
        self.assertEqual(datetime.fromisoformat(start), ist(1, 7))

    def test_the_create_answer_shows_the_schedule_in_the_requested_zone(self):
        response = self.client.post(
            f"{SESSIONS}?tz=America/New_York",
            {"title": "Yoga", "category": "yoga", "recurrence": schedule("FREQ=DAILY;COUNT=1")},
            format="json",
        )

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        body = response.json()
        self.assertTrue(body["recurrence"]["start"].endswith("-05:00"))
        self.assertEqual(body["time_slots"][0]["start"], body["recurrence"]["start"])

    def test_a_start_with_an_offset_becomes_studio_time(self):
        start = ist(3, 7).astimezone(ZoneInfo("America/New_York"))

        body = self.created(recurrence={**schedule(), "start": start.isoformat()})

        session = Session.objects.get(pk=body["id"])
        self.assertEqual(session.rrule_start, ist(3, 7))
        self.assertEqual(body["recurrence"]["start"], ist(3, 7).isoformat())

    def test_a_session_without_slots_or_schedule_is_refused(self):
        for extra in [{}, {"recurrence": None}]:
            with self.subTest(extra=extra):
                errors = self.assert_invalid(self.post(**extra))

                self.assertIn("time_slots", errors)
                self.assert_messages(errors["time_slots"])
        self.assertFalse(Session.objects.exists())

    def test_a_bad_rule_is_refused_under_recurrence_rrule(self):
        for rrule in ["FREQ=MONTHLY", "FREQ=WEEKLY;BYDAY=1MO", "FREQ=DAILY;COUNT=2;UNTIL=20300101"]:
            with self.subTest(rrule=rrule):
                errors = self.assert_invalid(self.post(recurrence=schedule(rrule)))

                self.assertEqual(set(errors), {"recurrence"})
                self.assertEqual(set(errors["recurrence"]), {"rrule"})
                self.assert_messages(errors["recurrence"]["rrule"])
        self.assertFalse(Session.objects.exists())

    def test_a_start_in_the_past_is_refused_under_recurrence_start(self):
        errors = self.assert_invalid(self.post(recurrence=schedule(start=ist(-1, 7))))

        self.assertEqual(set(errors["recurrence"]), {"start"})
        self.assertFalse(Session.objects.exists())

    def test_a_schedule_missing_a_field_is_refused(self):
        for missing in sorted(RECURRENCE_KEYS):
            with self.subTest(missing=missing):
                body = schedule()
                del body[missing]

                errors = self.assert_invalid(self.post(recurrence=body))

                self.assertIn(missing, errors["recurrence"])
        self.assertFalse(Session.objects.exists())

    def test_an_overlap_is_refused_with_the_occurrence_in_studio_time(self):
        other = make_slot(instructor=self.instructor, start=ist(2, 7, 30), title="Evening Flow")
        before = db_state()

        errors = self.assert_invalid(self.post(recurrence=schedule()))

        self.assertEqual(
            errors,
            {
                "recurrence": [
                    f"The occurrence at {studio_minute(ist(2, 7))} overlaps your time slot "
                    f"{other.pk} of Evening Flow."
                ]
            },
        )
        self.assertRegex(errors["recurrence"][0], r"at 20\d\d-\d\d-\d\dT07:00 ")
        self.assertEqual(db_state(), before)

    def test_a_slot_of_the_request_overlapping_an_occurrence_is_refused(self):
        errors = self.assert_invalid(
            self.post(time_slots=[slot_body(ist(2, 7, 30))], recurrence=schedule())
        )

        self.assertEqual(
            errors["recurrence"],
            [f"The occurrence at {studio_minute(ist(2, 7))} overlaps time slot 1 of this request."],
        )
        self.assertFalse(Session.objects.exists())

    @override_settings(TIME_ZONE="America/New_York")
    def test_a_naive_start_in_a_skipped_studio_hour_is_refused(self):
        response = self.post(recurrence={**schedule(), "start": "2027-03-14T02:30:00"})

        errors = self.assert_invalid(response)
        self.assertEqual(set(errors["recurrence"]), {"start"})
        self.assert_messages(errors["recurrence"]["start"])
        self.assertFalse(Session.objects.exists())

    def test_a_client_cannot_create_a_schedule(self):
        sign_in(self.client, ClientFactory())

        response = self.post(recurrence=schedule())

        assert_problem(self, response, status.HTTP_403_FORBIDDEN, "permission_denied")
        self.assertFalse(Session.objects.exists())


class UpdateTests(RecurrenceApiTestCase):
    def setUp(self):
        super().setUp()
        self.body = self.created(recurrence=schedule())
        self.pk = self.body["id"]

    def test_patch_with_a_new_schedule_replaces_the_generated_slots(self):
        old = set(TimeSlot.objects.filter(session_id=self.pk).values_list("pk", flat=True))

        response = self.patch(self.pk, {"recurrence": schedule("FREQ=DAILY;COUNT=2", ist(1, 18))})

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        body = response.json()
        self.assertEqual(body["recurrence"]["rrule"], "FREQ=DAILY;COUNT=2")
        self.assertEqual(
            [datetime.fromisoformat(slot["start"]) for slot in body["time_slots"]],
            [ist(1, 18), ist(2, 18)],
        )
        self.assertFalse(TimeSlot.objects.filter(pk__in=old).exists())

    def test_patch_keeps_a_booked_slot_and_skips_the_occurrence_overlapping_it(self):
        booked = TimeSlot.objects.get(session_id=self.pk, start=ist(2, 7))
        BookingFactory(time_slot=booked)

        response = self.patch(
            self.pk, {"recurrence": schedule("FREQ=DAILY;COUNT=3", ist(1, 7, 30))}
        )

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        self.assertEqual(self.starts(self.pk), [ist(1, 7, 30), ist(2, 7), ist(3, 7, 30)])
        self.assertTrue(TimeSlot.objects.filter(pk=booked.pk, booked=1).exists())

    def test_patch_with_null_stops_the_schedule_and_keeps_the_slots(self):
        before = self.starts(self.pk)

        response = self.patch(self.pk, {"recurrence": None})

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        body = response.json()
        self.assertIsNone(body["recurrence"])
        self.assertEqual([datetime.fromisoformat(s["start"]) for s in body["time_slots"]], before)
        self.assertEqual(self.starts(self.pk), before)

    def test_patch_of_the_title_only_leaves_the_schedule(self):
        before = self.starts(self.pk)

        response = self.patch(self.pk, {"title": "Sunrise Yoga"})

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        body = response.json()
        self.assertEqual(body["title"], "Sunrise Yoga")
        self.assertEqual(body["recurrence"], self.body["recurrence"])
        self.assertEqual(self.starts(self.pk), before)

    def test_put_without_recurrence_leaves_the_schedule(self):
        response = self.client.put(
            update_url(self.pk), {"title": "Yoga", "category": "yoga"}, format="json"
        )

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        self.assertEqual(response.json()["recurrence"], self.body["recurrence"])

    def test_patch_with_a_partial_schedule_is_refused(self):
        before = db_state()

        response = self.patch(self.pk, {"recurrence": {"rrule": "FREQ=WEEKLY"}})

        errors = self.assert_invalid(response)
        self.assertEqual(
            set(errors["recurrence"]), {"start", "duration_minutes", "capacity"}, errors
        )
        self.assertEqual(db_state(), before)

    def test_patch_with_a_bad_rule_is_refused_and_nothing_changes(self):
        before = db_state()

        errors = self.assert_invalid(self.patch(self.pk, {"recurrence": schedule("FREQ=YEARLY")}))

        self.assertEqual(set(errors["recurrence"]), {"rrule"})
        self.assertEqual(db_state(), before)

    def test_patch_with_an_overlap_is_refused_with_the_studio_time(self):
        other = make_slot(instructor=self.instructor, start=ist(3, 18, 30), title="Pilates")
        before = db_state()

        errors = self.assert_invalid(
            self.patch(self.pk, {"recurrence": schedule(start=ist(1, 18))})
        )

        self.assertEqual(
            errors["recurrence"],
            [
                f"The occurrence at {studio_minute(ist(3, 18))} overlaps your time slot "
                f"{other.pk} of Pilates."
            ],
        )
        self.assertEqual(db_state(), before)

    def test_another_instructor_cannot_change_the_schedule(self):
        before = db_state()
        sign_in(self.client, InstructorFactory())

        for body in [{"recurrence": schedule(start=ist(1, 18))}, {"recurrence": None}]:
            with self.subTest(body=body):
                response = self.patch(self.pk, body)

                assert_problem(self, response, status.HTTP_403_FORBIDDEN, "permission_denied")
        self.assertEqual(db_state(), before)
        session = Session.objects.get(pk=self.pk)
        self.assertEqual((session.rrule, session.rrule_start), ("FREQ=DAILY", ist(1, 7)))


class PublicTests(RecurrenceApiTestCase):
    def test_the_public_list_and_detail_show_the_schedule(self):
        body = self.created(recurrence=schedule("FREQ=WEEKLY;BYDAY=MO,WE"))
        plain = self.created(title="Drop-in", time_slots=[slot_body(ist(2, 20))])
        sign_in(self.client, None)

        listing = self.client.get(PUBLIC)
        detail = self.client.get(public_url(body["id"]), {"tz": "America/New_York"})

        self.assertEqual(listing.status_code, status.HTTP_200_OK, listing.content)
        shown = {item["id"]: item for item in listing.json()["results"]}
        self.assertEqual(shown[body["id"]]["recurrence"], body["recurrence"])
        self.assertEqual(set(shown[body["id"]]["recurrence"]), RECURRENCE_KEYS)
        self.assertIsNone(shown[plain["id"]]["recurrence"])
        self.assertEqual(detail.status_code, status.HTTP_200_OK, detail.content)
        recurrence = detail.json()["recurrence"]
        self.assertEqual(recurrence["rrule"], "FREQ=WEEKLY;BYDAY=MO,WE")
        self.assertEqual(recurrence["start"], ist(1, 7).astimezone(NEW_YORK).isoformat())
