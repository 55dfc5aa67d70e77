"""Creating sessions through POST /api/sessions/ and /api/sessions/create/ (API.md section 3)."""

from datetime import datetime, timedelta

from django.utils.timezone import now
from rest_framework import status

from accounts.tests.factories import InstructorFactory
from bookings.tests.factories import cancel_slot
from sessions_app.models import Session
from sessions_app.tests.factories import TimeSlotFactory
from testing.api import (
    CREATE,
    SESSION_KEYS,
    SESSIONS,
    SLOT_KEYS,
    SessionApiTestCase,
    sign_in,
    slot_body,
)
from testing.problems import assert_problem
from testing.timetable import db_state, ist


class SessionCreateViewTests(SessionApiTestCase):
    def setUp(self):
        super().setUp()
        self.instructor = InstructorFactory(name="Priya")
        sign_in(self.client, self.instructor)

    def body(self, *slots: dict, **fields) -> dict:
        data = {"title": "Morning Yoga", "description": "Hatha", "category": "yoga"}
        data.update(fields)
        data["time_slots"] = list(slots) or [slot_body(ist(3, 7))]
        return data

    def test_create_on_both_paths_returns_201_with_the_session(self):
        for url in [CREATE, SESSIONS]:
            with self.subTest(url=url):
                start = ist(3 if url == CREATE else 4, 7)

                response = self.client.post(url, self.body(slot_body(start, capacity=20)))

                self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
                body = response.json()
                self.assertEqual(set(body), SESSION_KEYS)
                session = Session.objects.get(pk=body["id"])
                self.assertEqual(session.instructor, self.instructor)
                self.assertEqual(body["instructor"], {"id": self.instructor.pk, "name": "Priya"})
                self.assertEqual(
                    (body["title"], body["description"], body["category"]),
                    ("Morning Yoga", "Hatha", "yoga"),
                )
                [slot] = body["time_slots"]
                self.assertEqual(set(slot), SLOT_KEYS)
                stored = session.time_slots.get()
                self.assertEqual(
                    slot,
                    {
                        "id": stored.pk,
                        "session": session.pk,
                        "start": start.isoformat(),
                        "end": (start + timedelta(hours=1)).isoformat(),
                        "timezone": "Asia/Kolkata",
                        "capacity": 20,
                        "booked": 0,
                        "available": 20,
                        "is_full": False,
                        "status": "open",
                        "waitlisted": 0,
                    },
                )
                self.assertEqual(stored.start, start)

    def test_create_without_description_stores_an_empty_one(self):
        data = self.body()
        del data["description"]

        response = self.client.post(SESSIONS, data)

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        self.assertEqual(response.json()["description"], "")

    def test_create_renders_created_and_updated_times_in_the_viewing_zone(self):
        response = self.client.post(SESSIONS + "?tz=Asia/Tokyo", self.body())

        body = response.json()
        for key in ["created_at", "updated_at"]:
            self.assertTrue(body[key].endswith("+09:00"), body[key])
            stamp = datetime.fromisoformat(body[key])
            self.assertLess(abs(stamp - now()), timedelta(minutes=1))

    def test_create_returns_the_slots_soonest_first(self):
        late, early = ist(6, 7), ist(3, 7)

        response = self.client.post(SESSIONS, self.body(slot_body(late), slot_body(early)))

        starts = [slot["start"] for slot in response.json()["time_slots"]]
        self.assertEqual(starts, [early.isoformat(), late.isoformat()])

    def test_create_refuses_each_missing_field(self):
        for field in ["title", "category", "time_slots"]:
            with self.subTest(field=field):
                data = self.body()
                del data[field]

                errors = self.assert_invalid(self.client.post(SESSIONS, data))

                self.assertEqual(set(errors), {field})
                self.assert_messages(errors[field])
        self.assertFalse(Session.objects.exists())

    def test_create_refuses_an_unknown_category(self):
        errors = self.assert_invalid(self.client.post(SESSIONS, self.body(category="karate")))

        self.assertEqual(set(errors), {"category"})
        self.assertFalse(Session.objects.exists())

    def test_create_refuses_a_title_or_description_that_is_not_a_string(self):
        for field, value in [("title", 0), ("description", 2.5)]:
            with self.subTest(field=field):
                response = self.client.post(SESSIONS, self.body(**{field: value}))

                errors = self.assert_invalid(response)

                self.assertEqual(set(errors), {field})
                self.assertFalse(Session.objects.exists())

    def test_create_accepts_every_category_of_the_contract(self):
        categories = ["yoga", "zumba", "hiit", "pilates", "spin", "strength", "dance", "other"]
        for day, category in enumerate(categories, start=2):
            with self.subTest(category=category):
                response = self.client.post(
                    SESSIONS, self.body(slot_body(ist(day, 7)), category=category)
                )

                self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
                self.assertEqual(response.json()["category"], category)

    def test_create_refuses_an_empty_slot_list_with_a_list_of_messages(self):
        data = self.body()
        data["time_slots"] = []

        errors = self.assert_invalid(self.client.post(SESSIONS, data))

        self.assertEqual(set(errors), {"time_slots"})
        self.assert_messages(errors["time_slots"])
        self.assertFalse(Session.objects.exists())

    def test_create_refuses_time_slots_that_are_not_a_list(self):
        data = self.body()
        data["time_slots"] = "tomorrow"

        errors = self.assert_invalid(self.client.post(SESSIONS, data))

        self.assert_messages(errors["time_slots"])

    def test_create_nests_a_slot_error_under_its_index(self):
        start = ist(4, 7)
        bad = {"start": start.isoformat(), "end": (start - timedelta(hours=1)).isoformat()}
        bad["capacity"] = 10

        response = self.client.post(SESSIONS, self.body(slot_body(ist(3, 7)), bad))

        errors = self.assert_invalid(response)
        self.assertEqual(
            set(response.json()), {"type", "title", "status", "code", "detail", "errors"}
        )
        self.assert_slot_errors(errors, [set(), {"end"}])
        self.assertFalse(Session.objects.exists())

    def test_create_lists_an_empty_error_entry_for_each_valid_slot(self):
        start = ist(3, 7)
        bad = {"start": start.isoformat(), "end": start.isoformat(), "capacity": 10}

        response = self.client.post(
            SESSIONS, self.body(bad, slot_body(ist(4, 7)), slot_body(ist(5, 7)))
        )

        errors = self.assert_invalid(response)
        self.assertEqual(errors["time_slots"][1:], [{}, {}])
        self.assert_slot_errors(errors, [{"end"}, set(), set()])

    def test_create_ignores_an_instructor_given_in_the_body(self):
        other = InstructorFactory()

        response = self.client.post(SESSIONS, {**self.body(), "instructor": other.pk})

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        self.assertEqual(response.json()["instructor"]["id"], self.instructor.pk)
        self.assertFalse(Session.objects.filter(instructor=other).exists())

    def test_create_refuses_a_slot_that_ends_when_it_starts(self):
        start = ist(4, 7)
        same = {"start": start.isoformat(), "end": start.isoformat(), "capacity": 10}

        errors = self.assert_invalid(self.client.post(SESSIONS, self.body(same)))

        self.assert_slot_errors(errors, [{"end"}])

    def test_create_refuses_a_slot_that_starts_in_the_past(self):
        past = now() - timedelta(hours=3)

        errors = self.assert_invalid(
            self.client.post(SESSIONS, self.body(slot_body(ist(3, 7)), slot_body(past)))
        )

        self.assert_slot_errors(errors, [set(), {"start"}])
        self.assertFalse(Session.objects.exists())

    def test_create_refuses_a_capacity_outside_1_to_500(self):
        for capacity in [0, -1, 501]:
            with self.subTest(capacity=capacity):
                response = self.client.post(
                    SESSIONS, self.body(slot_body(ist(3, 7), capacity=capacity))
                )

                self.assert_slot_errors(self.assert_invalid(response), [{"capacity"}])
        self.assertFalse(Session.objects.exists())

    def test_create_accepts_capacities_1_and_500(self):
        response = self.client.post(
            SESSIONS,
            self.body(slot_body(ist(3, 7), capacity=1), slot_body(ist(4, 7), capacity=500)),
        )

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        self.assertEqual([s["capacity"] for s in response.json()["time_slots"]], [1, 500])

    def test_create_reports_each_missing_slot_field(self):
        errors = self.assert_invalid(
            self.client.post(SESSIONS, self.body({"start": ist(3, 7).isoformat()}))
        )

        self.assert_slot_errors(errors, [{"end", "capacity"}])

    def test_create_refuses_slots_of_the_request_that_overlap(self):
        response = self.client.post(
            SESSIONS,
            self.body(slot_body(ist(3, 7), hours=2), slot_body(ist(5, 7)), slot_body(ist(3, 8))),
        )

        self.assert_slot_errors(self.assert_invalid(response), [set(), set(), {"start"}])
        self.assertFalse(Session.objects.exists())

    def test_create_refuses_a_slot_that_overlaps_the_instructors_other_session(self):
        other = TimeSlotFactory(session__instructor=self.instructor, start=ist(3, 7))
        before = db_state()

        response = self.client.post(
            SESSIONS, self.body(slot_body(ist(5, 7)), slot_body(other.start, hours=0.5))
        )

        self.assert_slot_errors(self.assert_invalid(response), [set(), {"start"}])
        self.assertEqual(db_state(), before)

    def test_create_allows_a_slot_at_the_time_of_another_instructors_slot(self):
        TimeSlotFactory(start=ist(3, 7))

        response = self.client.post(SESSIONS, self.body(slot_body(ist(3, 7))))

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)

    def test_create_allows_a_slot_at_the_time_of_a_cancelled_slot(self):
        cancelled = TimeSlotFactory(session__instructor=self.instructor, start=ist(3, 7))
        cancel_slot(cancelled)

        response = self.client.post(SESSIONS, self.body(slot_body(ist(3, 7))))

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)

    def test_create_refuses_a_body_that_is_not_json(self):
        response = self.client.post(SESSIONS, "{not json", content_type="application/json")

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "parse_error")
        self.assertFalse(Session.objects.exists())

    def test_create_alias_answers_only_post(self):
        response = self.client.get(CREATE)

        assert_problem(self, response, status.HTTP_405_METHOD_NOT_ALLOWED, "method_not_allowed")
