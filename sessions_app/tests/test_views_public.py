"""The public timetable: GET /api/public/sessions/ with its filters, and one public session."""

from datetime import timedelta

from rest_framework import status

from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings.tests.factories import book, cancel_slot, move_to_past
from core.timezones import studio_today
from sessions_app.models import Session, TimeSlot
from sessions_app.tests.factories import SessionFactory, TimeSlotFactory
from testing.api import (
    PAGE_KEYS,
    PUBLIC,
    SESSION_KEYS,
    SLOT_KEYS,
    SessionApiTestCase,
    public_url,
    sign_in,
)
from testing.problems import assert_problem
from testing.timetable import NEW_YORK, db_state, hours_from_now, ist


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
        move_to_past(past, ago=timedelta(hours=2))
        cancelled = TimeSlotFactory(session=session, start=ist(4, 7))
        cancel_slot(cancelled)
        only_past = TimeSlotFactory(start=ist(2, 9))
        move_to_past(only_past, ago=timedelta(hours=2))
        only_cancelled = TimeSlotFactory(start=ist(5, 7))
        cancel_slot(only_cancelled)
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
        move_to_past(TimeSlotFactory(session=with_past), ago=timedelta(hours=2))
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
        move_to_past(past, ago=timedelta(hours=2))
        cancelled = TimeSlotFactory(session=session, start=ist(3, 7))
        cancel_slot(cancelled)
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
        move_to_past(past, ago=timedelta(hours=2))
        cancelled = TimeSlotFactory()
        cancel_slot(cancelled)
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
