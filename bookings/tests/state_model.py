"""The model behind `test_state_machine`: the grid slots lie on, the
strategies its steps draw from, and `StudioModel`, the machine's state (dicts
of what the database must hold) with the helpers that send a step's request
and check the predicted answer. It has no rules of its own."""

from datetime import datetime, timedelta

from django.db import transaction
from django.test import Client
from django.utils.timezone import now
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
)
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import User
from accounts.tests.factories import PASSWORD
from bookings.models import Booking
from sessions_app.cache import timetable_version
from sessions_app.models import Session, TimeSlot

SLOT_STEP = timedelta(minutes=30)
GRID = 12  # slot starts: twelve half hours
MAX_CLIENTS = 4
# Few slots at a time, so bookings meet on them and fill them.
MAX_SLOTS = 6

picks = st.integers(min_value=0, max_value=1000)
# Zero now and then: act as someone else, or on something already deleted.
strays = st.integers(min_value=0, max_value=4)
slot_items = st.tuples(
    st.integers(0, GRID - 1),  # start, in half hours from the machine's base time
    st.integers(1, 3),  # length, in half hours
    st.integers(1, 3),  # capacity
)


def pick(items, index):
    items = sorted(items)
    return items[index % len(items)]


def overlaps(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def db_snapshot() -> dict:
    """Every row a step of the machine can write."""
    return {
        "users": list(User.objects.order_by("pk").values_list("pk", "email", "role")),
        "tokens": OutstandingToken.objects.count(),
        "sessions": list(Session.objects.order_by("pk").values_list()),
        "slots": list(TimeSlot.objects.order_by("pk").values_list()),
        "bookings": list(Booking.objects.order_by("pk").values_list()),
        "timetable version": timetable_version(),
    }


class StudioModel(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each example starts from the test's clean database and leaves it so.
        self.savepoint = transaction.savepoint()
        self.api = APIClient()
        self.admin = Client()
        self.admin.force_login(
            User.objects.create_superuser(email="studio@example.com", password=PASSWORD)
        )
        self.base = (now() + timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
        self.serial = 0
        # The model.
        self.tokens: dict[int, str] = {}  # user id -> access token
        self.clients: dict[int, str] = {}  # client id -> email
        self.instructors: list[int] = []
        self.sessions: dict[int, dict] = {}  # id -> {"instructor", "title"}
        # id -> {"session", "start", "end", "capacity", "cancelled"}
        self.slots: dict[int, dict] = {}
        self.bookings: dict[int, dict] = {}  # id -> {"client", "slot", "confirmed"}
        self.gone_sessions: list[int] = []
        self.gone_slots: list[int] = []

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)

    # Helpers ---------------------------------------------------------------

    def call(self, user_id, method, url, body=None, *, expect, code=None):
        """Sends one request as `user_id` and checks the predicted answer; a
        refused one must leave the database as it was."""
        before = db_snapshot() if expect >= 400 else None
        if user_id is None:
            self.api.credentials()
        else:
            self.api.credentials(HTTP_AUTHORIZATION=f"Bearer {self.tokens[user_id]}")
        response = getattr(self.api, method)(url, body, format="json")
        assert response.status_code == expect, (method, url, body, response.content)
        if expect >= 400:
            problem = response.json()
            assert problem["code"] == code, (method, url, body, problem)
            assert problem["status"] == expect, problem
            assert db_snapshot() == before, (method, url, body, problem)
        return response

    def next_serial(self) -> int:
        self.serial += 1
        return self.serial

    def times(self, start: int, length: int) -> tuple[datetime, datetime]:
        begin = self.base + start * SLOT_STEP
        return begin, begin + length * SLOT_STEP

    def confirmed(self, slot_id: int) -> list[int]:
        return [
            pk
            for pk, booking in self.bookings.items()
            if booking["slot"] == slot_id and booking["confirmed"]
        ]

    def held_by(self, client: int) -> list[int]:
        """The slots on which `client` holds a confirmed booking."""
        return [
            b["slot"] for b in self.bookings.values() if b["client"] == client and b["confirmed"]
        ]

    def held(self, slot_id: int) -> bool:
        """Whether any booking, confirmed or cancelled, is on the slot."""
        return any(booking["slot"] == slot_id for booking in self.bookings.values())

    def span(self, slot_id: int) -> tuple[datetime, datetime]:
        slot = self.slots[slot_id]
        return slot["start"], slot["end"]

    def active_slots(self, instructor: int) -> list[int]:
        return [
            pk
            for pk, slot in self.slots.items()
            if not slot["cancelled"] and self.sessions[slot["session"]]["instructor"] == instructor
        ]

    def session_slots(self, session_id: int) -> list[int]:
        return sorted(pk for pk, slot in self.slots.items() if slot["session"] == session_id)

    def slot_body(self, slot_id: int, **changes) -> dict:
        slot = self.slots[slot_id]
        return {
            "id": slot_id,
            "start": slot["start"].isoformat(),
            "end": slot["end"].isoformat(),
            "capacity": changes.get("capacity", slot["capacity"]),
        }

    def update(self, actor, session_id, items, *, put, alias, expect, code=None):
        url = f"/api/sessions/{session_id}/update/" if alias else f"/api/sessions/{session_id}/"
        body = {"time_slots": items}
        if put:
            body |= {"title": self.sessions[session_id]["title"], "category": "yoga"}
        return self.call(actor, "put" if put else "patch", url, body, expect=expect, code=code)

    def register(self, role: str) -> int:
        email = f"{role}{self.next_serial()}@example.com"
        body = {"email": email, "password": PASSWORD, "name": email, "role": role}
        response = self.call(None, "post", "/api/register/", body, expect=201)
        data = response.json()
        assert data["user"]["role"] == role
        self.tokens[data["user"]["id"]] = data["access"]
        return data["user"]["id"]
