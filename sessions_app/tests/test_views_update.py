"""Changing and deleting sessions through PUT, PATCH and DELETE (API.md section 3)."""

from datetime import timedelta

from django.utils.timezone import now
from rest_framework import status

from accounts.tests.factories import InstructorFactory
from bookings.tests.factories import book, book_and_cancel, cancel_slot, move_to_past
from sessions_app.models import Session, TimeSlot
from sessions_app.tests.factories import SessionFactory, TimeSlotFactory
from testing.api import (
    SESSION_KEYS,
    SLOT_KEYS,
    SessionApiTestCase,
    delete_url,
    detail_url,
    listed,
    sign_in,
    slot_body,
    update_url,
)
from testing.problems import assert_problem
from testing.timetable import IST, db_state, ist


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
        move_to_past(self.first, ago=timedelta(hours=2))

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
            "past": lambda slot: (book(slot), move_to_past(slot, ago=timedelta(hours=2))),
            "slot cancelled": lambda slot: (book(slot), cancel_slot(slot)),
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
