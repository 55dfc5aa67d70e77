"""POST /api/bookings/ with an `Idempotency-Key`: a retry gets the first answer
again and books nothing more (API.md section 7, "Idempotent booking")."""

import re
from datetime import timedelta
from unittest import mock

from django.db import OperationalError
from django.test import SimpleTestCase
from django.utils.timezone import now
from drf_spectacular.generators import SchemaGenerator

from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings import idempotency, services
from bookings.models import Booking, BookingStatus, IdempotencyKey
from bookings.tests.factories import book, make_slot
from core.errors import ValidationFailedError
from testing.api import BOOKINGS, BookingApiTestCase, sign_in
from testing.problems import assert_problem

KEY = "booking-2031-01-10-evening-yoga"
REPLAYED = "Idempotent-Replayed"


class IdempotentBookingTestCase(BookingApiTestCase):
    def post_with_key(self, body, key=KEY, **extra):
        """POSTs `body` (a dict, or raw JSON text) with the `Idempotency-Key` header."""
        if isinstance(body, str):
            return self.client.post(
                BOOKINGS, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key, **extra
            )
        return self.client.post(BOOKINGS, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)

    def assert_first(self, response, code: int):
        self.assertEqual(response.status_code, code, response.content)
        self.assertNotIn(REPLAYED, response.headers)
        return response.json()

    def assert_replayed(self, response, first: dict, code: int):
        self.assertEqual(response.status_code, code, response.content)
        self.assertEqual(response.headers.get(REPLAYED), "true")
        self.assertEqual(response.json(), first)

    def my_bookings(self) -> int:
        return Booking.objects.filter(client=self.me).count()


class ReplayTests(IdempotentBookingTestCase):
    def test_a_retry_with_the_same_key_and_body_gets_the_first_answer_and_books_once(self):
        slot = make_slot(capacity=5)

        first = self.assert_first(self.post_with_key({"time_slot": slot.pk}), 201)
        self.assert_replayed(self.post_with_key({"time_slot": slot.pk}), first, 201)
        self.assert_replayed(self.post_with_key({"time_slot": slot.pk}), first, 201)

        self.assertEqual(first["status"], "confirmed")
        self.assertEqual(list(Booking.objects.values_list("pk", flat=True)), [first["id"]])
        slot.refresh_from_db()
        self.assertEqual(slot.booked, 1)

    def test_the_replay_is_the_first_answer_even_after_the_booking_changed(self):
        slot = make_slot(capacity=5)
        first = self.assert_first(self.post_with_key({"time_slot": slot.pk}), 201)
        self.client.post(f"{BOOKINGS}{first['id']}/cancel/")

        self.assert_replayed(self.post_with_key({"time_slot": slot.pk}), first, 201)
        self.assertEqual(self.my_bookings(), 1)
        self.assertEqual(Booking.objects.get().status, BookingStatus.CANCELLED)

    def test_a_refusal_is_kept_and_replayed_after_the_seat_frees_up(self):
        slot = make_slot(capacity=1)
        other = book(slot)

        refused = assert_problem(self, self.post_with_key({"time_slot": slot.pk}), 409, "slot_full")
        services.booking_cancel(booking=other, by=None)
        response = self.post_with_key({"time_slot": slot.pk})

        self.assert_replayed(response, refused, 409)
        # assert_problem checks the replay is served as a problem, like the first.
        assert_problem(self, response, 409, "slot_full")
        self.assertEqual(self.my_bookings(), 0)
        # A new key is a new request, and books the freed seat.
        self.assert_first(self.post_with_key({"time_slot": slot.pk}, key="another"), 201)

    def test_a_400_answer_is_kept_and_replayed(self):
        first = assert_problem(self, self.post_with_key({"time_slot": 999_999}), 400, "invalid")
        self.assertIn("time_slot", first["errors"])

        response = self.post_with_key({"time_slot": 999_999})
        self.assert_replayed(response, first, 400)
        assert_problem(self, response, 400, "invalid")

    def test_bodies_with_the_same_json_value_are_the_same_body(self):
        slot = make_slot()
        first = self.assert_first(
            self.post_with_key(f'{{"time_slot": {slot.pk}, "note": {{"a": 1, "b": [1, 2]}}}}'),
            201,
        )

        for spelling in [
            f'{{"note":{{"b":[1,2],"a":1}},"time_slot":{slot.pk}}}',
            f'\n{{ "note" : {{ "a" : 1.0 , "b" : [ 1 , 2 ] }} ,\t"time_slot" : {slot.pk} }}\n',
        ]:
            with self.subTest(spelling=spelling):
                self.assert_replayed(self.post_with_key(spelling), first, 201)
        self.assertEqual(self.my_bookings(), 1)

    def test_the_same_key_with_another_body_is_refused_with_422(self):
        slot, other_slot = make_slot(), make_slot(start=now() + timedelta(days=3))
        self.assert_first(self.post_with_key({"time_slot": slot.pk}), 201)

        for body in [
            {"time_slot": other_slot.pk},
            {"time_slot": slot.pk, "waitlist": True},
            [{"time_slot": slot.pk}],
        ]:
            with self.subTest(body=body):
                body_answer = assert_problem(
                    self, self.post_with_key(body), 422, "idempotency_key_reused"
                )
                self.assertEqual(body_answer["title"], "Unprocessable Entity")
        self.assertFalse(Booking.objects.filter(time_slot=other_slot).exists())
        self.assertEqual(self.my_bookings(), 1)

    def test_another_clients_equal_key_is_a_key_of_its_own(self):
        slot = make_slot(capacity=5)
        mine = self.assert_first(self.post_with_key({"time_slot": slot.pk}), 201)
        sign_in(self.client, ClientFactory())

        theirs = self.assert_first(self.post_with_key({"time_slot": slot.pk}), 201)

        self.assertNotEqual(theirs["id"], mine["id"])
        self.assertEqual(Booking.objects.filter(time_slot=slot).count(), 2)
        self.assertEqual(IdempotencyKey.objects.filter(key=KEY).count(), 2)

    def test_without_a_key_nothing_is_kept_and_a_retry_books_again(self):
        slot = make_slot()
        first = self.post_booking(slot.pk)
        second = self.post_booking(slot.pk)

        self.assertEqual(first.status_code, 201, first.content)
        self.assertNotIn(REPLAYED, first.headers)
        assert_problem(self, second, 409, "already_booked")
        self.assertNotIn(REPLAYED, second.headers)
        self.assertFalse(IdempotencyKey.objects.exists())

    def test_an_instructor_with_a_key_is_refused_before_the_key_is_kept(self):
        sign_in(self.client, InstructorFactory())

        response = self.post_with_key({"time_slot": make_slot().pk})

        assert_problem(self, response, 403, "permission_denied")
        self.assertFalse(IdempotencyKey.objects.exists())


class KeyFormatTests(IdempotentBookingTestCase):
    def test_a_key_empty_too_long_or_not_printable_ascii_is_400_keyed_by_the_header(self):
        slot = make_slot()
        for key in ["", "k" * 256, "café", "tab\there", "bell\x07", "delete\x7f", "newline\n"]:
            with self.subTest(key=key):
                body = assert_problem(
                    self, self.post_with_key({"time_slot": slot.pk}, key=key), 400, "invalid"
                )
                self.assertEqual(list(body["errors"]), ["Idempotency-Key"])
                self.assertTrue(body["errors"]["Idempotency-Key"][0])
        self.assertEqual(self.my_bookings(), 0)
        self.assertFalse(IdempotencyKey.objects.exists())

    def test_any_printable_ascii_key_of_1_to_255_characters_is_taken(self):
        keys = ["k", "k" * 255, "a b~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}"]
        for index, key in enumerate(keys):
            slot = make_slot(start=now() + timedelta(days=index + 1))
            with self.subTest(key=key):
                first = self.assert_first(self.post_with_key({"time_slot": slot.pk}, key=key), 201)
                self.assert_replayed(
                    self.post_with_key({"time_slot": slot.pk}, key=key), first, 201
                )
        self.assertEqual(set(IdempotencyKey.objects.values_list("key", flat=True)), set(keys))


class ClaimTests(IdempotentBookingTestCase):
    def claim(self, body: dict, *, age: timedelta = timedelta(0)) -> IdempotencyKey:
        """A claim of KEY for `body`, unfinished, as if a request were running for `age`."""
        row = IdempotencyKey.objects.create(
            client=self.me,
            key=KEY,
            request_hash=idempotency.request_hash(body),
            expires_at=now() + idempotency.KEY_LIFETIME,
        )
        IdempotencyKey.objects.filter(pk=row.pk).update(created_at=now() - age)
        return row

    def test_a_retry_while_the_first_request_runs_is_409_in_use(self):
        slot = make_slot()
        self.claim({"time_slot": slot.pk})

        response = self.post_with_key({"time_slot": slot.pk})

        assert_problem(self, response, 409, "idempotency_key_in_use")
        self.assertNotIn(REPLAYED, response.headers)
        self.assertEqual(self.my_bookings(), 0)

    def test_another_body_while_the_first_request_runs_is_422_reused(self):
        slot = make_slot()
        self.claim({"time_slot": slot.pk + 1})

        assert_problem(
            self, self.post_with_key({"time_slot": slot.pk}), 422, "idempotency_key_reused"
        )

    def test_a_claim_left_unfinished_past_the_bound_is_abandoned_and_taken_over(self):
        slot = make_slot()
        abandoned = self.claim({"time_slot": slot.pk}, age=idempotency.ABANDONED_AFTER)

        first = self.assert_first(self.post_with_key({"time_slot": slot.pk}), 201)

        row = IdempotencyKey.objects.get()
        self.assertNotEqual(row.pk, abandoned.pk)
        self.assertEqual((row.status_code, row.response_body["id"]), (201, first["id"]))

    def test_a_booking_whose_claim_was_taken_over_meanwhile_is_rolled_back(self):
        slot = make_slot()
        real_booking_create = services.booking_create

        def taken_over_while_booking(**kwargs):
            # A retry declares this request's claim abandoned and claims the key.
            IdempotencyKey.objects.filter(client=self.me, key=KEY).delete()
            return real_booking_create(**kwargs)

        with mock.patch.object(services, "booking_create", taken_over_while_booking):
            response = self.post_with_key({"time_slot": slot.pk})

        assert_problem(self, response, 409, "idempotency_key_in_use")
        self.assertEqual(self.my_bookings(), 0)
        slot.refresh_from_db()
        self.assertEqual(slot.booked, 0)

    def test_a_key_expires_24_hours_after_it_was_created(self):
        slot = make_slot()
        self.assert_first(self.post_with_key({"time_slot": slot.pk}), 201)
        row = IdempotencyKey.objects.get()
        self.assertAlmostEqual(
            row.expires_at - row.created_at, timedelta(hours=24), delta=timedelta(seconds=1)
        )

    def test_an_expired_key_is_free_for_any_body_again(self):
        slot, later_slot = make_slot(), make_slot(start=now() + timedelta(days=3))
        self.assert_first(self.post_with_key({"time_slot": slot.pk}), 201)
        IdempotencyKey.objects.update(
            created_at=now() - timedelta(hours=24, seconds=1),
            expires_at=now() - timedelta(seconds=1),
        )

        second = self.assert_first(self.post_with_key({"time_slot": later_slot.pk}), 201)

        self.assertEqual(second["time_slot"]["id"], later_slot.pk)
        self.assertEqual(self.my_bookings(), 2)
        row = IdempotencyKey.objects.get()
        self.assertEqual(row.request_hash, idempotency.request_hash({"time_slot": later_slot.pk}))
        self.assertGreater(row.expires_at, now() + timedelta(hours=23))


class ServerErrorTests(IdempotentBookingTestCase):
    def test_a_500_is_not_kept_and_a_retry_books(self):
        slot = make_slot()
        real_booking_create = services.booking_create
        calls = iter([RuntimeError("a bug"), None])

        def failing_once(**kwargs):
            error = next(calls)
            if error is not None:
                raise error
            return real_booking_create(**kwargs)

        with (
            mock.patch.object(services, "booking_create", failing_once),
            self.assertLogs("core.exception_handler", "ERROR"),
            self.assertLogs("django.request", "ERROR"),
        ):
            assert_problem(self, self.post_with_key({"time_slot": slot.pk}), 500, "server_error")
            self.assertFalse(IdempotencyKey.objects.exists())
            self.assertEqual(self.my_bookings(), 0)

            self.assert_first(self.post_with_key({"time_slot": slot.pk}), 201)
        self.assertEqual(IdempotencyKey.objects.get().status_code, 201)

    def test_a_503_is_not_kept_and_a_retry_books(self):
        slot = make_slot()
        with (
            mock.patch.object(
                services, "booking_create", side_effect=OperationalError("lock timeout")
            ),
            self.assertLogs("core.exception_handler", "WARNING"),
            self.assertLogs("django.request", "ERROR"),
        ):
            response = self.post_with_key({"time_slot": slot.pk})
        assert_problem(self, response, 503, "service_unavailable")
        self.assertFalse(IdempotencyKey.objects.exists())

        self.assert_first(self.post_with_key({"time_slot": slot.pk}), 201)


class RequestHashTests(BookingApiTestCase):
    def test_equal_json_values_hash_alike_and_different_ones_do_not(self):
        same = [
            {"time_slot": 7, "waitlist": True},
            {"waitlist": True, "time_slot": 7.0},
        ]
        different = [
            {"time_slot": 7},
            {"time_slot": 7, "waitlist": False},
            {"time_slot": "7", "waitlist": True},
            {"time_slot": 7, "waitlist": 1},
            [{"time_slot": 7, "waitlist": True}],
            None,
        ]
        hashes = {idempotency.request_hash(body) for body in same}
        self.assertEqual(len(hashes), 1)
        for body in different:
            with self.subTest(body=body):
                self.assertNotIn(idempotency.request_hash(body), hashes)


class IdempotencySchemaTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        schema = SchemaGenerator().get_schema(request=None, public=True)
        cls.operation = schema["paths"]["/api/bookings/"]["post"]

    def test_the_key_header_is_documented_with_the_limits_the_api_enforces(self):
        (parameter,) = [p for p in self.operation["parameters"] if p["name"] == "Idempotency-Key"]
        self.assertEqual(parameter["in"], "header")
        self.assertFalse(parameter.get("required", False))
        schema = parameter["schema"]
        self.assertEqual((schema["minLength"], schema["maxLength"]), (1, 255))
        pattern = re.compile(schema["pattern"])
        for key in ["k", "k" * 255, " ~", "", "k" * 256, "café", "a\tb", "\x7f", "k\n"]:
            with self.subTest(key=key):
                try:
                    accepted = idempotency.idempotency_key_read(key) == key
                except ValidationFailedError:
                    accepted = False
                self.assertEqual(bool(pattern.fullmatch(key)), accepted)

    def test_the_key_answers_are_documented_with_their_examples(self):
        responses = self.operation["responses"]
        for status, code in [("409", "idempotency_key_in_use"), ("422", "idempotency_key_reused")]:
            with self.subTest(status=status):
                examples = responses[status]["content"]["application/problem+json"]["examples"]
                self.assertIn(code, [example["value"]["code"] for example in examples.values()])
        for status in ["201", "400", "409"]:
            with self.subTest(status=status):
                self.assertIn(REPLAYED, responses[status]["headers"])
        self.assertNotIn("headers", responses["422"])
