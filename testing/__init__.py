"""Support shared by the test suites of every app; not a test module itself.

Test modules never import each other: whatever more than one of them needs
lives here (or, for building rows, in an app's `tests/factories.py`).

- `sign_in(client, user)`: an APIClient that sends `user`'s access token.
- `assert_problem(test, response, status, code)`: the one check of an error
  answer against the contract's problem-details body (API.md "Errors").
- `book(slot, client=None)`, `book_and_cancel(slot, client=None)`: bookings made
  through the booking services, so the slot's `booked` counter stays equal to
  its confirmed bookings; `wait(slot, client=None)`: a waitlisted booking, with
  the slot's `waitlisted` counter kept.
- Then, section by section: studio time and a snapshot of the timetable's
  rows; races between threads; the URLs, keys and base test cases of the
  account, session and booking endpoints and of the session services; the
  admin's base test case and form inputs; start-up runs of the production
  settings in a fresh interpreter.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time as time_module
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from html import unescape
from http import HTTPStatus
from pathlib import Path
from typing import Any
from unittest import TestCase as UnitTestCase
from zoneinfo import ZoneInfo

from django.contrib.admin.models import LogEntry
from django.core.cache import cache
from django.db import connection
from django.db.models import F
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import now
from icalendar import Calendar
from rest_framework import status as http
from rest_framework.test import APIClient, APITestCase

from accounts import services as account_services
from accounts.models import User
from accounts.tests.factories import PASSWORD, ClientFactory
from bookings import services as booking_services
from bookings.models import Booking, BookingStatus
from core.models import ActionLogEntry
from sessions_app.models import Session, TimeSlot

PROJECT = Path(__file__).resolve().parent.parent

# Signing in and the problem body.

PROBLEM_KEYS = frozenset({"type", "title", "status", "code", "detail"})
PROBLEM_CONTENT_TYPE = "application/problem+json"


def sign_in(client: APIClient, user: User | None) -> dict[str, str] | None:
    """Makes `client` send `user`'s access token (`Authorization: Bearer`) from
    now on and returns the user's new token pair; `None` signs out."""
    client.credentials()
    if user is None:
        return None
    pair = account_services.tokens_for(user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    return pair


def assert_problem(test: UnitTestCase, response, status: int, code: str) -> dict[str, Any]:
    """`response` is the contract's problem body for `status` and `code`.

    Checks the HTTP status, the content type `application/problem+json`, exactly the keys `type`,
    `title`, `status`, `code` and `detail` (plus `errors` only when the body
    has it, as a non-empty object), `type` about:blank, `title` the status's
    HTTP phrase, `status` the HTTP status, `detail` one non-empty string, and
    no traceback in the body. Returns the body.
    """
    test.assertEqual(response.status_code, status, response.content[:500])
    test.assertEqual(response["Content-Type"], PROBLEM_CONTENT_TYPE)
    body = response.json()
    test.assertIsInstance(body, dict, body)
    expected_keys = PROBLEM_KEYS | ({"errors"} if "errors" in body else set())
    test.assertEqual(set(body), expected_keys, body)
    test.assertEqual(body["code"], code, body)
    test.assertEqual(body["status"], status, body)
    test.assertEqual(body["type"], "about:blank", body)
    test.assertEqual(body["title"], HTTPStatus(status).phrase, body)
    test.assertIsInstance(body["detail"], str, body)
    test.assertTrue(body["detail"], body)
    if "errors" in body:
        test.assertIsInstance(body["errors"], dict, body)
        test.assertTrue(body["errors"], body)
    test.assertNotIn("Traceback", response.content.decode())
    return body


# Bookings, always through the services.


def book(slot: TimeSlot, client: User | None = None) -> Booking:
    """Books `slot` for `client` (a new client when none is given) through
    `bookings.services.booking_create`, then refreshes `slot` from the database."""
    booking = booking_services.booking_create(
        client=client or ClientFactory(), time_slot_id=slot.pk, by=None
    )
    slot.refresh_from_db()
    return booking


def cancel_slot(slot: TimeSlot) -> int:
    """The studio cancels `slot` through `bookings.services.time_slot_cancel`;
    `slot` is refreshed. Returns how many bookings were cancelled."""
    return booking_services.time_slot_cancel(time_slot=slot, by=None)


def wait(slot: TimeSlot, client: User | None = None) -> Booking:
    """A booking of `client` (a new client when none is given) waiting for a
    seat on `slot`, written as the waitlist keeps it: the row, and the slot's
    `waitlisted` counter one higher; `slot` is refreshed."""
    booking = Booking.objects.create(
        client=client or ClientFactory(),
        time_slot=slot,
        status=BookingStatus.WAITLISTED,
        cancel_before=booking_services.cancel_before(slot),
    )
    TimeSlot.objects.filter(pk=slot.pk).update(waitlisted=F("waitlisted") + 1)
    slot.refresh_from_db()
    return booking


def book_and_cancel(slot: TimeSlot, client: User | None = None) -> Booking:
    """A booking of `slot` made and then cancelled through the services."""
    booking = booking_services.booking_cancel(booking=book(slot, client), by=None)
    slot.refresh_from_db()
    return booking


# Studio time and the timetable's rows.

IST = ZoneInfo("Asia/Kolkata")
NEW_YORK = ZoneInfo("America/New_York")


def studio_today() -> date:
    return now().astimezone(IST).date()


def ist(days: int, hour: int, minute: int = 0) -> datetime:
    """`hour:minute` on the studio's clocks, `days` after the studio's today."""
    return datetime.combine(studio_today() + timedelta(days=days), time(hour, minute), IST)


def hours_from_now(hours: float) -> datetime:
    return now() + timedelta(hours=hours)


def move_into_the_past(slot: TimeSlot) -> TimeSlot:
    """Moves `slot` (bookings and all) to have started two hours ago."""
    start = hours_from_now(-2)
    TimeSlot.objects.filter(pk=slot.pk).update(start=start, end=start + timedelta(hours=1))
    slot.refresh_from_db()
    return slot


def db_state() -> dict:
    """Everything a timetable or booking write can change, the action log and
    the admin's log included, to compare before and after."""
    return {
        "sessions": list(
            Session.objects.order_by("pk").values_list(
                "pk", "instructor_id", "title", "description", "category", "updated_at"
            )
        ),
        "slots": list(
            TimeSlot.objects.order_by("pk").values_list(
                "pk",
                "session_id",
                "start",
                "end",
                "capacity",
                "booked",
                "waitlisted",
                "is_cancelled",
            )
        ),
        "bookings": list(
            Booking.objects.order_by("pk").values_list(
                "pk", "time_slot_id", "status", "late", "attendance"
            )
        ),
        "action_log": ActionLogEntry.objects.count(),
        "admin_log": LogEntry.objects.count(),
    }


# Races between threads, each with its own database connection.

THREAD_TIMEOUT = 30


def race(count: int, work: Callable[[int, threading.Barrier], Any]) -> list[Any]:
    """Runs `work(index, barrier)` in `count` threads and returns what each returned,
    or the exception it raised. Each thread closes its own connection."""
    barrier = threading.Barrier(count, timeout=THREAD_TIMEOUT)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            results[index] = work(index, barrier)
        except BaseException as exc:  # handed to the test, which reports it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
    alive = [thread.name for thread in threads if thread.is_alive()]
    if alive:
        raise AssertionError(f"threads still running after {THREAD_TIMEOUT} s: {alive}")
    return results


# The account endpoints (API.md section 2).

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


class AccountApiTestCase(APITestCase):
    """Clears the cache, so no test inherits another's throttle counts."""

    def setUp(self):
        cache.clear()

    def assert_invalid(self, response, *fields: str) -> dict:
        body = assert_problem(self, response, http.HTTP_400_BAD_REQUEST, "invalid")
        for field in fields:
            self.assertIn(field, body["errors"])
            self.assertIsInstance(body["errors"][field], list)
            self.assertTrue(all(isinstance(m, str) and m for m in body["errors"][field]))
        return body

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


# The session services.


def slot_item(start_hours: float, hours: float = 1, capacity: int = 10, **extra) -> dict:
    """One item of a `time_slots` list that starts `start_hours` from now."""
    start = hours_from_now(start_hours)
    return {"start": start, "end": start + timedelta(hours=hours), "capacity": capacity, **extra}


class SessionServiceTestCase(TestCase):
    def assert_slot_errors(self, raised, expected_keys: list[set[str]]) -> list:
        """The error of `raised` nests one dict per item, with these keys."""
        errors = raised.exception.errors
        self.assertEqual(raised.exception.code, "invalid")
        self.assertEqual(set(errors), {"time_slots"})
        items = errors["time_slots"]
        self.assertEqual([set(item) for item in items], expected_keys, items)
        for item in items:
            for messages in item.values():
                self.assertTrue(messages)
                self.assertTrue(all(isinstance(m, str) and m for m in messages))
        return items


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


def slot_body(start: datetime, hours: float = 1, capacity: int = 10, **extra) -> dict:
    end = start + timedelta(hours=hours)
    return {"start": start.isoformat(), "end": end.isoformat(), "capacity": capacity, **extra}


def listed(slot: TimeSlot, **changes) -> dict:
    """`slot` as an item of an update's `time_slots` list, in JSON."""
    item = {
        "id": slot.pk,
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "capacity": slot.capacity,
    }
    item.update(changes)
    return item


class SessionApiTestCase(APITestCase):
    """Starts each test with an empty cache and reads the errors of 400 answers."""

    def setUp(self):
        cache.clear()

    def assert_invalid(self, response) -> dict:
        """The errors of a 400 `invalid` answer."""
        return assert_problem(self, response, http.HTTP_400_BAD_REQUEST, "invalid")["errors"]

    def assert_messages(self, messages) -> None:
        self.assertIsInstance(messages, list)
        self.assertTrue(messages)
        self.assertTrue(all(isinstance(m, str) and m for m in messages), messages)

    def assert_slot_errors(self, errors: dict, expected_keys: list[set[str]]) -> list:
        """`errors` has only `time_slots`, one dict per item with these keys."""
        self.assertEqual(set(errors), {"time_slots"}, errors)
        items = errors["time_slots"]
        self.assertIsInstance(items, list)
        self.assertEqual([set(item) for item in items], expected_keys, items)
        for item in items:
            for messages in item.values():
                self.assert_messages(messages)
        return items


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


def from_iso(value: str) -> datetime:
    return datetime.fromisoformat(value)


class BookingApiTestCase(APITestCase):
    def setUp(self):
        self.me = ClientFactory()
        sign_in(self.client, self.me)

    def assert_invalid(self, response, field: str) -> dict:
        body = assert_problem(self, response, http.HTTP_400_BAD_REQUEST, "invalid")
        self.assertIn(field, body["errors"], body)
        self.assertIsInstance(body["errors"][field], list)
        self.assertTrue(all(isinstance(m, str) and m for m in body["errors"][field]))
        return body

    def post_booking(self, slot_id, **extra):
        return self.client.post(BOOKINGS, {"time_slot": slot_id}, format="json", **extra)

    def ids(self, response) -> list[int]:
        self.assertEqual(response.status_code, http.HTTP_200_OK, response.content)
        return [item["id"] for item in response.json()["results"]]

    def state(self) -> tuple:
        bookings = tuple(Booking.objects.order_by("pk").values_list("pk", "status", "cancelled_at"))
        counters = tuple(TimeSlot.objects.order_by("pk").values_list("pk", "booked"))
        return bookings, counters


# The admin, used by a superuser.


def column(response, name: str) -> list[str]:
    """The text of changelist column `name`, row by row."""
    cells = re.findall(
        rf'<t[dh] class="field-{name}(?: [^"]*)?">(.*?)</t[dh]>', response.content.decode(), re.S
    )
    return [unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]


def shown(value: datetime) -> str:
    """How the admin writes the instant `value` on the studio's clocks."""
    return date_format(value.astimezone(IST), "DATETIME_FORMAT")


class AdminTestCase(TestCase):
    def setUp(self):
        self.superuser = User.objects.create_superuser(
            email="boss@example.com", password=PASSWORD, name="Boss"
        )
        self.client.force_login(self.superuser)

    def listed(self, response) -> set[int]:
        self.assertEqual(response.status_code, 200)
        return {obj.pk for obj in response.context["cl"].result_list}

    def assert_queries_do_not_grow(
        self,
        url: str,
        add_row: Callable[[], object],
        rows: Callable[[object], int] = lambda response: response.context["cl"].result_count,
        *,
        few: int = 2,
        many: int = 20,
    ) -> None:
        """The page at `url` costs as many queries with `many` rows as with `few`."""
        for _ in range(few):
            add_row()
        self.client.get(url)  # the first load fills per-process caches
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(rows(response), few)
        for _ in range(many - few):
            add_row()
        with self.assertNumQueries(len(queries)):
            response = self.client.get(url)
        self.assertEqual(rows(response), many)


# The admin's change lists and forms of sessions and time slots.

SESSIONS_URL = "/admin/sessions_app/session/"
SLOTS_URL = "/admin/sessions_app/timeslot/"
# Each change form holds the object's read-only action log, an empty formset when posted.
ACTION_LOG_FORMS = {
    "core-actionlogentry-content_type-object_id-TOTAL_FORMS": "0",
    "core-actionlogentry-content_type-object_id-INITIAL_FORMS": "0",
}


def admin_inputs(value: datetime, prefix: str) -> dict[str, str]:
    """The admin's date and time inputs for `value`, on the studio's clocks."""
    local = value.astimezone(IST)
    return {f"{prefix}_0": local.date().isoformat(), f"{prefix}_1": local.strftime("%H:%M:%S")}


# Admin forms as a browser posts them, for tests that drive the admin and the API.


def staff_browser(staff: User) -> Client:
    browser = Client()
    browser.force_login(staff)
    return browser


def api_client(user: User) -> APIClient:
    """An API client signed in as `user`."""
    client = APIClient()
    sign_in(client, user)
    return client


def slot_json(start: datetime, end: datetime | None = None, capacity: int = 10, **extra) -> dict:
    end = end or start + timedelta(hours=1)
    return {"start": start.isoformat(), "end": end.isoformat(), "capacity": capacity, **extra}


def listed_json(slot: TimeSlot, **changes) -> dict:
    return {**slot_json(slot.start, slot.end, slot.capacity, id=slot.pk), **changes}


def inline_row(
    index: int, start: datetime, end: datetime, capacity: int, slot: TimeSlot | None = None
) -> dict[str, str]:
    prefix = f"time_slots-{index}"
    data = {
        **admin_inputs(start, f"{prefix}-start"),
        **admin_inputs(end, f"{prefix}-end"),
        f"{prefix}-capacity": str(capacity),
    }
    if slot is not None:
        data.update({f"{prefix}-id": str(slot.pk), f"{prefix}-session": str(slot.session_id)})
    return data


def session_form(
    *,
    instructor: User,
    rows: list[dict[str, str]],
    initial: int = 0,
    title: str = "Admin Yoga",
    description: str = "",
    category: str = "yoga",
) -> dict[str, str]:
    """The session's add or change form with `rows` (from `inline_row`) as
    its inline slots, the first `initial` of them existing slots."""
    data = {
        "instructor": str(instructor.pk),
        "title": title,
        "description": description,
        "category": category,
        "time_slots-TOTAL_FORMS": str(len(rows)),
        "time_slots-INITIAL_FORMS": str(initial),
        "time_slots-MIN_NUM_FORMS": "0",
        "time_slots-MAX_NUM_FORMS": "1000",
        **ACTION_LOG_FORMS,
    }
    for row in rows:
        data.update(row)
    return data


def existing_rows(slots: list[TimeSlot]) -> list[dict[str, str]]:
    """The inline rows of `slots` as the change page shows them."""
    return [
        inline_row(index, slot.start, slot.end, slot.capacity, slot)
        for index, slot in enumerate(slots)
    ]


def slot_form(
    start: datetime, end: datetime, capacity: int, session: Session | None = None
) -> dict[str, str]:
    """The time slot's own add (with `session`) or change form."""
    data = {**admin_inputs(start, "start"), **admin_inputs(end, "end"), "capacity": str(capacity)}
    if session is not None:
        data["session"] = str(session.pk)
    return {**data, **ACTION_LOG_FORMS}


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# Start-up configuration, in a fresh interpreter with a chosen environment.

STRONG_KEY = "k3y-" + "x7Qp9Lm2Vr8Tz4Wn6Yb1Hd5Fj0Gs3Kc" * 2
JWT_KEY = "jwt-" + "Vr8Tz4Wn6Yb1Hd5Fj0Gs3Kcx7Qp9Lm2" * 2
PRODUCTION_KEYS = {"DJANGO_SECRET_KEY": STRONG_KEY, "STUDIO_JWT_SIGNING_KEY": JWT_KEY}
SETUP = "import django; django.setup(); from django.conf import settings; "


def own_environment(**env: str) -> dict[str, str]:
    """This process's environment without the project's settings (DJANGO_*,
    STUDIO_*, DATABASE_URL, REDIS_URL), with `env` added: for a process of the
    project's own that must see only what the test gives it."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "STUDIO_")) and key not in {"DATABASE_URL", "REDIS_URL"}
    }
    return {**base, **env}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(name: str | None = None) -> str:
    """The suite's database (or the database `name` on its PostgreSQL
    server) as a DATABASE_URL, for a process of the project's own."""
    options = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{options['NAME']}"
    password = f":{options['PASSWORD']}" if options["PASSWORD"] else ""
    return (
        f"postgres://{options['USER']}{password}@{options['HOST']}:{options['PORT']}/"
        f"{name or options['NAME']}"
    )


class BackgroundProcess:
    """A command of the project's running beside the test, in a process
    group of its own, its output kept in a temporary file."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def kill(self) -> None:
        """SIGKILL to the whole group: no cleanup, as when a machine dies."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


class ServedApi(BackgroundProcess):
    """A server of the project's (gunicorn, the development server) on
    127.0.0.1:`port`, with a small JSON client for it."""

    def __init__(self, command: list[str], env: dict[str, str], port: int) -> None:
        self.port = port
        super().__init__(command, env)

    def call(self, method: str, path: str, body=None, token: str | None = None):
        """(status, decoded JSON body) of one request."""
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def wait_until_serving(self, seconds: float = 60) -> None:
        deadline = time_module.monotonic() + seconds
        while time_module.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"The server stopped:\n{self.output()}")
            try:
                if self.call("GET", "/api/health/")[0] == 200:
                    return
            except OSError:
                pass
            time_module.sleep(0.2)
        raise AssertionError(f"The server did not serve within {seconds} s:\n{self.output()}")


def run(code_or_args, **env):
    """Python code (or arguments) run in a fresh interpreter under the production
    settings, studio.settings, with none of the suite's DJANGO_/STUDIO_ variables,
    DATABASE_URL or REDIS_URL: only `env`."""
    base = own_environment(DJANGO_SETTINGS_MODULE="studio.settings", **env)
    args = code_or_args if isinstance(code_or_args, list) else ["-c", code_or_args]
    return subprocess.run(
        [sys.executable, *args], cwd=PROJECT, env=base, capture_output=True, text=True, timeout=120
    )


# Calendar feeds (API.md section 10).

CALENDAR_CONTENT_TYPE = "text/calendar; charset=utf-8"


def calendar_events(test: UnitTestCase, response) -> dict[str, Any]:
    """The VEVENTs of a calendar answer, by UID, parsed with
    `icalendar.Calendar.from_ical`, after checking the answer is a 200
    calendar file whose events each have their own UID."""
    test.assertEqual(response.status_code, 200, response.content[:500])
    test.assertEqual(response["Content-Type"], CALENDAR_CONTENT_TYPE)
    calendar = Calendar.from_ical(response.content)
    events: dict[str, Any] = {}
    for event in calendar.walk("VEVENT"):
        uid = str(event["UID"])
        test.assertNotIn(uid, events, "two events of a calendar share a UID")
        events[uid] = event
    return events


def utc_instant(test: UnitTestCase, event, name: str) -> datetime:
    """The instant of the date-time property `name` of `event`, after checking
    it is written in UTC (`...Z`)."""
    test.assertTrue(event[name].to_ical().endswith(b"Z"), event[name].to_ical())
    return event.decoded(name)


def to_the_second(value: datetime) -> datetime:
    """`value` without its microseconds, as a calendar file writes it."""
    return value.replace(microsecond=0)
