"""Signing in, and the URLs, keys and base test cases of the account, session
and booking endpoints (API.md sections 2 to 4)."""

from datetime import datetime, timedelta

from django.core.cache import cache
from django.urls import reverse
from rest_framework import status as http
from rest_framework.test import APIClient, APITestCase
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services as account_services
from accounts.models import Role, User
from bookings.models import Booking
from sessions_app.models import TimeSlot
from testing.problems import ProblemAssertions, assert_problem


def sign_in(client: APIClient, user: User | None) -> dict[str, str] | None:
    """Makes `client` send `user`'s access token (`Authorization: Bearer`) from
    now on and returns the user's new token pair; `None` signs out."""
    client.credentials()
    if user is None:
        return None
    pair = account_services.tokens_for(user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    return pair


def is_revoked(raw_refresh: str) -> bool:
    """Whether the refresh token `raw_refresh` is on the blacklist."""
    jti = RefreshToken(raw_refresh, verify=False)["jti"]
    return BlacklistedToken.objects.filter(token__jti=jti).exists()


def api_client(user: User) -> APIClient:
    """An API client signed in as `user`."""
    client = APIClient()
    sign_in(client, user)
    return client


def from_iso(value: str) -> datetime:
    return datetime.fromisoformat(value)


# The account endpoints (API.md section 2).

PASSWORD = "sturdy-Pass-123"
"""The password every user the tests make signs in with (the accounts'
factories set it too)."""
NEW_PASSWORD = "fresh-Word-456"
USER_KEYS = {"id", "email", "name", "role", "timezone", "email_reminders"}
REGISTER = reverse("register")
LOGIN = reverse("login")
REFRESH = reverse("refresh-token")
LOGOUT = reverse("logout")
ME = reverse("me")
PASSWORD_CHANGE = reverse("password-change")
PASSWORD_RESET = reverse("password-reset")
PASSWORD_RESET_CONFIRM = reverse("password-reset-confirm")


class AccountApiTestCase(ProblemAssertions, APITestCase):
    """Clears the cache, so no test inherits another's throttle counts."""

    def setUp(self):
        cache.clear()

    def assert_token_refused(self, refresh: str) -> None:
        response = self.client.post(REFRESH, {"refresh": refresh})
        assert_problem(self, response, http.HTTP_401_UNAUTHORIZED, "token_not_valid")

    def login(self, email: str, password: str):
        return self.client.post(LOGIN, {"email": email, "password": password})


def register_body(**overrides) -> dict:
    body = {
        "email": "ana@example.com",
        "password": PASSWORD,
        "name": "Ana",
        "role": "client",
    }
    body.update(overrides)
    return body


# The session endpoints (API.md section 3).

SESSION_KEYS = {
    "id",
    "title",
    "description",
    "category",
    "instructor",
    "time_slots",
    "recurrence",
    "created_at",
    "updated_at",
}
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
    "waitlisted",
}
OWNER_SLOT_KEYS = SLOT_KEYS | {"bookings"}
SLOT_BOOKING_KEYS = {"id", "status", "created_at", "client", "attendance"}
PAGE_KEYS = {"count", "next", "previous", "results"}

CREATE = "/api/sessions/create/"
SESSIONS = "/api/sessions/"
INSTRUCTOR_LIST = "/api/sessions/instructor/"
PUBLIC = "/api/public/sessions/"


def detail_url(pk: int) -> str:
    return f"/api/sessions/{pk}/"


def update_url(pk: int) -> str:
    return f"/api/sessions/{pk}/update/"


def delete_url(pk: int) -> str:
    return f"/api/sessions/{pk}/delete/"


def public_url(pk: int) -> str:
    return f"/api/public/sessions/{pk}/"


def slot_body(
    start: datetime, end: datetime | None = None, *, hours: float = 1, capacity: int = 10, **extra
) -> dict:
    """One item of a `time_slots` list, in JSON: from `start` to `end` (or
    for `hours`)."""
    end = end or start + timedelta(hours=hours)
    return {"start": start.isoformat(), "end": end.isoformat(), "capacity": capacity, **extra}


def listed(slot: TimeSlot, **changes) -> dict:
    """`slot` as an item of an update's `time_slots` list, in JSON."""
    return {**slot_body(slot.start, slot.end, capacity=slot.capacity, id=slot.pk), **changes}


class SessionApiTestCase(ProblemAssertions, APITestCase):
    """Starts each test with an empty cache and reads the errors of 400 answers."""

    def setUp(self):
        cache.clear()


# The booking endpoints (API.md section 4).

BOOKINGS = "/api/bookings/"
BOOKING_KEYS = {
    "id",
    "status",
    "waitlist_position",
    "created_at",
    "cancelled_at",
    "cancel_before",
    "late",
    "attendance",
    "time_slot",
    "session",
}
BOOKING_SESSION_KEYS = {"id", "title", "category", "instructor"}


def booking_url(booking_id: int) -> str:
    return f"{BOOKINGS}{booking_id}/"


def booking_cancel_url(booking_id: int) -> str:
    return f"{BOOKINGS}{booking_id}/cancel/"


class BookingApiTestCase(ProblemAssertions, APITestCase):
    def setUp(self):
        self.me = User.objects.create_user(
            email="me@client.example", password=PASSWORD, name="Me", role=Role.CLIENT
        )
        sign_in(self.client, self.me)

    def post_booking(self, slot_id, **extra):
        return self.client.post(BOOKINGS, {"time_slot": slot_id}, format="json", **extra)

    def ids(self, response) -> list[int]:
        self.assertEqual(response.status_code, http.HTTP_200_OK, response.content)
        return [item["id"] for item in response.json()["results"]]

    def state(self) -> tuple:
        bookings = tuple(Booking.objects.order_by("pk").values_list("pk", "status", "cancelled_at"))
        counters = tuple(TimeSlot.objects.order_by("pk").values_list("pk", "booked"))
        return bookings, counters
