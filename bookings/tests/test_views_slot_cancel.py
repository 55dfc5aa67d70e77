"""The owning instructor cancels a slot: POST /api/sessions/{id}/time-slots/{slot_id}/cancel/."""

from django.contrib.contenttypes.models import ContentType
from rest_framework import status
from rest_framework.test import APITestCase

from accounts.models import User
from accounts.tests.factories import PASSWORD, ClientFactory, InstructorFactory
from bookings.models import BookingStatus
from bookings.tests.factories import add_slot, book, make_slot, move_to_past, wait
from core.models import ActionLogEntry
from sessions_app.models import TimeSlot
from testing.api import OWNER_SLOT_KEYS, SESSION_KEYS, sign_in
from testing.problems import assert_problem
from testing.timetable import db_state, hours_from_now


def cancel_url(session_id: int, slot_id: int) -> str:
    return f"/api/sessions/{session_id}/time-slots/{slot_id}/cancel/"


class SlotCancelViewTests(APITestCase):
    def setUp(self):
        self.owner = InstructorFactory()
        self.slot = make_slot(instructor=self.owner, capacity=1, start=hours_from_now(24))
        self.session = self.slot.session
        self.other_slot = add_slot(self.session, start=hours_from_now(48))
        self.seated = book(self.slot)
        self.waiting = wait(self.slot)
        self.kept = book(self.other_slot)
        sign_in(self.client, self.owner)

    def post(self, session_id=None, slot_id=None):
        return self.client.post(
            cancel_url(session_id or self.session.pk, slot_id or self.slot.pk), format="json"
        )

    def test_owner_cancels_a_slot_and_gets_the_session_as_its_owner_sees_it(self):
        response = self.post()

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        body = response.json()
        self.assertEqual(set(body), SESSION_KEYS)
        self.assertEqual(body["id"], self.session.pk)
        slots = {slot["id"]: slot for slot in body["time_slots"]}
        self.assertEqual(set(slots), {self.slot.pk, self.other_slot.pk})
        cancelled = slots[self.slot.pk]
        self.assertEqual(set(cancelled), OWNER_SLOT_KEYS)
        self.assertEqual(cancelled["status"], "cancelled")
        self.assertEqual((cancelled["booked"], cancelled["available"]), (0, 1))
        self.assertEqual(
            {(b["id"], b["status"]) for b in cancelled["bookings"]},
            {(self.seated.pk, "cancelled"), (self.waiting.pk, "cancelled")},
        )
        self.assertEqual(slots[self.other_slot.pk]["status"], "open")
        self.assertEqual(
            [(b["id"], b["status"]) for b in slots[self.other_slot.pk]["bookings"]],
            [(self.kept.pk, "confirmed")],
        )

    def test_cancelling_a_slot_cancels_its_confirmed_and_waitlisted_bookings_not_late(self):
        self.post()

        slot = TimeSlot.objects.get(pk=self.slot.pk)
        self.assertEqual((slot.is_cancelled, slot.booked, slot.waitlisted), (True, 0, 0))
        for booking in (self.seated, self.waiting):
            booking.refresh_from_db()
            self.assertEqual(booking.status, BookingStatus.CANCELLED)
            self.assertFalse(booking.late)
        self.kept.refresh_from_db()
        self.assertEqual(self.kept.status, BookingStatus.CONFIRMED)

    def test_cancelling_a_slot_is_recorded_in_the_instructors_name(self):
        self.post()

        entry = ActionLogEntry.objects.get(
            content_type=ContentType.objects.get_for_model(TimeSlot), object_id=self.slot.pk
        )
        self.assertEqual((entry.action, entry.actor_id), ("time_slot.cancelled", self.owner.pk))

    def test_a_cancelled_slot_takes_no_more_bookings(self):
        self.post()
        sign_in(self.client, ClientFactory())

        response = self.client.post("/api/bookings/", {"time_slot": self.slot.pk}, format="json")

        assert_problem(self, response, status.HTTP_409_CONFLICT, "slot_cancelled")

    def test_cancelling_again_is_a_no_op_200(self):
        self.post()
        before = db_state()

        response = self.post()

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        self.assertEqual(db_state(), before)
        [slot] = [slot for slot in response.json()["time_slots"] if slot["id"] == self.slot.pk]
        self.assertEqual(slot["status"], "cancelled")

    def test_a_slot_that_has_started_is_409_slot_expired_and_nothing_changes(self):
        move_to_past(self.slot)
        before = db_state()

        response = self.post()

        assert_problem(self, response, status.HTTP_409_CONFLICT, "slot_expired")
        self.assertEqual(db_state(), before)

    def test_unknown_session_is_404(self):
        response = self.post(session_id=self.session.pk + 1000)

        assert_problem(self, response, status.HTTP_404_NOT_FOUND, "not_found")

    def test_unknown_slot_is_404(self):
        response = self.post(slot_id=self.other_slot.pk + 1000)

        assert_problem(self, response, status.HTTP_404_NOT_FOUND, "not_found")

    def test_a_slot_of_another_session_is_404_and_stays_as_it_was(self):
        foreign = make_slot(start=hours_from_now(72))
        mine = make_slot(instructor=self.owner, start=hours_from_now(96))
        before = db_state()

        for session_id in (self.session.pk, mine.session_id):
            with self.subTest(session=session_id):
                response = self.post(session_id=session_id, slot_id=foreign.pk)

                assert_problem(self, response, status.HTTP_404_NOT_FOUND, "not_found")
        self.assertEqual(db_state(), before)

    def test_another_instructor_a_client_and_staff_get_403_and_nothing_changes(self):
        staff = User.objects.create_superuser(
            email="staff@example.com", password=PASSWORD, name="Staff"
        )
        before = db_state()
        for who in (InstructorFactory(), ClientFactory(), staff):
            with self.subTest(role=who.role, staff=who.is_staff):
                sign_in(self.client, who)

                response = self.post()

                assert_problem(self, response, status.HTTP_403_FORBIDDEN, "permission_denied")
        self.assertEqual(db_state(), before)

    def test_signed_out_is_401(self):
        sign_in(self.client, None)

        response = self.post()

        assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "not_authenticated")

    def test_get_is_405(self):
        response = self.client.get(cancel_url(self.session.pk, self.slot.pk))

        assert_problem(self, response, status.HTTP_405_METHOD_NOT_ALLOWED, "method_not_allowed")
