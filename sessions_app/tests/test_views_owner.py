"""The instructor's own sessions: the list and the detail with each slot's bookings."""

from datetime import datetime, timedelta

from rest_framework import status

from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings.tests.factories import book, book_and_cancel, cancel_slot, move_to_past
from sessions_app.tests.factories import SessionFactory, TimeSlotFactory
from testing.api import (
    INSTRUCTOR_LIST,
    OWNER_SLOT_KEYS,
    PAGE_KEYS,
    SESSION_KEYS,
    SESSIONS,
    SLOT_BOOKING_KEYS,
    SLOT_KEYS,
    SessionApiTestCase,
    detail_url,
    sign_in,
)
from testing.problems import assert_problem
from testing.timetable import ist


class InstructorListViewTests(SessionApiTestCase):
    def setUp(self):
        super().setUp()
        self.instructor = InstructorFactory()
        sign_in(self.client, self.instructor)

    def test_both_paths_list_only_the_instructors_own_sessions_past_ones_included(self):
        upcoming = TimeSlotFactory(session__instructor=self.instructor).session
        past_slot = TimeSlotFactory(session__instructor=self.instructor)
        move_to_past(past_slot, ago=timedelta(hours=2))
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
        cancel_slot(cancelled_slot)
        book(past_slot)
        move_to_past(past_slot, ago=timedelta(hours=2))

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
