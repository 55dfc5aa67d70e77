"""A client's bookings through HTTP: the list with its filters, one booking,
the schema, and ids beyond the database's range."""

from datetime import timedelta

from django.utils.timezone import now
from rest_framework import status
from rest_framework.test import APITestCase

from accounts.tests.factories import ClientFactory
from bookings.models import Booking
from bookings.tests.factories import book, make_slot, move_to_past
from testing.api import BOOKING_KEYS, BOOKINGS, BookingApiTestCase, booking_cancel_url, booking_url
from testing.problems import assert_problem


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
        self.client.post(booking_cancel_url(dropped.pk))

        confirmed = self.client.get(BOOKINGS, {"status": "confirmed"})
        cancelled = self.client.get(BOOKINGS, {"status": "cancelled"})

        self.assertEqual(self.ids(confirmed), [kept.pk])
        self.assertEqual(self.ids(cancelled), [dropped.pk])

    def test_status_and_when_combine(self):
        timeline = self.make_timeline()
        self.client.post(booking_cancel_url(timeline["in_2d"].pk))

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

        response = self.client.get(booking_url(booking.pk))

        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        body = response.json()
        self.assertEqual(set(body), BOOKING_KEYS)
        self.assertEqual(body["id"], booking.pk)
        self.assertEqual(body["time_slot"]["id"], booking.time_slot_id)

    def test_another_clients_booking_is_not_found(self):
        booking = book(make_slot(), ClientFactory())

        response = self.client.get(booking_url(booking.pk))

        assert_problem(self, response, status.HTTP_404_NOT_FOUND, "not_found")

    def test_an_unknown_booking_is_not_found(self):
        response = self.client.get(booking_url(987654))

        assert_problem(self, response, status.HTTP_404_NOT_FOUND, "not_found")

    def test_an_id_beyond_the_database_range_is_not_found(self):
        pk = 10**30
        for name, response in [
            ("detail", self.client.get(booking_url(pk))),
            ("cancel", self.client.post(booking_cancel_url(pk))),
            ("delete", self.client.delete(booking_url(pk))),
        ]:
            with self.subTest(name):
                assert_problem(self, response, status.HTTP_404_NOT_FOUND, "not_found")

    def test_put_and_patch_on_a_booking_are_not_allowed(self):
        booking = book(make_slot(), self.me)
        before = self.state()

        for method in (self.client.put, self.client.patch):
            with self.subTest(method=method.__name__):
                response = method(booking_url(booking.pk), {"status": "cancelled"}, format="json")

                assert_problem(
                    self, response, status.HTTP_405_METHOD_NOT_ALLOWED, "method_not_allowed"
                )
        self.assertEqual(self.state(), before)

    def test_get_on_the_cancel_action_is_not_allowed(self):
        booking = book(make_slot(), self.me)

        response = self.client.get(booking_cancel_url(booking.pk))

        assert_problem(self, response, status.HTTP_405_METHOD_NOT_ALLOWED, "method_not_allowed")


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
                problem = operation["responses"]["409"]["content"]["application/problem+json"][
                    "schema"
                ]
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
