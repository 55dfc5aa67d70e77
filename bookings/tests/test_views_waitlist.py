"""The waitlist, expiry and the cancellation policy through HTTP (API.md section 7)."""

from datetime import timedelta

from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import now
from rest_framework import status

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import book, make_slot, move_to_past
from sessions_app.models import TimeSlot
from testing.api import (
    BOOKING_KEYS,
    BOOKINGS,
    BookingApiTestCase,
    booking_cancel_url,
    booking_url,
    from_iso,
    public_url,
)
from testing.problems import assert_problem


def full_slot(capacity: int = 1, **kwargs) -> TimeSlot:
    slot = make_slot(capacity=capacity, **kwargs)
    for _ in range(capacity):
        book(slot)
    return slot


def join(slot: TimeSlot, client=None) -> Booking:
    return services.booking_create(
        client=client or ClientFactory(), time_slot_id=slot.pk, waitlist=True, by=None
    )


class WaitlistJoinViewTests(BookingApiTestCase):
    def post_waitlist(self, slot_id, waitlist=True):
        return self.client.post(
            BOOKINGS, {"time_slot": slot_id, "waitlist": waitlist}, format="json"
        )

    def test_joining_a_full_slot_is_201_waitlisted_with_its_position(self):
        slot = full_slot()
        join(slot)

        response = self.post_waitlist(slot.pk)

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        body = response.json()
        self.assertEqual(set(body), BOOKING_KEYS)
        self.assertEqual(body["status"], "waitlisted")
        self.assertEqual(body["waitlist_position"], 2)
        self.assertEqual(body["time_slot"]["waitlisted"], 2)
        self.assertFalse(body["late"])
        self.assertIsNone(body["attendance"])
        self.assertEqual(from_iso(body["cancel_before"]), slot.start - timedelta(hours=12))

    def test_a_full_slot_without_waitlist_is_slot_full(self):
        slot = full_slot()
        for waitlist in (False, None):
            with self.subTest(waitlist=waitlist):
                response = (
                    self.post_booking(slot.pk)
                    if waitlist is None
                    else self.post_waitlist(slot.pk, waitlist)
                )
                assert_problem(self, response, status.HTTP_409_CONFLICT, "slot_full")

    def test_a_slot_with_a_seat_books_confirmed_even_with_waitlist(self):
        response = self.post_waitlist(make_slot(capacity=2).pk)

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        self.assertEqual(
            (response.json()["status"], response.json()["waitlist_position"]), ("confirmed", None)
        )

    @override_settings(STUDIO_WAITLIST_SIZE=1)
    def test_a_full_waitlist_is_waitlist_full(self):
        slot = full_slot()
        join(slot)

        response = self.post_waitlist(slot.pk)

        assert_problem(self, response, status.HTTP_409_CONFLICT, "waitlist_full")

    def test_waiting_already_is_already_booked(self):
        slot = full_slot()
        join(slot, self.me)

        response = self.post_waitlist(slot.pk)

        assert_problem(self, response, status.HTTP_409_CONFLICT, "already_booked")

    def test_an_overlapping_confirmed_booking_is_time_conflict(self):
        slot = full_slot()
        book(make_slot(start=slot.start), self.me)

        response = self.post_waitlist(slot.pk)

        assert_problem(self, response, status.HTTP_409_CONFLICT, "time_conflict")

    def test_a_started_or_cancelled_slot_refuses_before_the_waitlist(self):
        started = move_to_past(full_slot())
        assert_problem(
            self, self.post_waitlist(started.pk), status.HTTP_409_CONFLICT, "slot_expired"
        )
        cancelled = full_slot()
        services.time_slot_cancel(time_slot=cancelled, by=None)
        assert_problem(
            self, self.post_waitlist(cancelled.pk), status.HTTP_409_CONFLICT, "slot_cancelled"
        )

    def test_waitlist_must_be_a_boolean(self):
        for value in ("yes", 1, "true", None):
            with self.subTest(value=value):
                self.assert_invalid(self.post_waitlist(make_slot().pk, value), "waitlist")


class WaitlistReadViewTests(BookingApiTestCase):
    def test_positions_move_up_as_bookings_ahead_leave(self):
        slot = full_slot()
        ahead = join(slot)
        mine = join(slot, self.me)
        self.assertEqual(self.client.get(booking_url(mine.pk)).json()["waitlist_position"], 2)

        services.booking_cancel(booking=ahead, by=None)

        self.assertEqual(self.client.get(booking_url(mine.pk)).json()["waitlist_position"], 1)

    def test_the_list_shows_positions_without_a_query_per_booking(self):
        counts = []
        for bookings in (1, 6):
            for _ in range(bookings):
                slot = full_slot(start=now() + timedelta(days=len(counts) + 1, hours=_ * 2))
                join(slot)
                join(slot, self.me)
            with CaptureQueriesContext(connection) as queries:
                response = self.client.get(BOOKINGS)
            self.assertEqual(response.status_code, status.HTTP_200_OK)
            counts.append(len(queries))
        self.assertEqual(counts[0], counts[1])
        self.assertEqual({item["waitlist_position"] for item in response.json()["results"]}, {2})

    def test_a_waiter_shows_expired_once_the_slot_has_started(self):
        slot = full_slot()
        mine = join(slot, self.me)
        upcoming = join(full_slot(), self.me)
        move_to_past(slot)

        body = self.client.get(booking_url(mine.pk)).json()

        self.assertEqual((body["status"], body["waitlist_position"]), ("expired", None))
        self.assertEqual(body["time_slot"]["waitlisted"], 0)
        self.assertEqual(self.ids(self.client.get(BOOKINGS, {"status": "expired"})), [mine.pk])
        self.assertEqual(
            self.ids(self.client.get(BOOKINGS, {"status": "waitlisted"})), [upcoming.pk]
        )

    def test_the_owner_sees_an_unexpired_waiter_of_a_started_slot_as_expired(self):
        slot = full_slot()
        join(slot)
        move_to_past(slot)
        self.client.force_authenticate(slot.session.instructor)

        body = self.client.get(f"/api/sessions/{slot.session_id}/").json()

        statuses = [b["status"] for b in body["time_slots"][0]["bookings"]]
        self.assertEqual(sorted(statuses), ["confirmed", "expired"])

    @override_settings(STUDIO_TIMETABLE_CACHE_SECONDS=300, STUDIO_TIMETABLE_CACHE_SHARED=True)
    def test_the_cached_public_timetable_shows_how_many_wait_after_each_change(self):
        cache.clear()
        slot = full_slot()
        self.client.force_authenticate(None)
        url = public_url(slot.session_id)
        self.assertEqual(self.client.get(url).json()["time_slots"][0]["waitlisted"], 0)

        # The cache's version moves when a write commits.
        with self.captureOnCommitCallbacks(execute=True):
            waiting = join(slot)
        self.assertEqual(self.client.get(url).json()["time_slots"][0]["waitlisted"], 1)

        with self.captureOnCommitCallbacks(execute=True):
            services.booking_cancel(booking=waiting, by=None)
        self.assertEqual(self.client.get(url).json()["time_slots"][0]["waitlisted"], 0)


class WaitlistCancelViewTests(BookingApiTestCase):
    def test_cancelling_a_waiting_booking_is_200_cancelled_never_late(self):
        slot = full_slot(start=now() + timedelta(hours=1))
        mine = join(slot, self.me)

        response = self.client.post(booking_cancel_url(mine.pk))

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        body = response.json()
        self.assertEqual(
            (body["status"], body["late"], body["waitlist_position"]), ("cancelled", False, None)
        )
        self.assertEqual(body["time_slot"]["waitlisted"], 0)

    def test_cancelling_a_seat_promotes_the_first_waiter_in_the_same_answer(self):
        slot = make_slot(capacity=1)
        mine = book(slot, self.me)
        waiting = join(slot)

        response = self.client.delete(booking_url(mine.pk))

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        self.assertEqual(response.json()["time_slot"]["booked"], 1)
        self.assertEqual(response.json()["time_slot"]["waitlisted"], 0)
        waiting.refresh_from_db()
        self.assertEqual(waiting.status, BookingStatus.CONFIRMED)

    def test_cancelling_after_cancel_before_is_late(self):
        mine = book(make_slot(start=now() + timedelta(hours=2)), self.me)

        body = self.client.post(booking_cancel_url(mine.pk)).json()

        self.assertEqual((body["status"], body["late"]), ("cancelled", True))

    def test_cancelling_in_good_time_is_not_late(self):
        mine = book(make_slot(start=now() + timedelta(days=2)), self.me)

        body = self.client.post(booking_cancel_url(mine.pk)).json()

        self.assertEqual((body["status"], body["late"]), ("cancelled", False))

    def test_a_shorter_window_set_later_leaves_the_booking_late(self):
        mine = book(make_slot(start=now() + timedelta(hours=2)), self.me)

        with override_settings(STUDIO_CANCELLATION_WINDOW_HOURS=1):
            body = self.client.post(booking_cancel_url(mine.pk)).json()

        self.assertTrue(body["late"])

    def test_cancelling_after_the_start_is_cancellation_closed(self):
        for make in (lambda: book(make_slot(), self.me), lambda: join(full_slot(), self.me)):
            booking = make()
            move_to_past(booking.time_slot)
            response = self.client.post(booking_cancel_url(booking.pk))
            assert_problem(self, response, status.HTTP_409_CONFLICT, "cancellation_closed")
