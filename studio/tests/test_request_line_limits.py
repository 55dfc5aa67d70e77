"""Long request lines: a query string over the API's limit, and a request line
or headers over gunicorn's, answer in the problem shape and change nothing."""

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.test import SimpleTestCase
from rest_framework.test import APITestCase

from accounts.models import User
from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings.models import Booking
from bookings.tests.factories import make_slot
from core.middleware import QUERY_STRING_LIMIT
from sessions_app.models import Session
from studio.gunicorn_workers import refusal

PROJECT = Path(__file__).resolve().parents[2]
PROBLEM_KEYS = {"type", "title", "status", "code", "detail"}
QUERY_DETAIL = "The query string is too long; it may be at most 4096 characters."
LINE_DETAIL = "The request line is too long; it may be at most 8190 bytes."


def padded(path: str, length: int) -> str:
    """`path` with a query string of exactly `length` characters."""
    return f"{path}?pad={'x' * (length - len('pad='))}"


class QueryStringLimitTests(APITestCase):
    def assert_uri_too_long(self, response) -> None:
        self.assertEqual(response.status_code, 414, response.content[:300])
        self.assertRegex(response["Content-Type"], r"^application/(problem\+)?json")
        body = response.json()
        self.assertEqual(set(body), PROBLEM_KEYS)
        self.assertEqual(
            body,
            {
                "type": "about:blank",
                "title": "Request-URI Too Long",
                "status": 414,
                "code": "uri_too_long",
                "detail": QUERY_DETAIL,
            },
        )

    def test_limit_is_four_kibibytes(self):
        self.assertEqual(QUERY_STRING_LIMIT, 4096)

    def test_long_query_string_on_lists_answers_414(self):
        self.client.force_authenticate(InstructorFactory())
        for path in ["/api/sessions/instructor/", "/api/sessions/", "/api/public/sessions/"]:
            with self.subTest(path=path):
                response = self.client.get(padded(path, QUERY_STRING_LIMIT + 1))
                self.assert_uri_too_long(response)

    def test_query_string_at_the_limit_is_served(self):
        response = self.client.get(padded("/api/public/sessions/", QUERY_STRING_LIMIT))
        self.assertEqual(response.status_code, 200, response.content[:300])

    def test_long_query_string_is_measured_as_sent(self):
        # 700 characters, 4200 once percent-encoded as UTF-8.
        response = self.client.get("/api/public/sessions/", {"search": "é" * 700})
        self.assert_uri_too_long(response)

    def test_booking_with_a_long_query_string_answers_414_and_books_nothing(self):
        slot = make_slot()
        self.client.force_authenticate(ClientFactory())
        response = self.client.post(
            padded("/api/bookings/", 5000), {"time_slot": slot.pk}, format="json"
        )
        self.assert_uri_too_long(response)
        self.assertFalse(Booking.objects.exists())
        slot.refresh_from_db()
        self.assertEqual(slot.booked, 0)

    def test_writes_with_a_long_query_string_change_nothing(self):
        self.client.force_authenticate(InstructorFactory())
        session = {
            "title": "Yoga",
            "category": "yoga",
            "time_slots": [{"start": "2031-01-10T07:00", "end": "2031-01-10T08:00", "capacity": 5}],
        }
        response = self.client.post(padded("/api/sessions/", 5000), session, format="json")
        self.assert_uri_too_long(response)
        self.assertFalse(Session.objects.exists())
        self.client.force_authenticate(None)
        registration = {
            "email": "new@client.example",
            "password": "sturdy-Pass-123",
            "name": "New",
            "role": "client",
        }
        response = self.client.post(padded("/api/register/", 5000), registration, format="json")
        self.assert_uri_too_long(response)
        self.assertFalse(User.objects.filter(email="new@client.example").exists())

    def test_query_string_is_checked_before_the_viewing_zone_is_read(self):
        path = "/api/public/sessions/?tz=Mars/Base&pad=" + "x" * QUERY_STRING_LIMIT
        self.assert_uri_too_long(self.client.get(path))

    def test_refusal_carries_the_security_headers(self):
        response = self.client.get(padded("/api/public/sessions/", 5000))
        self.assertEqual(response.headers.get("X-Content-Type-Options"), "nosniff")
        self.assertEqual(response.headers.get("X-Frame-Options"), "DENY")

    def test_pages_outside_the_api_are_not_limited_here(self):
        response = self.client.get(padded("/admin/login/", 5000))
        self.assertEqual(response.status_code, 200)


class GunicornRefusalTests(SimpleTestCase):
    def test_every_status_gunicorn_refuses_with_has_a_problem_class(self):
        # The statuses gunicorn.workers.base.Worker.handle_error answers.
        for status in [400, 403, 414, 417, 431, 500, 501]:
            with self.subTest(status=status):
                error = refusal(status, 8190)
                self.assertIsNotNone(error)
                self.assertEqual(error.status, status)
                self.assertEqual(error.body()["status"], status)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(**env: str):
    """The production server (gunicorn with gunicorn.conf.py, one worker,
    debug off) in its own process; yields its port. Nothing here needs a
    database: every request is refused before a view runs."""
    port = free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "STUDIO_", "GUNICORN_"))
        and key not in {"DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY"}
    }
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryFile("w+") as log:
        environment.update(
            DJANGO_SETTINGS_MODULE="studio.settings",
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY="request-line-test-" + "Vb8Nq3Lx6Tz1Rk5Hw9Jc2Mf7Pd4Gs0Ya" * 2,
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            STUDIO_JWT_SIGNING_KEY=settings.SIMPLE_JWT["SIGNING_KEY"],
            DATABASE_URL=f"sqlite:///{folder}/unused.sqlite3",
            GUNICORN_BIND=f"127.0.0.1:{port}",
            WEB_CONCURRENCY="1",
            **env,
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
            cwd=PROJECT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise AssertionError(f"gunicorn did not start:\n{log.read()}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        log.seek(0)
        output = log.read()
        if "Traceback" in output:
            raise AssertionError(f"gunicorn logged a traceback:\n{output}")


def get(port: int, path: str, headers: dict[str, str] | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        conn.close()


def send_raw(port: int, request: bytes):
    """Sends bytes as they are; returns the status, content type and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.getheader("Content-Type", ""), response.read()


class ServerRequestLineTests(SimpleTestCase):
    def assert_problem(self, answer, status: int, code: str, detail: str | None = None) -> None:
        got_status, content_type, body = answer
        self.assertEqual(got_status, status, body[:300])
        self.assertIn("json", content_type)
        problem = json.loads(body)
        self.assertEqual(set(problem), PROBLEM_KEYS)
        self.assertEqual((problem["status"], problem["code"]), (status, code))
        self.assertEqual(problem["type"], "about:blank")
        if detail is not None:
            self.assertEqual(problem["detail"], detail)

    def test_long_request_lines_answer_the_problem_shape(self):
        with gunicorn() as port:
            # Over the API's limit, under gunicorn's: the application answers.
            answer = get(port, padded("/api/sessions/instructor/", 5000))
            self.assert_problem(answer, 414, "uri_too_long", QUERY_DETAIL)
            # Over gunicorn's limit: the worker answers in the same shape.
            answer = get(port, padded("/api/sessions/instructor/", 9000))
            self.assert_problem(answer, 414, "uri_too_long", LINE_DETAIL)
            answer = get(port, "/api/" + "p" * 9000 + "/")
            self.assert_problem(answer, 414, "uri_too_long")
            # What gunicorn refuses for its headers, or cannot parse at all.
            many = {f"X-Header-{n}": "v" for n in range(150)}
            self.assert_problem(get(port, "/api/health/", many), 431, "request_headers_too_large")
            large = {"X-Large": "v" * 9000}
            self.assert_problem(get(port, "/api/health/", large), 431, "request_headers_too_large")
            answer = send_raw(port, b"BR@KEN /api/health/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            self.assert_problem(answer, 400, "bad_request")
            # The worker still serves ordinary requests.
            self.assertEqual(get(port, "/api/schema/")[0], 200)

    def test_threaded_workers_answer_the_problem_shape_too(self):
        with gunicorn(GUNICORN_THREADS="2") as port:
            answer = get(port, padded("/api/public/sessions/", 9000))
            self.assert_problem(answer, 414, "uri_too_long", LINE_DETAIL)
            answer = get(port, padded("/api/public/sessions/", 5000))
            self.assert_problem(answer, 414, "uri_too_long", QUERY_DETAIL)
