"""The session endpoints of API.md section 3, through HTTP."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.test import override_settings
from django.utils.timezone import now
from rest_framework import status
from rest_framework.test import APITestCase

from accounts.tests.factories import ClientFactory, InstructorFactory
from sessions_app import services
from sessions_app.models import Session, TimeSlot
from sessions_app.tests.factories import SessionFactory, TimeSlotFactory
from studio.testing import (
    CREATE,
    INSTRUCTOR_LIST,
    IST,
    NEW_YORK,
    OWNER_SLOT_KEYS,
    PAGE_KEYS,
    PUBLIC,
    SESSION_KEYS,
    SESSIONS,
    SLOT_BOOKING_KEYS,
    SLOT_KEYS,
    SessionApiTestCase,
    assert_problem,
    book,
    book_and_cancel,
    db_state,
    delete_url,
    detail_url,
    hours_from_now,
    ist,
    listed,
    move_into_the_past,
    public_url,
    sign_in,
    slot_body,
    studio_today,
    update_url,
)


def offset_of(zone: ZoneInfo, instant: datetime) -> str:
    """The `+HH:MM` suffix ISO 8601 gives `instant` in `zone`."""
    return instant.astimezone(zone).isoformat()[-6:]


def next_offset_change(zone: ZoneInfo, after: datetime, *, forward: bool) -> datetime:
    """The first instant after `after` at which `zone` moves its clocks
    forward (or back); they change on the hour in UTC in the zones used here."""
    instant = after.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    previous = instant.astimezone(zone).utcoffset()
    for _ in range(24 * 400):
        instant += timedelta(hours=1)
        offset = instant.astimezone(zone).utcoffset()
        if offset != previous and (offset > previous) == forward:
            return instant
        previous = offset
    raise AssertionError(f"{zone.key} changes no clocks in the next 400 days")


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
        services.time_slot_cancel(time_slot=cancelled)

        response = self.client.post(SESSIONS, self.body(slot_body(ist(3, 7))))

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)

    def test_create_refuses_a_body_that_is_not_json(self):
        response = self.client.post(SESSIONS, "{not json", content_type="application/json")

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "parse_error")
        self.assertFalse(Session.objects.exists())

    def test_create_alias_answers_only_post(self):
        response = self.client.get(CREATE)

        assert_problem(self, response, status.HTTP_405_METHOD_NOT_ALLOWED, "method_not_allowed")


class SessionTimeInputTests(SessionApiTestCase):
    """Naive input is studio time; input with an offset is that instant."""

    def setUp(self):
        super().setUp()
        self.instructor = InstructorFactory(timezone="America/New_York")
        sign_in(self.client, self.instructor)

    def create(self, start: str, end: str, url: str = SESSIONS):
        body = {
            "title": "Yoga",
            "category": "yoga",
            "time_slots": [{"start": start, "end": end, "capacity": 5}],
        }
        response = self.client.post(url, body)
        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        return response

    def test_naive_input_is_read_as_studio_time_whatever_the_viewers_zone(self):
        day = (studio_today() + timedelta(days=5)).isoformat()

        response = self.create(f"{day}T07:00", f"{day}T08:00", url=SESSIONS + "?tz=Europe/Paris")

        slot = TimeSlot.objects.get()
        self.assertEqual(slot.start, datetime.fromisoformat(f"{day}T07:00").replace(tzinfo=IST))
        self.assertEqual(slot.end - slot.start, timedelta(hours=1))
        shown = response.json()["time_slots"][0]
        self.assertEqual(shown["timezone"], "Europe/Paris")
        self.assertEqual(datetime.fromisoformat(shown["start"]), slot.start)

    def test_naive_input_renders_with_the_studio_offset(self):
        day = (studio_today() + timedelta(days=5)).isoformat()

        response = self.create(f"{day}T07:00", f"{day}T08:00", url=SESSIONS + "?tz=Asia/Kolkata")

        shown = response.json()["time_slots"][0]
        self.assertEqual(shown["start"], f"{day}T07:00:00+05:30")
        self.assertEqual(shown["end"], f"{day}T08:00:00+05:30")

    def test_input_with_an_offset_is_kept_as_that_instant(self):
        day = (studio_today() + timedelta(days=5)).isoformat()

        response = self.create(
            f"{day}T07:00:00+00:00", f"{day}T08:00:00Z", url=SESSIONS + "?tz=Asia/Kolkata"
        )

        slot = TimeSlot.objects.get()
        self.assertEqual(slot.start, datetime.fromisoformat(f"{day}T07:00:00+00:00"))
        self.assertEqual(slot.end, datetime.fromisoformat(f"{day}T08:00:00+00:00"))
        shown = response.json()["time_slots"][0]
        self.assertEqual(shown["start"], f"{day}T12:30:00+05:30")
        self.assertEqual(shown["end"], f"{day}T13:30:00+05:30")

    def test_input_with_a_new_york_offset_shows_in_the_instructors_profile_zone(self):
        day = (studio_today() + timedelta(days=5)).isoformat()
        start = datetime.fromisoformat(f"{day}T09:15:00").replace(tzinfo=NEW_YORK)
        end = start + timedelta(hours=1)

        response = self.create(start.isoformat(), end.isoformat())

        shown = response.json()["time_slots"][0]
        self.assertEqual(shown["timezone"], "America/New_York")
        self.assertEqual(shown["start"], start.isoformat())
        self.assertTrue(shown["start"].startswith(f"{day}T09:15:00"))
        self.assertEqual(TimeSlot.objects.get().start, start)

    @override_settings(TIME_ZONE="America/New_York")
    def test_naive_input_in_a_skipped_studio_hour_is_refused(self):
        change = next_offset_change(NEW_YORK, now() + timedelta(days=1), forward=True)
        day = change.astimezone(NEW_YORK).date().isoformat()

        response = self.client.post(
            SESSIONS,
            {
                "title": "Yoga",
                "category": "yoga",
                "time_slots": [{"start": f"{day}T02:30", "end": f"{day}T04:00", "capacity": 5}],
            },
        )

        self.assert_slot_errors(self.assert_invalid(response), [{"start"}])
        self.assertFalse(Session.objects.exists())

    @override_settings(TIME_ZONE="America/New_York")
    def test_naive_input_in_a_repeated_studio_hour_is_refused(self):
        change = next_offset_change(NEW_YORK, now() + timedelta(days=1), forward=False)
        day = change.astimezone(NEW_YORK).date().isoformat()

        response = self.client.post(
            SESSIONS,
            {
                "title": "Yoga",
                "category": "yoga",
                "time_slots": [{"start": f"{day}T00:30", "end": f"{day}T01:30", "capacity": 5}],
            },
        )

        self.assert_slot_errors(self.assert_invalid(response), [{"end"}])
        self.assertFalse(Session.objects.exists())


class SessionUpdateViewTests(SessionApiTestCase):
    def setUp(self):
        super().setUp()
        self.instructor = InstructorFactory()
        self.session = SessionFactory(
            instructor=self.instructor, title="Morning Yoga", description="Hatha"
        )
        self.first = TimeSlotFactory(session=self.session, start=ist(3, 7))
        self.second = TimeSlotFactory(session=self.session, start=ist(4, 7))
        sign_in(self.client, self.instructor)

    def assert_refused(self, response, status_code: int, code: str, before: dict) -> dict:
        body = assert_problem(self, response, status_code, code)
        self.assertEqual(db_state(), before)
        return body

    def test_put_on_both_paths_replaces_the_fields_and_returns_200(self):
        for index, url in enumerate([update_url(self.session.pk), detail_url(self.session.pk)]):
            with self.subTest(url=url):
                response = self.client.put(
                    url, {"title": f"Evening Flow {index}", "category": "pilates"}
                )

                self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
                body = response.json()
                self.assertEqual(set(body), SESSION_KEYS)
                self.assertEqual(
                    (body["title"], body["category"]), (f"Evening Flow {index}", "pilates")
                )
                self.assertEqual(len(body["time_slots"]), 2)
                self.assertEqual(set(body["time_slots"][0]), SLOT_KEYS)
                self.assertEqual(Session.objects.get().title, f"Evening Flow {index}")

    def test_patch_on_both_paths_changes_only_the_fields_given(self):
        for index, url in enumerate([update_url(self.session.pk), detail_url(self.session.pk)]):
            with self.subTest(url=url):
                response = self.client.patch(url, {"description": f"Slow flow {index}"})

                self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
                session = Session.objects.get()
                self.assertEqual(
                    (session.title, session.description, session.category),
                    ("Morning Yoga", f"Slow flow {index}", "yoga"),
                )
                self.assertEqual(session.time_slots.count(), 2)

    def test_put_without_a_description_clears_it(self):
        response = self.client.put(
            detail_url(self.session.pk), {"title": "Morning Yoga", "category": "yoga"}
        )

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        self.assertEqual(Session.objects.get().description, "")

    def test_patch_without_a_description_keeps_it(self):
        response = self.client.patch(detail_url(self.session.pk), {"title": "Dawn Yoga"})

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        self.assertEqual(
            Session.objects.values_list("title", "description").get(), ("Dawn Yoga", "Hatha")
        )

    def test_update_ignores_an_instructor_given_in_the_body(self):
        other = InstructorFactory()

        response = self.client.patch(detail_url(self.session.pk), {"instructor": other.pk})

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        self.assertEqual(Session.objects.get().instructor, self.instructor)

    def test_put_requires_title_and_category(self):
        for url in [update_url(self.session.pk), detail_url(self.session.pk)]:
            with self.subTest(url=url):
                before = db_state()

                response = self.client.put(url, {"description": "Only this"})

                errors = self.assert_invalid(response)
                self.assertEqual(set(errors), {"title", "category"})
                self.assertEqual(db_state(), before)

    def test_patch_refuses_a_blank_title_and_an_unknown_category(self):
        before = db_state()

        errors = self.assert_invalid(
            self.client.patch(detail_url(self.session.pk), {"title": "", "category": "karate"})
        )

        self.assertEqual(set(errors), {"title", "category"})
        self.assertEqual(db_state(), before)

    def test_time_slots_is_the_full_list_changing_adding_and_deleting(self):
        added = ist(6, 18)

        response = self.client.patch(
            update_url(self.session.pk),
            {"time_slots": [listed(self.second, capacity=30), slot_body(added, capacity=4)]},
        )

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        shown = response.json()["time_slots"]
        self.assertEqual(
            [s["start"] for s in shown],
            [self.second.start.astimezone(IST).isoformat(), added.isoformat()],
        )
        self.assertEqual(shown[0]["id"], self.second.pk)
        self.assertEqual([s["capacity"] for s in shown], [30, 4])
        self.assertFalse(TimeSlot.objects.filter(pk=self.first.pk).exists())
        self.assertEqual(
            list(self.session.time_slots.order_by("start").values_list("capacity", flat=True)),
            [30, 4],
        )

    def test_put_with_time_slots_replaces_them_too(self):
        response = self.client.put(
            detail_url(self.session.pk),
            {
                "title": "Morning Yoga",
                "category": "yoga",
                "time_slots": [listed(self.first, capacity=3)],
            },
        )

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        self.assertEqual([s["id"] for s in response.json()["time_slots"]], [self.first.pk])

    def test_patch_item_with_an_id_must_give_the_whole_slot(self):
        before = db_state()

        response = self.client.patch(
            detail_url(self.session.pk),
            {"time_slots": [{"id": self.first.pk, "capacity": 3}, listed(self.second)]},
        )

        errors = self.assert_invalid(response)
        self.assert_slot_errors(errors, [{"start", "end"}, set()])
        self.assertEqual(db_state(), before)

    def test_update_refuses_an_unknown_slot_id(self):
        before = db_state()

        response = self.client.patch(
            detail_url(self.session.pk),
            {
                "title": "Renamed",
                "time_slots": [listed(self.first), listed(self.second, id=999999)],
            },
        )

        self.assert_slot_errors(self.assert_invalid(response), [set(), {"id"}])
        self.assertEqual(db_state(), before)

    def test_update_refuses_a_slot_listed_twice(self):
        before = db_state()

        response = self.client.patch(
            detail_url(self.session.pk),
            {"time_slots": [listed(self.first), listed(self.first, capacity=4)]},
        )

        self.assert_slot_errors(self.assert_invalid(response), [set(), {"id"}])
        self.assertEqual(db_state(), before)

    def test_update_refuses_an_empty_slot_list(self):
        before = db_state()

        errors = self.assert_invalid(
            self.client.patch(detail_url(self.session.pk), {"time_slots": []})
        )

        self.assert_messages(errors["time_slots"])
        self.assertEqual(db_state(), before)

    def test_update_nests_errors_per_slot_and_saves_nothing(self):
        before = db_state()
        end_before_start = listed(
            self.second, end=(self.second.start - timedelta(hours=1)).isoformat()
        )

        response = self.client.patch(
            update_url(self.session.pk),
            {"title": "Renamed", "time_slots": [listed(self.first, capacity=2), end_before_start]},
        )

        errors = self.assert_invalid(response)
        self.assertEqual(set(errors), {"time_slots"})
        self.assertEqual(errors["time_slots"][0], {})
        self.assertEqual(set(errors["time_slots"][1]), {"end"})
        self.assert_messages(errors["time_slots"][1]["end"])
        self.assertEqual(db_state(), before)

    def test_update_refuses_an_overlap_with_the_instructors_other_session(self):
        other = TimeSlotFactory(session__instructor=self.instructor, start=ist(8, 7))
        before = db_state()

        response = self.client.patch(
            detail_url(self.session.pk),
            {"title": "Renamed", "time_slots": [listed(self.first), slot_body(other.start)]},
        )

        self.assert_slot_errors(self.assert_invalid(response), [set(), {"start"}])
        self.assertEqual(db_state(), before)

    def test_update_refuses_to_delete_a_slot_holding_a_booking_with_409(self):
        book_and_cancel(self.first)
        before = db_state()

        response = self.client.patch(
            update_url(self.session.pk),
            {"title": "Renamed", "time_slots": [listed(self.second), slot_body(ist(9, 7))]},
        )

        self.assert_refused(response, status.HTTP_409_CONFLICT, "has_bookings", before)

    def test_update_refuses_a_capacity_below_the_confirmed_bookings_with_409(self):
        book(self.first)
        book(self.first)
        before = db_state()

        response = self.client.put(
            detail_url(self.session.pk),
            {
                "title": "Renamed",
                "category": "hiit",
                "time_slots": [listed(self.first, capacity=1), listed(self.second)],
            },
        )

        self.assert_refused(response, status.HTTP_409_CONFLICT, "capacity_below_booked", before)

    def test_update_keeps_an_unchanged_past_slot_in_the_list(self):
        book(self.first)
        move_into_the_past(self.first)

        response = self.client.patch(
            detail_url(self.session.pk),
            {"time_slots": [listed(self.first), listed(self.second, capacity=15)]},
        )

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        statuses = {s["id"]: s["status"] for s in response.json()["time_slots"]}
        self.assertEqual(statuses, {self.first.pk: "past", self.second.pk: "open"})

    def test_update_refuses_adding_a_slot_in_the_past(self):
        before = db_state()
        past = now() - timedelta(days=1)

        response = self.client.patch(
            detail_url(self.session.pk),
            {"time_slots": [listed(self.first), slot_body(past)]},
        )

        self.assert_slot_errors(self.assert_invalid(response), [set(), {"start"}])
        self.assertEqual(db_state(), before)

    def test_update_of_an_unknown_session_is_404(self):
        response = self.client.patch(detail_url(999999), {"title": "Nobody's"})

        assert_problem(self, response, status.HTTP_404_NOT_FOUND, "not_found")

    def test_update_with_an_unknown_timezone_is_refused_before_any_write(self):
        before = db_state()

        response = self.client.patch(
            detail_url(self.session.pk) + "?tz=Mars/Base", {"title": "Renamed"}
        )

        self.assert_refused(response, status.HTTP_400_BAD_REQUEST, "invalid_timezone", before)


class SessionDeleteViewTests(SessionApiTestCase):
    def setUp(self):
        super().setUp()
        self.instructor = InstructorFactory()
        sign_in(self.client, self.instructor)

    def test_delete_on_both_paths_returns_204_and_removes_the_session_and_slots(self):
        for url_of in [delete_url, detail_url]:
            with self.subTest(url=url_of(0)):
                slot = TimeSlotFactory(session__instructor=self.instructor)

                response = self.client.delete(url_of(slot.session_id))

                self.assertEqual(response.status_code, status.HTTP_204_NO_CONTENT)
                self.assertEqual(response.content, b"")
                self.assertFalse(Session.objects.filter(pk=slot.session_id).exists())
                self.assertFalse(TimeSlot.objects.filter(pk=slot.pk).exists())

    def test_delete_is_refused_with_409_while_a_slot_holds_a_booking(self):
        cases = {
            "confirmed": book,
            "cancelled": book_and_cancel,
            "past": lambda slot: (book(slot), move_into_the_past(slot)),
            "slot cancelled": lambda slot: (book(slot), services.time_slot_cancel(time_slot=slot)),
        }
        for name, make_booking in cases.items():
            for url_of in [delete_url, detail_url]:
                with self.subTest(booking=name, url=url_of(0)):
                    slot = TimeSlotFactory(session__instructor=self.instructor)
                    make_booking(slot)
                    before = db_state()

                    response = self.client.delete(url_of(slot.session_id))

                    assert_problem(self, response, status.HTTP_409_CONFLICT, "has_bookings")
                    self.assertEqual(db_state(), before)

    def test_delete_of_an_unknown_session_is_404(self):
        for url in [delete_url(999999), detail_url(999999)]:
            with self.subTest(url=url):
                assert_problem(
                    self, self.client.delete(url), status.HTTP_404_NOT_FOUND, "not_found"
                )

    def test_delete_alias_answers_only_delete(self):
        slot = TimeSlotFactory(session__instructor=self.instructor)

        response = self.client.post(delete_url(slot.session_id))

        assert_problem(self, response, status.HTTP_405_METHOD_NOT_ALLOWED, "method_not_allowed")
        self.assertTrue(Session.objects.filter(pk=slot.session_id).exists())


class InstructorListViewTests(SessionApiTestCase):
    def setUp(self):
        super().setUp()
        self.instructor = InstructorFactory()
        sign_in(self.client, self.instructor)

    def test_both_paths_list_only_the_instructors_own_sessions_past_ones_included(self):
        upcoming = TimeSlotFactory(session__instructor=self.instructor).session
        past_slot = TimeSlotFactory(session__instructor=self.instructor)
        move_into_the_past(past_slot)
        TimeSlotFactory()  # another instructor's
        for url in [INSTRUCTOR_LIST, SESSIONS]:
            with self.subTest(url=url):
                response = self.client.get(url)

                self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
                body = response.json()
                self.assertEqual(set(body), PAGE_KEYS)
                self.assertEqual(body["count"], 2)
                self.assertEqual(
                    {s["id"] for s in body["results"]}, {upcoming.pk, past_slot.session_id}
                )
                for session in body["results"]:
                    self.assertEqual(set(session), SESSION_KEYS)
                    self.assertEqual(set(session["time_slots"][0]), SLOT_KEYS)

    def test_list_shows_every_slot_with_its_status(self):
        session = SessionFactory(instructor=self.instructor)
        open_slot = TimeSlotFactory(session=session, start=ist(3, 7), capacity=3)
        full_slot = TimeSlotFactory(session=session, start=ist(4, 7), capacity=2)
        cancelled_slot = TimeSlotFactory(session=session, start=ist(5, 7))
        past_slot = TimeSlotFactory(session=session, start=ist(6, 7), capacity=1)
        book(open_slot)
        book(full_slot)
        book(full_slot)
        book(cancelled_slot)
        services.time_slot_cancel(time_slot=cancelled_slot)
        book(past_slot)
        move_into_the_past(past_slot)

        response = self.client.get(SESSIONS)

        slots = {s["id"]: s for s in response.json()["results"][0]["time_slots"]}
        values = {
            pk: (s["capacity"], s["booked"], s["available"], s["is_full"], s["status"])
            for pk, s in slots.items()
        }
        self.assertEqual(
            values,
            {
                open_slot.pk: (3, 1, 2, False, "open"),
                full_slot.pk: (2, 2, 0, True, "full"),
                cancelled_slot.pk: (10, 0, 10, False, "cancelled"),
                past_slot.pk: (1, 1, 0, True, "past"),
            },
        )
        self.assertEqual(list(slots), [past_slot.pk, open_slot.pk, full_slot.pk, cancelled_slot.pk])

    def test_list_shows_no_bookings(self):
        slot = TimeSlotFactory(session__instructor=self.instructor)
        book(slot, ClientFactory(email="hidden@example.com"))

        response = self.client.get(SESSIONS)

        self.assertEqual(set(response.json()["results"][0]["time_slots"][0]), SLOT_KEYS)
        self.assertNotIn("hidden@example.com", response.content.decode())

    def test_list_is_paginated(self):
        for _ in range(3):
            TimeSlotFactory(session__instructor=self.instructor)

        first = self.client.get(SESSIONS, {"page_size": 2}).json()
        second = self.client.get(SESSIONS, {"page_size": 2, "page": 2}).json()

        self.assertEqual((first["count"], len(first["results"])), (3, 2))
        self.assertIsNone(first["previous"])
        self.assertIn("page=2", first["next"])
        self.assertEqual((second["count"], len(second["results"])), (3, 1))
        self.assertIsNone(second["next"])
        self.assertIsNotNone(second["previous"])
        ids = [s["id"] for s in first["results"] + second["results"]]
        self.assertEqual(len(set(ids)), 3)

    def test_list_page_past_the_end_is_404(self):
        TimeSlotFactory(session__instructor=self.instructor)

        response = self.client.get(SESSIONS, {"page": 5})

        assert_problem(self, response, status.HTTP_404_NOT_FOUND, "not_found")


class OwnerDetailViewTests(SessionApiTestCase):
    def setUp(self):
        super().setUp()
        self.instructor = InstructorFactory()
        self.session = SessionFactory(instructor=self.instructor, title="Morning Yoga")
        self.slot = TimeSlotFactory(session=self.session, start=ist(3, 7))
        self.empty_slot = TimeSlotFactory(session=self.session, start=ist(4, 7))
        sign_in(self.client, self.instructor)

    def test_owner_detail_shows_each_slot_with_its_bookings_and_clients(self):
        ana = ClientFactory(name="Ana", email="ana@example.com")
        ben = ClientFactory(name="Ben", email="ben@example.com")
        confirmed = book(self.slot, ana)
        cancelled = book_and_cancel(self.slot, ben)

        response = self.client.get(detail_url(self.session.pk))

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        body = response.json()
        self.assertEqual(set(body), SESSION_KEYS)
        first, second = body["time_slots"]
        self.assertEqual(set(first), OWNER_SLOT_KEYS)
        self.assertEqual((first["id"], first["booked"]), (self.slot.pk, 1))
        self.assertEqual(second["bookings"], [])
        by_id = {b["id"]: b for b in first["bookings"]}
        self.assertEqual(set(by_id), {confirmed.pk, cancelled.pk})
        for booking in first["bookings"]:
            self.assertEqual(set(booking), SLOT_BOOKING_KEYS)
        self.assertEqual(
            by_id[confirmed.pk]["client"], {"id": ana.pk, "name": "Ana", "email": "ana@example.com"}
        )
        self.assertEqual(by_id[confirmed.pk]["status"], "confirmed")
        self.assertEqual(by_id[cancelled.pk]["status"], "cancelled")
        self.assertEqual(by_id[cancelled.pk]["client"]["email"], "ben@example.com")
        self.assertEqual(
            datetime.fromisoformat(by_id[confirmed.pk]["created_at"]), confirmed.created_at
        )

    def test_owner_detail_renders_booking_times_in_the_viewing_zone(self):
        book(self.slot)

        response = self.client.get(detail_url(self.session.pk), HTTP_X_TIMEZONE="Asia/Tokyo")

        booking = response.json()["time_slots"][0]["bookings"][0]
        self.assertTrue(booking["created_at"].endswith("+09:00"), booking["created_at"])

    def test_owner_detail_of_an_unknown_session_is_404(self):
        assert_problem(
            self, self.client.get(detail_url(999999)), status.HTTP_404_NOT_FOUND, "not_found"
        )


class PublicListViewTests(SessionApiTestCase):
    def setUp(self):
        super().setUp()
        sign_in(self.client, None)

    def get(self, **params):
        response = self.client.get(PUBLIC, params)
        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        return response.json()

    def ids(self, **params) -> list[int]:
        return [s["id"] for s in self.get(**params)["results"]]

    def test_public_list_shows_sessions_with_an_upcoming_slot_and_only_those_slots(self):
        session = SessionFactory()
        upcoming = TimeSlotFactory(session=session, start=ist(3, 7))
        past = TimeSlotFactory(session=session, start=ist(2, 7))
        move_into_the_past(past)
        cancelled = TimeSlotFactory(session=session, start=ist(4, 7))
        services.time_slot_cancel(time_slot=cancelled)
        only_past = TimeSlotFactory(start=ist(2, 9))
        move_into_the_past(only_past)
        only_cancelled = TimeSlotFactory(start=ist(5, 7))
        services.time_slot_cancel(time_slot=only_cancelled)
        SessionFactory()  # no slot at all

        body = self.get()

        self.assertEqual(set(body), PAGE_KEYS)
        self.assertEqual(body["count"], 1)
        [shown] = body["results"]
        self.assertEqual(set(shown), SESSION_KEYS)
        self.assertEqual(shown["id"], session.pk)
        self.assertEqual([s["id"] for s in shown["time_slots"]], [upcoming.pk])
        self.assertEqual(set(shown["time_slots"][0]), SLOT_KEYS)

    def test_public_list_orders_sessions_by_their_next_slot_and_slots_soonest_first(self):
        later = SessionFactory()
        TimeSlotFactory(session=later, start=ist(5, 7))
        sooner = SessionFactory()
        TimeSlotFactory(session=sooner, start=ist(6, 7))
        TimeSlotFactory(session=sooner, start=ist(3, 7))
        middle = SessionFactory()
        TimeSlotFactory(session=middle, start=ist(4, 7))

        body = self.get()

        self.assertEqual([s["id"] for s in body["results"]], [sooner.pk, middle.pk, later.pk])
        starts = [s["start"] for s in body["results"][0]["time_slots"]]
        self.assertEqual(starts, [ist(3, 7).isoformat(), ist(6, 7).isoformat()])

    def test_public_list_is_ordered_by_the_next_upcoming_slot_not_a_past_one(self):
        with_past = SessionFactory()
        move_into_the_past(TimeSlotFactory(session=with_past))
        TimeSlotFactory(session=with_past, start=ist(5, 7))
        other = SessionFactory()
        TimeSlotFactory(session=other, start=ist(3, 7))

        self.assertEqual(self.ids(), [other.pk, with_past.pk])

    def test_public_list_shows_a_full_slot_as_full(self):
        slot = TimeSlotFactory(capacity=1)
        book(slot)

        shown = self.get()["results"][0]["time_slots"][0]

        self.assertEqual(
            (shown["booked"], shown["available"], shown["is_full"], shown["status"]),
            (1, 0, True, "full"),
        )

    def test_public_list_filters_by_category(self):
        yoga = TimeSlotFactory(session__category="yoga").session
        TimeSlotFactory(session__category="hiit")

        self.assertEqual(self.ids(category="yoga"), [yoga.pk])

    def test_public_list_filters_by_instructor(self):
        mine = TimeSlotFactory().session
        TimeSlotFactory()

        self.assertEqual(self.ids(instructor=mine.instructor_id), [mine.pk])

    def test_public_list_refuses_an_instructor_id_that_is_not_a_whole_number_in_range(self):
        TimeSlotFactory()
        for value in ["99999999999999999999", "-9.5e+174", "1.5", "0", "-3"]:
            with self.subTest(value=value):
                errors = self.assert_invalid(self.client.get(PUBLIC, {"instructor": value}))

                self.assertEqual(set(errors), {"instructor"})

    def test_public_list_with_the_largest_instructor_id_is_empty(self):
        TimeSlotFactory()

        self.assertEqual(self.ids(instructor=2**63 - 1), [])

    def test_public_list_searches_title_and_description_ignoring_case(self):
        by_title = TimeSlotFactory(session__title="Power Yoga", start=ist(3, 7)).session
        by_description = TimeSlotFactory(
            session__title="Stretch",
            session__description="gentle YOGA stretches",
            start=ist(4, 7),
        ).session
        TimeSlotFactory(session__title="Spin", session__description="bikes", start=ist(5, 7))

        self.assertEqual(self.ids(search="yoga"), [by_title.pk, by_description.pk])

    def test_public_list_available_true_shows_only_slots_with_a_seat(self):
        session = SessionFactory()
        full = TimeSlotFactory(session=session, start=ist(3, 7), capacity=1)
        free = TimeSlotFactory(session=session, start=ist(4, 7), capacity=1)
        book(full)
        only_full = TimeSlotFactory(start=ist(3, 9), capacity=1)
        book(only_full)

        body = self.get(available="true")

        self.assertEqual([s["id"] for s in body["results"]], [session.pk])
        self.assertEqual([s["id"] for s in body["results"][0]["time_slots"]], [free.pk])
        self.assertEqual(len(self.get()["results"]), 2)

    def test_public_list_date_filters_are_inclusive_days_of_the_studio_zone(self):
        session = SessionFactory()
        midnight = TimeSlotFactory(session=session, start=ist(3, 0))
        late = TimeSlotFactory(session=session, start=ist(3, 23, 30))
        TimeSlotFactory(session=session, start=ist(4, 7))
        TimeSlotFactory(session=session, start=ist(2, 7))
        day = (studio_today() + timedelta(days=3)).isoformat()

        body = self.get(date_from=day, date_to=day)

        self.assertEqual(
            [s["id"] for s in body["results"][0]["time_slots"]], [midnight.pk, late.pk]
        )

    def test_public_list_date_filters_narrow_the_slots_and_drop_sessions_without_any(self):
        session = SessionFactory()
        TimeSlotFactory(session=session, start=ist(3, 7))
        kept = TimeSlotFactory(session=session, start=ist(6, 7))
        TimeSlotFactory(start=ist(3, 9))
        day = (studio_today() + timedelta(days=5)).isoformat()

        body = self.get(date_from=day)

        self.assertEqual([s["id"] for s in body["results"]], [session.pk])
        self.assertEqual([s["id"] for s in body["results"][0]["time_slots"]], [kept.pk])
        self.assertEqual(self.get(date_to=day)["count"], 2)

    def test_public_list_date_filters_read_days_in_the_viewing_zone(self):
        # 07:00 in Pune is the evening before in New York.
        slot = TimeSlotFactory(start=ist(3, 7))
        ist_day = (studio_today() + timedelta(days=3)).isoformat()
        new_york_day = (studio_today() + timedelta(days=2)).isoformat()
        self.assertEqual(slot.start.astimezone(NEW_YORK).date().isoformat(), new_york_day)

        cases = [
            ({"date_from": ist_day, "date_to": ist_day}, [slot.session_id]),
            ({"date_from": new_york_day, "date_to": new_york_day}, []),
            (
                {"tz": "America/New_York", "date_from": new_york_day, "date_to": new_york_day},
                [slot.session_id],
            ),
            ({"tz": "America/New_York", "date_from": ist_day}, []),
            ({"tz": "America/New_York", "date_to": new_york_day}, [slot.session_id]),
        ]
        for params, expected in cases:
            with self.subTest(**params):
                self.assertEqual(self.ids(**params), expected)

    def test_public_list_date_filters_follow_the_x_timezone_header(self):
        slot = TimeSlotFactory(start=ist(3, 7))
        new_york_day = (studio_today() + timedelta(days=2)).isoformat()

        response = self.client.get(
            PUBLIC, {"date_to": new_york_day}, HTTP_X_TIMEZONE="America/New_York"
        )

        self.assertEqual([s["id"] for s in response.json()["results"]], [slot.session_id])

    def test_public_list_refuses_bad_filter_values(self):
        cases = {
            "category": "karate",
            "instructor": "priya",
            "date_from": "tomorrow",
            "date_to": "2027-02-30",
            "search": "y" * 101,
            "available": "maybe",
        }
        TimeSlotFactory()
        for name, value in cases.items():
            with self.subTest(name=name):
                errors = self.assert_invalid(self.client.get(PUBLIC, {name: value}))

                self.assertEqual(set(errors), {name})
                self.assert_messages(errors[name])

    def test_public_list_refuses_an_unknown_timezone(self):
        TimeSlotFactory()

        assert_problem(
            self,
            self.client.get(PUBLIC, {"tz": "Mars/Base"}),
            status.HTTP_400_BAD_REQUEST,
            "invalid_timezone",
        )
        assert_problem(
            self,
            self.client.get(PUBLIC, HTTP_X_TIMEZONE="Nowhere"),
            status.HTTP_400_BAD_REQUEST,
            "invalid_timezone",
        )

    def test_public_list_is_paginated_20_by_default(self):
        TimeSlotFactory.create_batch(21)

        body = self.get()

        self.assertEqual((body["count"], len(body["results"])), (21, 20))
        self.assertIn("page=2", body["next"])
        self.assertIsNone(body["previous"])
        second = self.get(page=2)
        self.assertEqual(len(second["results"]), 1)
        self.assertIsNone(second["next"])
        self.assertIsNotNone(second["previous"])

    def test_public_list_page_size_is_capped_at_100(self):
        instructor = InstructorFactory()
        sessions = Session.objects.bulk_create(
            Session(instructor=instructor, title=f"Class {n}", category="yoga") for n in range(101)
        )
        start = hours_from_now(48)
        TimeSlot.objects.bulk_create(
            TimeSlot(session=s, start=start, end=start + timedelta(hours=1), capacity=5)
            for s in sessions
        )

        body = self.get(page_size=1000)

        self.assertEqual((body["count"], len(body["results"])), (101, 100))
        self.assertIsNotNone(body["next"])
        self.assertEqual(len(self.get(page_size=5)["results"]), 5)

    def test_public_list_never_shows_bookings_or_client_data(self):
        slot = TimeSlotFactory(session__title="Morning Yoga")
        client = ClientFactory(name="Zelda Quixote", email="zelda.secret@example.com")
        book(slot, client)
        for viewer in [None, ClientFactory(), slot.session.instructor]:
            with self.subTest(viewer=viewer):
                sign_in(self.client, viewer)

                response = self.client.get(PUBLIC)

                self.assertEqual(response.status_code, status.HTTP_200_OK)
                text = response.content.decode()
                self.assertIn("Morning Yoga", text)
                self.assertNotIn("zelda.secret@example.com", text)
                self.assertNotIn("Zelda Quixote", text)
                self.assertNotIn("bookings", text)
                self.assertEqual(response.json()["results"][0]["time_slots"][0]["booked"], 1)


class PublicDetailViewTests(SessionApiTestCase):
    def setUp(self):
        super().setUp()
        sign_in(self.client, None)

    def test_public_detail_shows_the_session_with_its_upcoming_slots_only(self):
        session = SessionFactory()
        past = TimeSlotFactory(session=session)
        move_into_the_past(past)
        cancelled = TimeSlotFactory(session=session, start=ist(3, 7))
        services.time_slot_cancel(time_slot=cancelled)
        later = TimeSlotFactory(session=session, start=ist(5, 7))
        sooner = TimeSlotFactory(session=session, start=ist(4, 7))

        response = self.client.get(public_url(session.pk))

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        body = response.json()
        self.assertEqual(set(body), SESSION_KEYS)
        self.assertEqual([s["id"] for s in body["time_slots"]], [sooner.pk, later.pk])
        self.assertEqual(set(body["time_slots"][0]), SLOT_KEYS)

    def test_public_detail_is_404_without_an_upcoming_slot(self):
        past = TimeSlotFactory()
        move_into_the_past(past)
        cancelled = TimeSlotFactory()
        services.time_slot_cancel(time_slot=cancelled)
        empty = SessionFactory()
        for pk in [past.session_id, cancelled.session_id, empty.pk, 999999]:
            with self.subTest(pk=pk):
                assert_problem(
                    self, self.client.get(public_url(pk)), status.HTTP_404_NOT_FOUND, "not_found"
                )

    def test_public_detail_never_shows_bookings_or_client_data(self):
        slot = TimeSlotFactory()
        book(slot, ClientFactory(name="Zelda Quixote", email="zelda.secret@example.com"))
        for viewer in [None, slot.session.instructor]:
            with self.subTest(viewer=viewer):
                sign_in(self.client, viewer)

                response = self.client.get(public_url(slot.session_id))

                self.assertEqual(response.status_code, status.HTTP_200_OK)
                text = response.content.decode()
                self.assertNotIn("zelda.secret@example.com", text)
                self.assertNotIn("Zelda Quixote", text)
                self.assertNotIn("bookings", text)

    def test_public_endpoints_answer_only_reads(self):
        slot = TimeSlotFactory()
        before = db_state()
        sign_in(self.client, slot.session.instructor)

        responses = [
            self.client.post(PUBLIC, {"title": "x"}),
            self.client.delete(public_url(slot.session_id)),
            self.client.patch(public_url(slot.session_id), {"title": "x"}),
        ]

        for response in responses:
            assert_problem(self, response, status.HTTP_405_METHOD_NOT_ALLOWED, "method_not_allowed")
        self.assertEqual(db_state(), before)


class ViewingZoneTests(SessionApiTestCase):
    """Times render in the viewing zone: tz, then X-Timezone, then the
    profile, then the studio zone; each slot names its zone."""

    def setUp(self):
        super().setUp()
        self.instructor = InstructorFactory(timezone="America/New_York")
        start = ist(10, 12)
        self.slot = TimeSlotFactory(
            session__instructor=self.instructor, start=start, end=start + timedelta(hours=1)
        )

    def shown_slot(self, url: str, **headers) -> dict:
        response = self.client.get(url, **headers)
        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        body = response.json()
        session = body["results"][0] if "results" in body else body
        return session["time_slots"][0]

    def assert_shown_in(self, slot: dict, zone_name: str) -> None:
        zone = ZoneInfo(zone_name)
        self.assertEqual(slot["timezone"], zone_name)
        self.assertEqual(slot["start"], self.slot.start.astimezone(zone).isoformat())
        self.assertEqual(slot["end"], self.slot.end.astimezone(zone).isoformat())
        self.assertTrue(slot["start"].endswith(offset_of(zone, self.slot.start)))
        self.assertEqual(datetime.fromisoformat(slot["start"]), self.slot.start)

    def test_times_default_to_the_studio_zone(self):
        slot = self.shown_slot(PUBLIC)

        self.assertEqual(slot["timezone"], "Asia/Kolkata")
        day = (studio_today() + timedelta(days=10)).isoformat()
        self.assertEqual(slot["start"], f"{day}T12:00:00+05:30")
        self.assertEqual(slot["end"], f"{day}T13:00:00+05:30")

    @override_settings(TIME_ZONE="Asia/Tokyo")
    def test_times_follow_the_studio_zone_setting(self):
        self.assert_shown_in(self.shown_slot(PUBLIC), "Asia/Tokyo")

    def test_times_follow_the_users_profile_zone(self):
        sign_in(self.client, self.instructor)

        for url in [
            PUBLIC,
            public_url(self.slot.session_id),
            SESSIONS,
            INSTRUCTOR_LIST,
            detail_url(self.slot.session_id),
        ]:
            with self.subTest(url=url):
                self.assert_shown_in(self.shown_slot(url), "America/New_York")

    def test_the_x_timezone_header_beats_the_profile(self):
        sign_in(self.client, self.instructor)

        slot = self.shown_slot(SESSIONS, HTTP_X_TIMEZONE="Asia/Dubai")

        self.assert_shown_in(slot, "Asia/Dubai")
        self.assertTrue(slot["start"].endswith("+04:00"))

    def test_the_tz_parameter_beats_the_header_and_the_profile(self):
        sign_in(self.client, self.instructor)

        slot = self.shown_slot(SESSIONS + "?tz=Asia/Tokyo", HTTP_X_TIMEZONE="Asia/Dubai")

        self.assert_shown_in(slot, "Asia/Tokyo")
        day = (studio_today() + timedelta(days=10)).isoformat()
        self.assertEqual(slot["start"], f"{day}T15:30:00+09:00")

    def test_anonymous_viewers_use_tz_and_the_header_too(self):
        self.assert_shown_in(self.shown_slot(PUBLIC + "?tz=Asia/Tokyo"), "Asia/Tokyo")
        self.assert_shown_in(self.shown_slot(PUBLIC, HTTP_X_TIMEZONE="Asia/Dubai"), "Asia/Dubai")

    def test_an_unknown_zone_is_refused_on_the_instructor_endpoints(self):
        sign_in(self.client, self.instructor)

        for url in [SESSIONS, INSTRUCTOR_LIST, detail_url(self.slot.session_id)]:
            with self.subTest(url=url):
                assert_problem(
                    self,
                    self.client.get(url, {"tz": "Europe/Atlantis"}),
                    status.HTTP_400_BAD_REQUEST,
                    "invalid_timezone",
                )

    def test_a_new_york_slot_across_a_daylight_saving_change_shows_both_offsets(self):
        for forward in [True, False]:
            with self.subTest(forward=forward):
                change = next_offset_change(NEW_YORK, now() + timedelta(days=1), forward=forward)
                slot = TimeSlotFactory(
                    start=change - timedelta(hours=1), end=change + timedelta(hours=1)
                )
                day = change.astimezone(NEW_YORK).date().isoformat()

                shown = self.client.get(
                    public_url(slot.session_id), {"tz": "America/New_York"}
                ).json()["time_slots"][0]

                if forward:  # 01:00 EST, then the clocks jump from 02:00 to 03:00 EDT
                    self.assertEqual(shown["start"], f"{day}T01:00:00-05:00")
                    self.assertEqual(shown["end"], f"{day}T04:00:00-04:00")
                else:  # 01:00 EDT, then the clocks fall back from 02:00 to 01:00 EST
                    self.assertEqual(shown["start"], f"{day}T01:00:00-04:00")
                    self.assertEqual(shown["end"], f"{day}T02:00:00-05:00")
                self.assertEqual(shown["timezone"], "America/New_York")
                in_ist = self.client.get(public_url(slot.session_id)).json()["time_slots"][0]
                self.assertTrue(in_ist["start"].endswith("+05:30"))
                self.assertTrue(in_ist["end"].endswith("+05:30"))


class SessionSchemaTests(APITestCase):
    def setUp(self):
        self.schema = self.client.get("/api/schema/?format=json").json()

    def test_schema_documents_the_conflicts_of_updating_and_deleting_a_session(self):
        paths = self.schema["paths"]
        operations = [
            paths["/api/sessions/{id}/"]["put"],
            paths["/api/sessions/{id}/"]["patch"],
            paths["/api/sessions/{id}/"]["delete"],
            paths["/api/sessions/{id}/update/"]["put"],
            paths["/api/sessions/{id}/update/"]["patch"],
            paths["/api/sessions/{id}/delete/"]["delete"],
        ]
        for operation in operations:
            with self.subTest(operation=operation["operationId"]):
                problem = operation["responses"]["409"]["content"]["application/json"]["schema"]
                self.assertTrue(problem["$ref"].endswith("/Problem"))

    def test_schema_documents_the_instructor_filter_as_an_id_in_range(self):
        parameters = self.schema["paths"]["/api/public/sessions/"]["get"]["parameters"]
        instructor = next(p for p in parameters if p["name"] == "instructor")

        self.assertEqual(
            instructor["schema"], {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
        )


class HugeIdTests(SessionApiTestCase):
    HUGE = 10**20

    def test_a_session_id_too_large_for_the_database_is_not_found(self):
        sign_in(self.client, InstructorFactory())
        for method, path in [
            ("get", f"{SESSIONS}{self.HUGE}/"),
            ("patch", f"{SESSIONS}{self.HUGE}/"),
            ("delete", f"{SESSIONS}{self.HUGE}/"),
            ("put", f"{SESSIONS}{self.HUGE}/update/"),
            ("delete", f"{SESSIONS}{self.HUGE}/delete/"),
            ("get", f"{PUBLIC}{self.HUGE}/"),
        ]:
            with self.subTest(method=method, path=path):
                assert_problem(self, getattr(self.client, method)(path), 404, "not_found")
