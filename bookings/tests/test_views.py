from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils.timezone import now
from rest_framework import status
from rest_framework.test import APITestCase

from accounts.models import User
from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import make_slot, move_to_past
from sessions_app.models import TimeSlot
from sessions_app.services import time_slot_cancel
from studio.testing import assert_problem, book, sign_in

BOOKINGS = "/api/bookings/"
BOOKING_KEYS = {"id", "status", "created_at", "cancelled_at", "time_slot", "session"}
SLOT_KEYS = {
    "id",
    "session",
    "start",
    "end",
    "timezone",
    "capacity",
    "booked",
    "available",
    "is_full",
    "status",
}
SESSION_KEYS = {"id", "title", "category", "instructor"}


def detail_url(booking_id: int) -> str:
    return f"{BOOKINGS}{booking_id}/"


def cancel_url(booking_id: int) -> str:
    return f"{BOOKINGS}{booking_id}/cancel/"


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


class BookingApiTestCase(APITestCase):
    def setUp(self):
        self.me = ClientFactory()
        sign_in(self.client, self.me)

    def assert_invalid(self, response, field: str) -> dict:
        body = assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "invalid")
        self.assertIn(field, body["errors"], body)
        self.assertIsInstance(body["errors"][field], list)
        self.assertTrue(all(isinstance(m, str) and m for m in body["errors"][field]))
        return body

    def post_booking(self, slot_id, **extra):
        return self.client.post(BOOKINGS, {"time_slot": slot_id}, format="json", **extra)

    def ids(self, response) -> list[int]:
        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        return [item["id"] for item in response.json()["results"]]

    def state(self) -> tuple:
        bookings = tuple(Booking.objects.order_by("pk").values_list("pk", "status", "cancelled_at"))
        counters = tuple(TimeSlot.objects.order_by("pk").values_list("pk", "booked"))
        return bookings, counters


class BookingCreateViewTests(BookingApiTestCase):
    def test_client_books_a_slot_and_gets_the_booking_object(self):
        instructor = InstructorFactory(name="Priya Raman")
        slot = make_slot(instructor=instructor, capacity=4, title="Evening Flow")

        response = self.post_booking(slot.pk)

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        body = response.json()
        self.assertEqual(set(body), BOOKING_KEYS)
        self.assertEqual(body["status"], "confirmed")
        self.assertIsNone(body["cancelled_at"])
        self.assertLess(abs(parse(body["created_at"]) - now()), timedelta(minutes=1))
        self.assertEqual(set(body["time_slot"]), SLOT_KEYS)
        self.assertEqual(
            {k: v for k, v in body["time_slot"].items() if k not in ("start", "end")},
            {
                "id": slot.pk,
                "session": slot.session_id,
                "timezone": "Asia/Kolkata",
                "capacity": 4,
                "booked": 1,
                "available": 3,
                "is_full": False,
                "status": "open",
            },
        )
        self.assertEqual(parse(body["time_slot"]["start"]), slot.start)
        self.assertEqual(parse(body["time_slot"]["end"]), slot.end)
        self.assertEqual(set(body["session"]), SESSION_KEYS)
        self.assertEqual(
            body["session"],
            {
                "id": slot.session_id,
                "title": "Evening Flow",
                "category": "yoga",
                "instructor": {"id": instructor.pk, "name": "Priya Raman"},
            },
        )
        booking = Booking.objects.get(pk=body["id"])
        self.assertEqual(booking.client, self.me)
        self.assertEqual(booking.status, BookingStatus.CONFIRMED)
        slot.refresh_from_db()
        self.assertEqual(slot.booked, 1)

    def test_booking_the_last_seat_shows_the_slot_full(self):
        slot = make_slot(capacity=1)

        response = self.post_booking(slot.pk)

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        time_slot = response.json()["time_slot"]
        self.assertEqual((time_slot["available"], time_slot["is_full"]), (0, True))
        self.assertEqual(time_slot["status"], "full")

    def test_create_without_a_time_slot_is_invalid(self):
        response = self.client.post(BOOKINGS, {}, format="json")

        self.assert_invalid(response, "time_slot")
        self.assertFalse(Booking.objects.exists())

    def test_create_with_an_unknown_time_slot_is_invalid(self):
        response = self.post_booking(987654)

        self.assert_invalid(response, "time_slot")
        self.assertFalse(Booking.objects.exists())

    def test_create_with_an_id_beyond_the_database_range_is_invalid(self):
        for value in [2**63, 10**30]:
            with self.subTest(value=value):
                response = self.post_booking(value)

                self.assert_invalid(response, "time_slot")

    def test_create_with_a_non_integer_time_slot_is_invalid(self):
        slot = make_slot()
        for value in ["abc", "", None, 1.5, [slot.pk], {"id": slot.pk}, 0, -1]:
            with self.subTest(value=value):
                response = self.post_booking(value)

                self.assert_invalid(response, "time_slot")
        self.assertFalse(Booking.objects.exists())

    def test_create_with_a_body_that_is_not_json_is_a_parse_error(self):
        response = self.client.post(
            BOOKINGS, data='{"time_slot": ', content_type="application/json"
        )

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "parse_error")
        self.assertFalse(Booking.objects.exists())

    def test_create_on_a_slot_the_studio_cancelled_is_slot_cancelled(self):
        slot = make_slot()
        time_slot_cancel(time_slot=slot)

        response = self.post_booking(slot.pk)

        assert_problem(self, response, status.HTTP_409_CONFLICT, "slot_cancelled")
        self.assertFalse(Booking.objects.exists())

    def test_create_on_a_started_slot_is_slot_expired(self):
        slot = make_slot(start=now() - timedelta(minutes=1))

        response = self.post_booking(slot.pk)

        assert_problem(self, response, status.HTTP_409_CONFLICT, "slot_expired")
        self.assertFalse(Booking.objects.exists())

    def test_create_on_a_slot_already_held_is_already_booked(self):
        slot = make_slot()
        book(slot, self.me)
        before = self.state()

        response = self.post_booking(slot.pk)

        assert_problem(self, response, status.HTTP_409_CONFLICT, "already_booked")
        self.assertEqual(self.state(), before)

    def test_create_on_an_overlapping_slot_is_time_conflict(self):
        start = now() + timedelta(days=3)
        book(make_slot(start=start, minutes=60), self.me)
        overlapping = make_slot(start=start + timedelta(minutes=59), minutes=60)
        before = self.state()

        response = self.post_booking(overlapping.pk)

        assert_problem(self, response, status.HTTP_409_CONFLICT, "time_conflict")
        self.assertEqual(self.state(), before)

    def test_create_on_a_full_slot_is_slot_full(self):
        slot = make_slot(capacity=2)
        book(slot, ClientFactory())
        book(slot, ClientFactory())
        before = self.state()

        response = self.post_booking(slot.pk)

        body = assert_problem(self, response, status.HTTP_409_CONFLICT, "slot_full")
        self.assertEqual(body["title"], "Conflict")
        self.assertEqual(self.state(), before)

    def test_create_on_a_cancelled_full_slot_is_slot_cancelled(self):
        slot = make_slot(capacity=1)
        book(slot, ClientFactory())
        TimeSlot.objects.filter(pk=slot.pk).update(is_cancelled=True)

        response = self.post_booking(slot.pk)

        assert_problem(self, response, status.HTTP_409_CONFLICT, "slot_cancelled")

    def test_create_on_a_full_slot_already_held_is_already_booked(self):
        slot = make_slot(capacity=1)
        book(slot, self.me)

        response = self.post_booking(slot.pk)

        assert_problem(self, response, status.HTTP_409_CONFLICT, "already_booked")

    def test_client_can_book_a_slot_again_after_cancelling_it(self):
        slot = make_slot(capacity=1)
        first = self.post_booking(slot.pk).json()
        self.client.post(cancel_url(first["id"]))

        response = self.post_booking(slot.pk)

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        body = response.json()
        self.assertNotEqual(body["id"], first["id"])
        self.assertEqual(body["status"], "confirmed")
        self.assertEqual(body["time_slot"]["booked"], 1)
        self.assertEqual(Booking.objects.filter(time_slot=slot).count(), 2)


class BookingListViewTests(BookingApiTestCase):
    def test_list_shows_only_the_clients_own_bookings(self):
        mine = book(make_slot(), self.me)
        book(make_slot(), ClientFactory())

        response = self.client.get(BOOKINGS)

        self.assertEqual(self.ids(response), [mine.pk])
        self.assertEqual(set(response.json()["results"][0]), BOOKING_KEYS)

    def test_list_is_paginated(self):
        base = now() + timedelta(days=1)
        for hours in range(3):
            book(make_slot(start=base + timedelta(hours=2 * hours)), self.me)

        first = self.client.get(BOOKINGS, {"page_size": 2})
        second = self.client.get(BOOKINGS, {"page_size": 2, "page": 2})

        self.assertEqual(first.status_code, status.HTTP_200_OK)
        body = first.json()
        self.assertEqual(set(body), {"count", "next", "previous", "results"})
        self.assertEqual(body["count"], 3)
        self.assertEqual(len(body["results"]), 2)
        self.assertIsNone(body["previous"])
        self.assertIn("page=2", body["next"])
        page_two = second.json()
        self.assertEqual(len(page_two["results"]), 1)
        self.assertIsNone(page_two["next"])
        self.assertIsNotNone(page_two["previous"])
        all_ids = self.ids(first) + self.ids(second)
        self.assertEqual(len(set(all_ids)), 3)

    def test_list_of_a_client_without_bookings_is_empty(self):
        response = self.client.get(BOOKINGS)

        self.assertEqual(response.status_code, status.HTTP_200_OK)
        self.assertEqual(
            response.json(), {"count": 0, "next": None, "previous": None, "results": []}
        )

    def make_timeline(self) -> dict[str, Booking]:
        """Bookings on slots in three days, in one day, in two days, an hour ago, two days ago."""
        base = now()
        in_3d = book(make_slot(start=base + timedelta(days=3)), self.me)
        in_1d = book(make_slot(start=base + timedelta(days=1)), self.me)
        in_2d = book(make_slot(start=base + timedelta(days=2)), self.me)
        ago_1h = book(make_slot(start=base + timedelta(days=4)), self.me)
        move_to_past(ago_1h.time_slot, ago=timedelta(hours=1))
        ago_2d = book(make_slot(start=base + timedelta(days=5)), self.me)
        move_to_past(ago_2d.time_slot, ago=timedelta(days=2))
        return {"in_3d": in_3d, "in_1d": in_1d, "in_2d": in_2d, "ago_1h": ago_1h, "ago_2d": ago_2d}

    def test_upcoming_lists_future_slots_soonest_first(self):
        timeline = self.make_timeline()

        response = self.client.get(BOOKINGS, {"when": "upcoming"})

        expected = [timeline[k].pk for k in ("in_1d", "in_2d", "in_3d")]
        self.assertEqual(self.ids(response), expected)

    def test_past_lists_started_slots_latest_first(self):
        timeline = self.make_timeline()

        response = self.client.get(BOOKINGS, {"when": "past"})

        self.assertEqual(self.ids(response), [timeline["ago_1h"].pk, timeline["ago_2d"].pk])

    def test_past_includes_a_slot_in_progress(self):
        booking = book(make_slot(start=now() + timedelta(hours=1), minutes=120), self.me)
        move_to_past(booking.time_slot, ago=timedelta(minutes=10))

        past = self.client.get(BOOKINGS, {"when": "past"})
        upcoming = self.client.get(BOOKINGS, {"when": "upcoming"})

        self.assertEqual(self.ids(past), [booking.pk])
        self.assertEqual(self.ids(upcoming), [])

    def test_status_filters_confirmed_and_cancelled(self):
        base = now() + timedelta(days=1)
        kept = book(make_slot(start=base), self.me)
        dropped = book(make_slot(start=base + timedelta(hours=2)), self.me)
        self.client.post(cancel_url(dropped.pk))

        confirmed = self.client.get(BOOKINGS, {"status": "confirmed"})
        cancelled = self.client.get(BOOKINGS, {"status": "cancelled"})

        self.assertEqual(self.ids(confirmed), [kept.pk])
        self.assertEqual(self.ids(cancelled), [dropped.pk])

    def test_status_and_when_combine(self):
        timeline = self.make_timeline()
        self.client.post(cancel_url(timeline["in_2d"].pk))

        response = self.client.get(BOOKINGS, {"when": "upcoming", "status": "confirmed"})

        self.assertEqual(self.ids(response), [timeline["in_1d"].pk, timeline["in_3d"].pk])

    def test_unknown_filter_values_are_invalid(self):
        for params, field in [
            ({"when": "tomorrow"}, "when"),
            ({"when": "UPCOMING"}, "when"),
            ({"status": "pending"}, "status"),
        ]:
            with self.subTest(params=params):
                response = self.client.get(BOOKINGS, params)

                self.assert_invalid(response, field)

    def test_unknown_time_zone_is_invalid_timezone(self):
        book(make_slot(), self.me)

        response = self.client.get(BOOKINGS, {"tz": "Mars/Olympus_Mons"})

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "invalid_timezone")


class BookingDetailViewTests(BookingApiTestCase):
    def test_client_reads_their_own_booking(self):
        booking = book(make_slot(), self.me)

        response = self.client.get(detail_url(booking.pk))

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        body = response.json()
        self.assertEqual(set(body), BOOKING_KEYS)
        self.assertEqual(body["id"], booking.pk)
        self.assertEqual(body["time_slot"]["id"], booking.time_slot_id)

    def test_another_clients_booking_is_not_found(self):
        booking = book(make_slot(), ClientFactory())

        response = self.client.get(detail_url(booking.pk))

        assert_problem(self, response, status.HTTP_404_NOT_FOUND, "not_found")

    def test_an_unknown_booking_is_not_found(self):
        response = self.client.get(detail_url(987654))

        assert_problem(self, response, status.HTTP_404_NOT_FOUND, "not_found")

    def test_an_id_beyond_the_database_range_is_not_found(self):
        pk = 10**30
        for name, response in [
            ("detail", self.client.get(detail_url(pk))),
            ("cancel", self.client.post(cancel_url(pk))),
            ("delete", self.client.delete(detail_url(pk))),
        ]:
            with self.subTest(name):
                assert_problem(self, response, status.HTTP_404_NOT_FOUND, "not_found")

    def test_put_and_patch_on_a_booking_are_not_allowed(self):
        booking = book(make_slot(), self.me)
        before = self.state()

        for method in (self.client.put, self.client.patch):
            with self.subTest(method=method.__name__):
                response = method(detail_url(booking.pk), {"status": "cancelled"}, format="json")

                assert_problem(
                    self, response, status.HTTP_405_METHOD_NOT_ALLOWED, "method_not_allowed"
                )
        self.assertEqual(self.state(), before)

    def test_get_on_the_cancel_action_is_not_allowed(self):
        booking = book(make_slot(), self.me)

        response = self.client.get(cancel_url(booking.pk))

        assert_problem(self, response, status.HTTP_405_METHOD_NOT_ALLOWED, "method_not_allowed")


class BookingCancelViewTests(BookingApiTestCase):
    def cancel_both_ways(self):
        """(name, request) for both ways of cancelling."""
        return [
            ("POST cancel", lambda pk: self.client.post(cancel_url(pk))),
            ("DELETE", lambda pk: self.client.delete(detail_url(pk))),
        ]

    def test_cancelling_returns_the_cancelled_booking_and_frees_the_seat(self):
        for name, cancel in self.cancel_both_ways():
            with self.subTest(name):
                slot = make_slot(capacity=3)
                book(slot, ClientFactory())
                booking = book(slot, self.me)
                available = slot.available

                response = cancel(booking.pk)

                self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
                body = response.json()
                self.assertEqual(set(body), BOOKING_KEYS)
                self.assertEqual(body["id"], booking.pk)
                self.assertEqual(body["status"], "cancelled")
                self.assertIsNotNone(body["cancelled_at"])
                self.assertLess(abs(parse(body["cancelled_at"]) - now()), timedelta(minutes=1))
                self.assertEqual(body["time_slot"]["available"], available + 1)
                self.assertEqual(body["time_slot"]["booked"], 1)
                slot.refresh_from_db()
                self.assertEqual(slot.available, available + 1)
                booking.refresh_from_db()
                self.assertEqual(booking.status, BookingStatus.CANCELLED)

    def test_cancelling_twice_is_a_no_op(self):
        for name, cancel in self.cancel_both_ways():
            with self.subTest(name):
                slot = make_slot(capacity=3)
                book(slot, ClientFactory())
                booking = book(slot, self.me)
                first = cancel(booking.pk).json()

                response = cancel(booking.pk)

                self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
                body = response.json()
                self.assertEqual(body["status"], "cancelled")
                self.assertEqual(body["cancelled_at"], first["cancelled_at"])
                self.assertEqual(body["time_slot"]["booked"], 1)
                slot.refresh_from_db()
                self.assertEqual(slot.booked, 1)

    def test_cancelling_after_the_slot_started_is_cancellation_closed(self):
        for name, cancel in self.cancel_both_ways():
            with self.subTest(name):
                slot = make_slot(capacity=3)
                booking = book(slot, self.me)
                move_to_past(slot)
                before = self.state()

                response = cancel(booking.pk)

                assert_problem(self, response, status.HTTP_409_CONFLICT, "cancellation_closed")
                self.assertEqual(self.state(), before)
                booking.refresh_from_db()
                self.assertEqual(booking.status, BookingStatus.CONFIRMED)

    def test_cancelling_frees_the_seat_of_a_full_slot_for_someone_else(self):
        slot = make_slot(capacity=1)
        booking = book(slot, self.me)
        self.client.post(cancel_url(booking.pk))
        sign_in(self.client, ClientFactory())

        response = self.post_booking(slot.pk)

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)

    def test_cancelling_an_unknown_booking_is_not_found(self):
        for name, cancel in self.cancel_both_ways():
            with self.subTest(name):
                assert_problem(self, cancel(987654), status.HTTP_404_NOT_FOUND, "not_found")


class BookingTimeZoneViewTests(BookingApiTestCase):
    """Times of a booking are shown in the viewing zone, with its offset at each instant."""

    def slot_at(self, month: int) -> TimeSlot:
        # Noon UTC on the 15th of `month` next year: daylight saving in New York
        # is off in January (-05:00) and on in July (-04:00).
        start = datetime(now().year + 1, month, 15, 12, 0, tzinfo=UTC)
        return make_slot(start=start, minutes=60)

    def assert_times_in(self, body: dict, zone_name: str, booking: Booking) -> None:
        zone = ZoneInfo(zone_name)
        slot = booking.time_slot
        self.assertEqual(body["time_slot"]["timezone"], zone_name)
        for value, instant in [
            (body["created_at"], booking.created_at),
            (body["time_slot"]["start"], slot.start),
            (body["time_slot"]["end"], slot.end),
        ]:
            shown = parse(value)
            self.assertEqual(shown, instant)
            self.assertEqual(shown.utcoffset(), instant.astimezone(zone).utcoffset(), value)

    def test_times_default_to_the_studio_zone(self):
        booking = book(self.slot_at(1), self.me)

        body = self.client.get(detail_url(booking.pk)).json()

        self.assertEqual(body["time_slot"]["start"][-6:], "+05:30")
        self.assertTrue(body["created_at"].endswith("+05:30"))
        self.assert_times_in(body, "Asia/Kolkata", booking)

    def test_times_follow_the_profile_zone_with_daylight_saving_per_instant(self):
        User.objects.filter(pk=self.me.pk).update(timezone="America/New_York")
        january = book(self.slot_at(1), self.me)
        july = book(self.slot_at(7), self.me)

        winter = self.client.get(detail_url(january.pk)).json()
        summer = self.client.get(detail_url(july.pk)).json()

        self.assertEqual(winter["time_slot"]["start"], f"{now().year + 1}-01-15T07:00:00-05:00")
        self.assertEqual(winter["time_slot"]["end"], f"{now().year + 1}-01-15T08:00:00-05:00")
        self.assertEqual(summer["time_slot"]["start"], f"{now().year + 1}-07-15T08:00:00-04:00")
        self.assert_times_in(winter, "America/New_York", january)
        self.assert_times_in(summer, "America/New_York", july)

    def test_tz_parameter_overrides_the_profile_zone(self):
        User.objects.filter(pk=self.me.pk).update(timezone="Europe/London")
        booking = book(self.slot_at(1), self.me)

        body = self.client.get(detail_url(booking.pk), {"tz": "America/New_York"}).json()

        self.assertEqual(body["time_slot"]["start"], f"{now().year + 1}-01-15T07:00:00-05:00")
        self.assert_times_in(body, "America/New_York", booking)

    def test_x_timezone_header_sets_the_zone_of_the_list(self):
        booking = book(self.slot_at(7), self.me)

        response = self.client.get(BOOKINGS, HTTP_X_TIMEZONE="America/New_York")

        body = response.json()["results"][0]
        self.assertEqual(body["time_slot"]["start"], f"{now().year + 1}-07-15T08:00:00-04:00")
        self.assert_times_in(body, "America/New_York", booking)

    def test_created_booking_and_cancellation_are_shown_in_the_tz_zone(self):
        slot = self.slot_at(1)

        created = self.client.post(
            f"{BOOKINGS}?tz=America/New_York", {"time_slot": slot.pk}, format="json"
        )
        booking = Booking.objects.select_related("time_slot").get(pk=created.json()["id"])
        cancelled = self.client.post(f"{cancel_url(booking.pk)}?tz=America/New_York")

        self.assertEqual(created.status_code, status.HTTP_201_CREATED, created.content)
        self.assert_times_in(created.json(), "America/New_York", booking)
        body = cancelled.json()
        booking.refresh_from_db()
        shown = parse(body["cancelled_at"])
        self.assertEqual(shown, booking.cancelled_at)
        zone = ZoneInfo("America/New_York")
        self.assertEqual(shown.utcoffset(), booking.cancelled_at.astimezone(zone).utcoffset())

    def test_an_unknown_tz_refuses_a_booking_before_it_is_made(self):
        slot = make_slot()

        response = self.client.post(f"{BOOKINGS}?tz=Nowhere/Land", {"time_slot": slot.pk})

        assert_problem(self, response, status.HTTP_400_BAD_REQUEST, "invalid_timezone")
        self.assertFalse(Booking.objects.exists())


class BookingSchemaTests(APITestCase):
    def setUp(self):
        self.schema = self.client.get("/api/schema/?format=json").json()

    def test_schema_allows_a_booking_that_was_never_cancelled_to_have_no_cancelled_at(self):
        cancelled_at = self.schema["components"]["schemas"]["Booking"]["properties"]["cancelled_at"]

        self.assertTrue(cancelled_at.get("nullable"), cancelled_at)

    def test_schema_documents_the_conflicts_of_booking_and_cancelling(self):
        paths = self.schema["paths"]
        operations = [
            paths["/api/bookings/"]["post"],
            paths["/api/bookings/{id}/cancel/"]["post"],
            paths["/api/bookings/{id}/"]["delete"],
        ]
        for operation in operations:
            with self.subTest(operation=operation["operationId"]):
                problem = operation["responses"]["409"]["content"]["application/json"]["schema"]
                self.assertTrue(problem["$ref"].endswith("/Problem"))


class HugeIdTests(BookingApiTestCase):
    HUGE = 10**20

    def test_a_booking_id_too_large_for_the_database_is_not_found(self):
        for method, path in [
            ("get", f"{BOOKINGS}{self.HUGE}/"),
            ("delete", f"{BOOKINGS}{self.HUGE}/"),
            ("post", f"{BOOKINGS}{self.HUGE}/cancel/"),
        ]:
            with self.subTest(method=method):
                assert_problem(self, getattr(self.client, method)(path), 404, "not_found")

    def test_booking_a_slot_id_too_large_for_the_database_is_invalid(self):
        self.assert_invalid(self.post_booking(self.HUGE), "time_slot")
