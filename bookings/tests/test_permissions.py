"""Every booking endpoint x (anonymous, instructor, another client, the owning client)."""

from datetime import timedelta

from rest_framework import status
from rest_framework.test import APITestCase

from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import book, make_slot
from sessions_app.models import TimeSlot
from testing.api import sign_in
from testing.problems import assert_problem

BOOKINGS = "/api/bookings/"


class BookingPermissionTests(APITestCase):
    def setUp(self):
        self.instructor = InstructorFactory()
        self.owner = ClientFactory()
        self.other = ClientFactory()
        self.slot = make_slot(instructor=self.instructor, capacity=5)
        self.booking = book(self.slot, self.owner)
        self.free_slot = make_slot(start=self.slot.start + timedelta(days=1), capacity=5)

    def endpoints(self) -> dict:
        """name -> request; each touches the owner's booking or books the free slot."""
        pk = self.booking.pk
        return {
            "list": lambda: self.client.get(BOOKINGS),
            "create": lambda: self.client.post(
                BOOKINGS, {"time_slot": self.free_slot.pk}, format="json"
            ),
            "detail": lambda: self.client.get(f"{BOOKINGS}{pk}/"),
            "cancel": lambda: self.client.post(f"{BOOKINGS}{pk}/cancel/"),
            "delete": lambda: self.client.delete(f"{BOOKINGS}{pk}/"),
        }

    def state(self) -> tuple:
        bookings = tuple(Booking.objects.order_by("pk").values_list("pk", "status", "cancelled_at"))
        counters = tuple(TimeSlot.objects.order_by("pk").values_list("pk", "booked"))
        return bookings, counters

    def test_anonymous_gets_not_authenticated_on_every_endpoint(self):
        sign_in(self.client, None)
        before = self.state()
        for name, call in self.endpoints().items():
            with self.subTest(name):
                response = call()

                assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "not_authenticated")
                self.assertIn("Bearer", response.get("WWW-Authenticate", ""))
        self.assertEqual(self.state(), before)

    def test_a_bad_token_gets_token_not_valid_on_every_endpoint(self):
        self.client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
        before = self.state()
        for name, call in self.endpoints().items():
            with self.subTest(name):
                assert_problem(self, call(), status.HTTP_401_UNAUTHORIZED, "token_not_valid")
        self.assertEqual(self.state(), before)

    def test_instructor_gets_permission_denied_on_every_endpoint(self):
        sign_in(self.client, self.instructor)  # teaches the booked slot, and still may not touch it
        before = self.state()
        for name, call in self.endpoints().items():
            with self.subTest(name):
                assert_problem(self, call(), status.HTTP_403_FORBIDDEN, "permission_denied")
        self.assertEqual(self.state(), before)

    def test_instructor_is_refused_before_the_body_is_checked(self):
        sign_in(self.client, InstructorFactory())

        for body in [{}, {"time_slot": "abc"}, {"time_slot": 987654}]:
            with self.subTest(body=body):
                response = self.client.post(BOOKINGS, body, format="json")

                assert_problem(self, response, status.HTTP_403_FORBIDDEN, "permission_denied")

    def test_anonymous_is_refused_before_the_body_is_checked(self):
        sign_in(self.client, None)

        response = self.client.post(BOOKINGS, {}, format="json")

        assert_problem(self, response, status.HTTP_401_UNAUTHORIZED, "not_authenticated")

    def test_another_client_gets_not_found_on_someone_elses_booking(self):
        sign_in(self.client, self.other)
        before = self.state()
        for name in ("detail", "cancel", "delete"):
            with self.subTest(name):
                assert_problem(
                    self, self.endpoints()[name](), status.HTTP_404_NOT_FOUND, "not_found"
                )
        self.assertEqual(self.state(), before)
        self.booking.refresh_from_db()
        self.assertEqual(self.booking.status, BookingStatus.CONFIRMED)
        self.assertIsNone(self.booking.cancelled_at)

    def test_another_client_does_not_see_someone_elses_booking_in_the_list(self):
        sign_in(self.client, self.other)

        response = self.endpoints()["list"]()

        self.assertEqual(response.status_code, status.HTTP_200_OK)
        self.assertEqual(response.json()["count"], 0)

    def test_another_client_books_for_themselves_only(self):
        sign_in(self.client, self.other)

        response = self.endpoints()["create"]()

        self.assertEqual(response.status_code, status.HTTP_201_CREATED, response.content)
        self.assertEqual(Booking.objects.get(pk=response.json()["id"]).client, self.other)

    def test_owning_client_succeeds_on_every_endpoint(self):
        sign_in(self.client, self.owner)
        expected = {
            "list": status.HTTP_200_OK,
            "create": status.HTTP_201_CREATED,
            "detail": status.HTTP_200_OK,
            "cancel": status.HTTP_200_OK,
            "delete": status.HTTP_200_OK,
        }
        for name, call in self.endpoints().items():
            with self.subTest(name):
                response = call()

                self.assertEqual(response.status_code, expected[name], response.content)
                if name in ("detail", "cancel", "delete"):
                    self.assertEqual(response.json()["id"], self.booking.pk)
        self.booking.refresh_from_db()
        self.assertEqual(self.booking.status, BookingStatus.CANCELLED)

    def test_owning_client_sees_their_booking_in_the_list(self):
        sign_in(self.client, self.owner)

        response = self.client.get(BOOKINGS)

        self.assertEqual([item["id"] for item in response.json()["results"]], [self.booking.pk])
