"""The owning instructor marks attendance:
POST /api/sessions/{id}/time-slots/{slot_id}/attendance/."""

from datetime import timedelta

from django.utils.timezone import now
from rest_framework import status
from rest_framework.test import APITestCase

from accounts.models import User
from accounts.tests.factories import PASSWORD, ClientFactory, InstructorFactory
from bookings.models import Booking
from bookings.tests.factories import add_slot, book, book_and_cancel, make_slot, wait
from sessions_app.models import TimeSlot
from testing.api import SLOT_BOOKING_KEYS, sign_in
from testing.problems import assert_problem
from testing.timetable import db_state


def attendance_url(session_id: int, slot_id: int) -> str:
    return f"/api/sessions/{session_id}/time-slots/{slot_id}/attendance/"


def start_in(slot: TimeSlot, delta: timedelta) -> TimeSlot:
    length = slot.end - slot.start
    start = now() + delta
    TimeSlot.objects.filter(pk=slot.pk).update(start=start, end=start + length)
    slot.refresh_from_db()
    return slot


class AttendanceViewTests(APITestCase):
    def setUp(self):
        self.owner = InstructorFactory()
        self.slot = make_slot(instructor=self.owner, start=now() + timedelta(days=1))
        self.session = self.slot.session
        self.booking = book(self.slot)
        start_in(self.slot, timedelta(minutes=10))
        sign_in(self.client, self.owner)

    def post(self, body=None, session_id=None, slot_id=None):
        body = body if body is not None else {"booking": self.booking.pk, "attendance": "attended"}
        url = attendance_url(session_id or self.session.pk, slot_id or self.slot.pk)
        return self.client.post(url, body, format="json")

    def assert_invalid(self, response, field: str) -> None:
        body = assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "invalid")
        self.assertEqual(set(body["errors"]), {field}, body)

    def test_owner_marks_a_booking_attended_and_gets_that_booking(self):
        response = self.post()

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        body = response.json()
        self.assertEqual((body["id"], body["status"]), (self.booking.pk, "confirmed"))
        self.assertEqual(body["time_slot"]["id"], self.slot.pk)
        self.assertEqual(body["session"]["id"], self.session.pk)
        self.assertEqual(Booking.objects.get(pk=self.booking.pk).attendance, "attended")

    def test_owner_changes_a_mark_to_no_show(self):
        self.post()

        response = self.post({"booking": self.booking.pk, "attendance": "no_show"})

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        self.assertEqual(Booking.objects.get(pk=self.booking.pk).attendance, "no_show")

    def test_the_owners_session_detail_shows_each_bookings_attendance(self):
        other = book(self.slot)
        self.post()

        response = self.client.get(f"/api/sessions/{self.session.pk}/")

        [slot] = response.json()["time_slots"]
        marks = {booking["id"]: booking["attendance"] for booking in slot["bookings"]}
        self.assertEqual(marks, {self.booking.pk: "attended", other.pk: None})
        for booking in slot["bookings"]:
            self.assertEqual(set(booking), SLOT_BOOKING_KEYS)

    def test_outside_the_window_is_409_attendance_closed(self):
        for delta in (timedelta(minutes=31), -timedelta(days=7, hours=1, minutes=1)):
            with self.subTest(starts_in=delta):
                start_in(self.slot, delta)
                before = db_state()

                response = self.post()

                assert_problem(self, response, status.HTTP_409_CONFLICT, "attendance_closed")
                self.assertEqual(db_state(), before)

    def test_the_window_edges_through_the_api(self):
        # The slot lasts an hour: it ends 7 days before now when it starts
        # 7 days and an hour ago.
        cases = {
            "29 minutes before the start": (timedelta(minutes=29), 200),
            "31 minutes before the start": (timedelta(minutes=31), 409),
            "a minute inside 7 days after the end": (-timedelta(days=7, minutes=59), 200),
            "a minute past 7 days after the end": (-timedelta(days=7, hours=1, minutes=1), 409),
        }
        for name, (delta, expected) in cases.items():
            with self.subTest(name):
                start_in(self.slot, delta)

                response = self.post()

                self.assertEqual(response.status_code, expected, response.content)

    def test_a_booking_of_another_slot_is_400_under_booking(self):
        other_slot = add_slot(self.session, start=now() + timedelta(hours=3))
        elsewhere = book(other_slot)
        before = db_state()

        response = self.post({"booking": elsewhere.pk, "attendance": "attended"})

        self.assert_invalid(response, "booking")
        self.assertEqual(db_state(), before)

    def test_an_unknown_booking_is_400_under_booking(self):
        response = self.post({"booking": self.booking.pk + 1000, "attendance": "attended"})

        self.assert_invalid(response, "booking")

    def test_a_booking_that_is_not_confirmed_is_400_under_booking(self):
        cancelled = book_and_cancel(self.slot)
        TimeSlot.objects.filter(pk=self.slot.pk).update(capacity=self.slot.booked)
        waiting = wait(self.slot)
        before = db_state()

        for booking in (cancelled, waiting):
            with self.subTest(status=booking.status):
                response = self.post({"booking": booking.pk, "attendance": "no_show"})

                self.assert_invalid(response, "booking")
        self.assertEqual(db_state(), before)

    def test_a_missing_or_wrong_field_is_400(self):
        cases = {
            "booking": {"attendance": "attended"},
            "attendance": {"booking": self.booking.pk, "attendance": "late"},
        }
        for field, body in cases.items():
            with self.subTest(field=field):
                self.assert_invalid(self.post(body), field)

    def test_a_slot_of_another_session_or_an_unknown_one_is_404(self):
        foreign = make_slot(start=now() + timedelta(days=3))
        for session_id, slot_id in [
            (self.session.pk, foreign.pk),
            (self.session.pk, foreign.pk + 1000),
            (self.session.pk + 1000, self.slot.pk),
        ]:
            with self.subTest(session=session_id, slot=slot_id):
                response = self.post(session_id=session_id, slot_id=slot_id)

                assert_problem(self, response, status.HTTP_404_NOT_FOUND, "not_found")

    def test_another_instructor_a_client_and_staff_get_403_and_nothing_changes(self):
        staff = User.objects.create_superuser(
            email="staff@example.com", password=PASSWORD, name="Staff"
        )
        before = db_state()
        for who in (InstructorFactory(), ClientFactory(), self.booking.client, staff):
            with self.subTest(user=who.email):
                sign_in(self.client, who)

                response = self.post()

                assert_problem(self, response, status.HTTP_403_FORBIDDEN, "permission_denied")
        self.assertEqual(db_state(), before)

    def test_signed_out_is_401(self):
        sign_in(self.client, None)

        response = self.post()

        assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "not_authenticated")

    def test_options_describes_the_body_of_each_slot_operation(self):
        attendance = self.client.options(attendance_url(self.session.pk, self.slot.pk))
        cancel = self.client.options(
            f"/api/sessions/{self.session.pk}/time-slots/{self.slot.pk}/cancel/"
        )

        self.assertEqual(attendance.status_code, status.HTTP_200_OK)
        self.assertEqual(set(attendance.json()["actions"]["POST"]), {"booking", "attendance"})
        self.assertEqual(cancel.status_code, status.HTTP_200_OK)
        self.assertEqual(cancel.json()["actions"]["POST"], {})
