"""A soak through the HTTP API of a live server: many clients booking and cancelling at random.

Each client is a thread with its own account and JWT from /api/register/, talking
to a real server on 127.0.0.1 over real sockets for a bounded time
(`STUDIO_SOAK_SECONDS`, 20 by default). Now and then a client sends two bookings
at the same moment, so one client's requests race each other too. Every answer
is recorded and checked against the contract and against what that client's own
earlier answers imply; afterwards the database must hold exactly what the
successful answers say, with no slot oversold and no client on two overlapping
slots.
"""

import logging
import random
import threading
import time
from collections import Counter
from datetime import timedelta
from itertools import combinations
from typing import Any

from django.db.models import Count
from django.test import LiveServerTestCase
from django.utils.timezone import now

from bookings.models import Booking, BookingStatus
from bookings.tests.factories import make_slot
from bookings.tests.soak_clients import (
    CLIENTS,
    MIN_OPERATIONS,
    PASSWORD,
    REQUEST_TIMEOUT,
    SOAK_SECONDS,
    Answer,
    LiveApi,
    SoakClient,
    problem_violation,
    slot_violation,
)
from sessions_app.models import TimeSlot

logger = logging.getLogger(__name__)


class BookingSoakTests(LiveServerTestCase):
    host = "127.0.0.1"

    def setUp(self):
        start = now() + timedelta(days=2)
        # Small slots everyone books: B overlaps A and C; A and C do not
        # overlap; D overlaps nothing.
        plan = [(0, 2), (30, 3), (80, 2), (240, 3)]
        # Two overlapping slots with a seat for every client, booked only by
        # double submits: never full, so exactly one of two requests wins.
        plan += [(360, CLIENTS), (390, CLIENTS)]
        self.slots = [
            make_slot(start=start + timedelta(minutes=offset), capacity=capacity)
            for offset, capacity in plan
        ]
        self.slot_ids = [slot.pk for slot in self.slots]
        self.small_slot_ids, self.roomy_slot_ids = self.slot_ids[:4], self.slot_ids[4:]
        a, b, c, _, e, f = self.slot_ids
        self.double_submits = [(e, f)] * 6 + [(f, e)] * 6 + [(a, b), (c, b), (e, e), (b, b)] * 2
        self.overlaps = {
            slot.pk: {
                other.pk
                for other in self.slots
                if other.pk != slot.pk and other.start < slot.end and other.end > slot.start
            }
            for slot in self.slots
        }
        self.api = LiveApi(self.host, self.server_thread.port)
        # (booking id, user id) of every booking a 201 announced, of any client
        self.booking_ids: list[tuple[int, int]] = []

    # One client's run.

    def record(self, client: SoakClient, operation: str, target, status, body, content_type):
        client.answers.append(Answer(client.index, operation, target, status, body, content_type))
        if status >= 500:
            client.violations.append(f"{operation} {target}: {status} {body!r}")
        elif status >= 400:
            problem = problem_violation(status, body)
            if problem:
                client.violations.append(f"{operation} {target}: {problem}")

    def expect(self, client: SoakClient, operation: str, target, got, allowed) -> None:
        if got not in allowed:
            client.violations.append(f"{operation} {target}: got {got}, expected one of {allowed}")

    def register(self, client: SoakClient) -> bool:
        status, body, content_type = self.api.call(
            "POST",
            "/api/register/",
            body={
                "email": f"soak{client.index}@example.com",
                "password": PASSWORD,
                "name": f"Soak Client {client.index}",
                "role": "client",
            },
        )
        self.record(client, "register", None, status, body, content_type)
        if status != 201:
            client.violations.append(f"register: {status} {body!r}")
            return False
        client.token = body["access"]
        client.user_id = body["user"]["id"]
        return True

    def allowed_bookings(self, client: SoakClient, slot_id: int, sibling: int | None = None):
        """The answers this client's own history allows to booking `slot_id`, in the
        contract's order of checking; only a seat count depends on others. `sibling`
        is the slot of a second request of the same client sent at the same moment."""
        if slot_id in client.held:
            return {(409, "already_booked")}
        if self.overlaps[slot_id] & set(client.held):
            return {(409, "time_conflict")}
        allowed = {(201, "confirmed"), (409, "slot_full")}
        if sibling == slot_id:
            allowed.add((409, "already_booked"))
        elif sibling is not None:
            allowed.add((409, "time_conflict"))
        return allowed

    def check_booking(self, client, operation, slot_id, status, body, allowed) -> None:
        if status == 201:
            self.expect(client, operation, slot_id, (status, body.get("status")), allowed)
            if body["time_slot"]["id"] != slot_id:
                client.violations.append(f"{operation} {slot_id}: got {body['time_slot']['id']}")
            problem = slot_violation(body["time_slot"])
            if problem:
                client.violations.append(f"{operation} {slot_id}: {problem}")
            client.held[slot_id] = body["id"]
            self.booking_ids.append((body["id"], client.user_id))
        else:
            code = body.get("code") if isinstance(body, dict) else None
            self.expect(client, operation, slot_id, (status, code), allowed)

    def book(self, client: SoakClient, rng: random.Random) -> None:
        slot_id = rng.choice(self.small_slot_ids)
        allowed = self.allowed_bookings(client, slot_id)
        status, body, content_type = self.api.call(
            "POST", "/api/bookings/", token=client.token, body={"time_slot": slot_id}
        )
        self.record(client, "book", slot_id, status, body, content_type)
        self.check_booking(client, "book", slot_id, status, body, allowed)

    def double_book(self, client: SoakClient, rng: random.Random) -> None:
        """Two bookings of this client at the same moment, as a double click sends
        them: for one slot twice, or for two slots that overlap. At most one wins."""
        pair = rng.choice(self.double_submits)
        held = set(client.held)
        free = not any(slot_id in held or self.overlaps[slot_id] & held for slot_id in pair)
        allowed = [
            self.allowed_bookings(client, pair[0], sibling=pair[1]),
            self.allowed_bookings(client, pair[1], sibling=pair[0]),
        ]
        answers = self.send_together(
            client,
            [("POST", "/api/bookings/", {"time_slot": slot_id}) for slot_id in pair],
        )
        for slot_id, answer, ok in zip(pair, answers, allowed, strict=True):
            self.record(client, "double book", slot_id, *answer)
            self.check_booking(client, "double book", slot_id, answer[0], answer[1], ok)
        won = [answer[0] for answer in answers].count(201)
        # A roomy slot is never full: when nothing the client held was in the
        # way, exactly one of the two requests wins.
        wanted = {1} if free and set(pair) <= set(self.roomy_slot_ids) else {0, 1}
        if won not in wanted:
            client.violations.append(f"double book {pair}: {won} of 2 won, expected {wanted}")

    def cancel_held(self, client: SoakClient, rng: random.Random) -> None:
        slot_id = rng.choice(list(client.held))
        booking_id = client.held[slot_id]
        status, body = self.cancel(client, rng, booking_id, "cancel")
        self.expect(client, "cancel", booking_id, status, {200})
        if status == 200:
            if (body.get("id"), body.get("status")) != (booking_id, "cancelled"):
                client.violations.append(f"cancel {booking_id}: {body}")
            del client.held[slot_id]
            client.cancelled.add(booking_id)

    def double_cancel(self, client: SoakClient, rng: random.Random) -> None:
        """Two cancellations of one booking at the same moment: both answer 200
        with the booking cancelled, and the seat is freed once."""
        slot_id = rng.choice(list(client.held))
        booking_id = client.held[slot_id]
        answers = self.send_together(
            client,
            [
                ("POST", f"/api/bookings/{booking_id}/cancel/", None),
                ("DELETE", f"/api/bookings/{booking_id}/", None),
            ],
        )
        for status, body, content_type in answers:
            self.record(client, "double cancel", booking_id, status, body, content_type)
            self.expect(client, "double cancel", booking_id, status, {200})
            if status == 200 and (body.get("id"), body.get("status")) != (booking_id, "cancelled"):
                client.violations.append(f"double cancel {booking_id}: {body}")
        if any(status == 200 for status, _, _ in answers):
            del client.held[slot_id]
            client.cancelled.add(booking_id)

    def send_together(self, client: SoakClient, requests: list[tuple[str, str, Any]]):
        """The answers to `requests` of this client, sent at the same moment."""
        barrier = threading.Barrier(len(requests), timeout=REQUEST_TIMEOUT)
        answers: list[Any] = [None] * len(requests)

        def send(index: int) -> None:
            method, path, body = requests[index]
            try:
                barrier.wait()
                answers[index] = self.api.call(method, path, token=client.token, body=body)
            except Exception as exc:  # reported below with the answers
                answers[index] = exc

        senders = [
            threading.Thread(target=send, args=(index,), daemon=True)
            for index in range(len(requests))
        ]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(2 * REQUEST_TIMEOUT)
        if not all(isinstance(answer, tuple) for answer in answers):
            raise AssertionError(f"requests sent together {requests}: {answers!r}")
        return answers

    def cancel_again(self, client: SoakClient, rng: random.Random) -> None:
        booking_id = rng.choice(sorted(client.cancelled))
        status, body = self.cancel(client, rng, booking_id, "cancel again")
        self.expect(client, "cancel again", booking_id, status, {200})
        if status == 200 and (body.get("id"), body.get("status")) != (booking_id, "cancelled"):
            client.violations.append(f"cancel again {booking_id}: {body}")

    def cancel_others(self, client: SoakClient, rng: random.Random) -> None:
        others = [pk for pk, user_id in self.booking_ids[-50:] if user_id != client.user_id]
        if not others:
            return
        booking_id = rng.choice(others)
        status, body = self.cancel(client, rng, booking_id, "cancel other's")
        code = body.get("code") if isinstance(body, dict) else None
        self.expect(client, "cancel other's", booking_id, (status, code), {(404, "not_found")})

    def cancel(self, client: SoakClient, rng: random.Random, booking_id: int, operation: str):
        if rng.random() < 0.5:
            answer = self.api.call(
                "POST", f"/api/bookings/{booking_id}/cancel/", token=client.token
            )
        else:
            answer = self.api.call("DELETE", f"/api/bookings/{booking_id}/", token=client.token)
        self.record(client, operation, booking_id, *answer)
        return answer[0], answer[1]

    def list_mine(self, client: SoakClient) -> None:
        status, body, content_type = self.api.call(
            "GET", "/api/bookings/?status=confirmed&page_size=100", token=client.token
        )
        self.record(client, "list mine", None, status, body, content_type)
        self.expect(client, "list mine", None, status, {200})
        if status == 200:
            listed = sorted(item["id"] for item in body["results"])
            mine = set(client.held.values())
            if listed != sorted(mine):
                client.violations.append(f"list mine: {listed}, its answers leave {sorted(mine)}")

    def timetable(self, client: SoakClient) -> None:
        status, body, content_type = self.api.call(
            "GET", "/api/public/sessions/?page_size=100", token=client.token
        )
        self.record(client, "timetable", None, status, body, content_type)
        self.expect(client, "timetable", None, status, {200})
        if status == 200:
            shown = [slot for item in body["results"] for slot in item["time_slots"]]
            if sorted(slot["id"] for slot in shown) != sorted(self.slot_ids):
                client.violations.append(f"timetable shows slots {[s['id'] for s in shown]}")
            for slot in shown:
                problem = slot_violation(slot)
                if problem:
                    client.violations.append(f"timetable: {problem}")

    def run_client(self, client: SoakClient, barrier: threading.Barrier) -> None:
        rng = random.Random(client.index)
        signed_in = self.register(client)
        barrier.wait()
        if not signed_in:
            return
        deadline = time.monotonic() + SOAK_SECONDS
        operations = 0
        while operations < MIN_OPERATIONS or time.monotonic() < deadline:
            operations += 1
            roll = rng.random()
            if client.held and roll < 0.30:
                self.cancel_held(client, rng)
            elif client.held and roll < 0.35:
                self.double_cancel(client, rng)
            elif roll < 0.65:
                self.book(client, rng)
            elif roll < 0.77:
                self.double_book(client, rng)
            elif client.cancelled and roll < 0.80:
                self.cancel_again(client, rng)
            elif roll < 0.85:
                self.cancel_others(client, rng)
            elif roll < 0.93:
                self.list_mine(client)
            else:
                self.timetable(client)

    # The soak.

    def soak(self) -> list[SoakClient]:
        clients = [SoakClient(index) for index in range(CLIENTS)]
        barrier = threading.Barrier(CLIENTS, timeout=REQUEST_TIMEOUT)

        def run(client: SoakClient) -> None:
            try:
                self.run_client(client, barrier)
            except BaseException as exc:  # a transport failure or a hang: reported
                client.violations.append(f"stopped by {exc!r}"[:300])

        threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in clients]
        for thread in threads:
            thread.start()
        limit = time.monotonic() + SOAK_SECONDS + 2 * REQUEST_TIMEOUT
        for thread in threads:
            thread.join(max(0.0, limit - time.monotonic()))
        alive = [thread.name for thread in threads if thread.is_alive()]
        self.assertEqual(alive, [], "client threads still running")
        self.wait_for_server_requests()
        return clients

    def wait_for_server_requests(self) -> None:
        """Waits until the live server has answered every request and closed its
        database connections, so the checks and the teardown see a quiet database."""
        limit = time.monotonic() + REQUEST_TIMEOUT
        while time.monotonic() < limit:
            busy = [t for t in threading.enumerate() if "process_request_thread" in t.name]
            if not busy:
                return
            time.sleep(0.05)
        self.fail(f"live server requests still running: {busy}")

    def test_random_booking_and_cancelling_over_http_keeps_every_promise(self):
        clients = self.soak()

        answers = [answer for client in clients for answer in client.answers]
        tally = Counter(
            (a.operation, a.status, a.body.get("code") if a.status >= 400 else None)
            for a in answers
            if isinstance(a.body, dict)
        )
        summary = ", ".join(
            f"{operation} {status}{' ' + code if code else ''}: {n}"
            for (operation, status, code), n in sorted(tally.items(), key=str)
        )
        logger.info("soak over %.0f s, %d requests: %s", SOAK_SECONDS, len(answers), summary)

        # Every answer was in the contract: no 5xx, problem bodies, expected statuses.
        violations = [f"client {c.index}: {v}" for c in clients for v in c.violations]
        self.assertEqual(violations[:20], [], f"{len(violations)} violations; {summary}")
        self.assertEqual([a for a in answers if a.status >= 500], [], summary)

        # The soak did what it is for: seats ran out, clients met their own
        # bookings and overlaps, and cancelled.
        for wanted in [
            ("book", 201, None),
            ("book", 409, "slot_full"),
            ("book", 409, "already_booked"),
            ("book", 409, "time_conflict"),
            ("double book", 201, None),
            ("double book", 409, "already_booked"),
            ("double book", 409, "time_conflict"),
            ("cancel", 200, None),
            ("double cancel", 200, None),
            ("cancel other's", 404, "not_found"),
        ]:
            self.assertGreater(tally[wanted], 0, f"never saw {wanted}; {summary}")

        # Replay: every 201 made one booking, and those still confirmed are
        # exactly the ones no 200 cancelled.
        made: dict[int, tuple[int, int]] = {}  # booking id -> (client's user id, slot id)
        confirmed: set[int] = set()
        for client in clients:
            for answer in client.answers:
                if answer.operation in ("book", "double book") and answer.status == 201:
                    made[answer.body["id"]] = (client.user_id, answer.target)
                    confirmed.add(answer.body["id"])
                elif answer.operation in ("cancel", "double cancel") and answer.status == 200:
                    confirmed.discard(answer.target)
        for client in clients:
            own = {pk for pk, (user_id, _) in made.items() if user_id == client.user_id}
            self.assertEqual(sorted(confirmed & own), sorted(client.held.values()), summary)
        stored = {
            pk: (client_id, slot_id)
            for pk, client_id, slot_id in Booking.objects.values_list("pk", "client", "time_slot")
        }
        self.assertEqual(stored, made, f"bookings made without a 201, or lost; {summary}")
        stored_confirmed = set(
            Booking.objects.filter(status=BookingStatus.CONFIRMED).values_list("pk", flat=True)
        )
        self.assertEqual(stored_confirmed, confirmed, summary)

        # Seats: never oversold, and each counter equals its confirmed bookings.
        for slot in TimeSlot.objects.filter(pk__in=self.slot_ids):
            in_slot = sum(1 for pk in confirmed if made[pk][1] == slot.pk)
            self.assertEqual(slot.booked, in_slot, f"slot {slot.pk} counter; {summary}")
            self.assertLessEqual(in_slot, slot.capacity, f"slot {slot.pk} oversold; {summary}")

        # No client holds one slot twice, or two slots that overlap.
        doubles = (
            Booking.objects.filter(status=BookingStatus.CONFIRMED)
            .values("client", "time_slot")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
        )
        self.assertEqual(list(doubles), [], summary)
        held_by: dict[int, list[int]] = {}
        for pk in stored_confirmed:
            held_by.setdefault(stored[pk][0], []).append(stored[pk][1])
        overlapping = [
            (client_id, a, b)
            for client_id, slot_ids in held_by.items()
            for a, b in combinations(sorted(slot_ids), 2)
            if b in self.overlaps[a]
        ]
        self.assertEqual(overlapping, [], summary)
