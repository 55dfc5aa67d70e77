"""Faults: a database that goes away, and comes back.

The outage tests run the production server (gunicorn with gunicorn.conf.py,
debug off) in its own process, with its own environment, against a database
address that refuses connections, or behind a TCP proxy the test switches off
and on.
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import connection
from django.test import TestCase, TransactionTestCase
from django.utils.timezone import now
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings.models import Booking
from bookings.tests.factories import make_slot
from testing.problems import PROBLEM_KEYS

PROJECT = Path(__file__).resolve().parents[2]


SERVER_SECRET = "fault-test-" + "Qm7Zt2Xc9Lp4Rv8Nw3Hb6Jd1Kf5Gs0Ty" * 2


STARTUP_SECONDS = 30


REQUEST_SECONDS = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Server:
    """The studio API in its own process: gunicorn with gunicorn.conf.py (one
    sync worker), or Django's development server.

    Its environment is built from scratch: nothing of the test settings
    leaks in, debug is off, and its JWT signing key is the suite's, so
    tokens minted here are good there."""

    def __init__(
        self, database_url: str, *, development: bool = False, env: dict[str, str] | None = None
    ):
        self.port = free_port()
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by running_server)
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "STUDIO_", "GUNICORN_"))
            and key not in {"DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY"}
        }
        environment.update(
            DJANGO_SETTINGS_MODULE="studio.settings",
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY=SERVER_SECRET,
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            STUDIO_JWT_SIGNING_KEY=settings.SIMPLE_JWT["SIGNING_KEY"],
            DATABASE_URL=database_url,
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
            WEB_CONCURRENCY="1",
        )
        environment.update(env or {})
        if development:
            command = ["manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"]
        else:
            command = ["-m", "gunicorn", "-c", "gunicorn.conf.py"]
        self.process = subprocess.Popen(
            [sys.executable, *command],
            cwd=PROJECT,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_until_listening(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server stopped at start-up:\n{self.output()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"the server did not listen within {STARTUP_SECONDS} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        sent = dict(headers or {})
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        if form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if token:
            sent["Authorization"] = f"Bearer {token}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_SECONDS)
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            return Answer(
                response.status,
                {name.lower(): value for name, value in response.getheaders()},
                response.read(),
            )
        finally:
            conn.close()


@contextmanager
def running_server(database_url: str, **options):
    server = Server(database_url, **options)
    try:
        server.wait_until_listening()
        yield server
    finally:
        server.stop()
        server.log.close()


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the database, and can play an outage.

    `cut()` severs every open connection and refuses new ones (each is
    accepted and closed at once, as a database that went away); `restore()`
    forwards again."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.forwarding = threading.Event()
        self.forwarding.set()
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []
        self.threads: list[threading.Thread] = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _address = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.forwarding.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            with self.lock:
                self.sockets += [client, upstream]
            for source, sink in [(client, upstream), (upstream, client)]:
                pump = threading.Thread(target=self._pump, args=(source, sink), daemon=True)
                self.threads.append(pump)
                pump.start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.forwarding.clear()
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self) -> None:
        self.forwarding.set()

    def close(self) -> None:
        self.stopped.set()
        self.cut()
        self.acceptor.join(5)
        self.listener.close()
        for thread in self.threads:
            thread.join(5)


class ProblemAssertions:
    def assert_unavailable(self, answer: Answer, label: str) -> None:
        """A 503 service_unavailable problem with Retry-After, and nothing else."""
        self.assertEqual(answer.status, 503, f"{label}: {answer.body[:300]!r}")
        self.assertIn("json", answer.headers.get("content-type", ""), label)
        body = answer.json()
        self.assertEqual(set(body), PROBLEM_KEYS, label)
        self.assertEqual((body["status"], body["code"]), (503, "service_unavailable"), label)
        self.assertEqual(body["type"], "about:blank", label)
        self.assertEqual(body["title"], "Service Unavailable", label)
        self.assertGreater(int(answer.headers.get("retry-after", "0")), 0, label)
        for leak in ("Traceback", "psycopg", "127.0.0.1", "connection"):
            self.assertNotIn(leak, answer.body.decode(), label)


def admin_login_form(server: Server) -> tuple[str, dict[str, str]]:
    """The admin's CSRF cookie and a login form carrying its token."""
    page = server.request("GET", "/admin/login/")
    cookie = page.headers["set-cookie"].split(";")[0]
    marker = 'name="csrfmiddlewaretoken" value="'
    html = page.body.decode()
    start = html.index(marker) + len(marker)
    token = html[start : html.index('"', start)]
    return cookie, {"csrfmiddlewaretoken": token, "username": "a@b.example", "password": "x"}


class DatabaseUnreachableTests(ProblemAssertions, TestCase):
    """The server starts and answers with no database at all behind it."""

    def test_every_request_that_needs_the_database_answers_503_and_the_rest_still_work(self):
        client = ClientFactory()
        instructor = InstructorFactory()
        access = str(AccessToken.for_user(client))
        refresh = str(RefreshToken.for_user(client))
        teacher = str(AccessToken.for_user(instructor))
        slot = {"start": "2031-01-10T07:00", "end": "2031-01-10T08:00", "capacity": 5}
        session = {"title": "Yoga", "category": "yoga", "time_slots": [slot]}
        password = "sturdy-Pass-123"
        needs_database = [
            ("GET", "/api/health/", None, None),
            (
                "POST",
                "/api/register/",
                None,
                {"email": "new@example.com", "password": password, "name": "New", "role": "client"},
            ),
            ("POST", "/api/login/", None, {"email": client.email, "password": password}),
            ("POST", "/api/refresh-token/", None, {"refresh": refresh}),
            ("POST", "/api/logout/", access, {"refresh": refresh}),
            ("GET", "/api/me/", access, None),
            ("PATCH", "/api/me/", access, {"name": "Renamed"}),
            (
                "POST",
                "/api/password/change/",
                access,
                {"old_password": password, "new_password": "other-Pass-456"},
            ),
            ("POST", "/api/password/reset/", None, {"email": client.email}),
            (
                "POST",
                "/api/password/reset/confirm/",
                None,
                {"uid": "MQ", "token": "abc-def", "new_password": "other-Pass-456"},
            ),
            ("GET", "/api/public/sessions/", None, None),
            ("GET", "/api/public/sessions/?category=yoga&available=true", None, None),
            ("GET", "/api/public/sessions/1/", None, None),
            ("GET", "/api/sessions/", teacher, None),
            ("GET", "/api/sessions/instructor/", teacher, None),
            ("POST", "/api/sessions/", teacher, session),
            ("POST", "/api/sessions/create/", teacher, session),
            ("GET", "/api/sessions/1/", teacher, None),
            ("PATCH", "/api/sessions/1/", teacher, {"title": "Renamed"}),
            ("PUT", "/api/sessions/1/update/", teacher, session),
            ("DELETE", "/api/sessions/1/", teacher, None),
            ("DELETE", "/api/sessions/1/delete/", teacher, None),
            ("GET", "/api/bookings/", access, None),
            ("GET", "/api/bookings/?when=upcoming", access, None),
            ("POST", "/api/bookings/", access, {"time_slot": 1}),
            ("GET", "/api/bookings/1/", access, None),
            ("POST", "/api/bookings/1/cancel/", access, None),
            ("DELETE", "/api/bookings/1/", access, None),
        ]
        with running_server(f"postgres://studio:secret@127.0.0.1:{free_port()}/studio") as server:
            for method, path, token, body in needs_database:
                with self.subTest(method=method, path=path):
                    answer = server.request(method, path, token=token, json_body=body)
                    self.assert_unavailable(answer, f"{method} {path}")

            # The admin loads the session and the user before any view runs.
            session_cookie = {"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"}
            for path in ["/admin/", "/admin/bookings/booking/", "/admin/sessions_app/session/1/"]:
                with self.subTest(path=path):
                    answer = server.request("GET", path, headers=session_cookie)
                    self.assert_unavailable(answer, f"GET {path} signed in")
            cookie, form = admin_login_form(server)
            answer = server.request("POST", "/admin/login/", form=form, headers={"Cookie": cookie})
            self.assert_unavailable(answer, "POST /admin/login/")

            # What needs no database keeps working.
            expected = [
                ("/api/schema/", 200),
                ("/api/docs/", 200),
                ("/admin/login/", 200),
                ("/admin/", 302),
                ("/api/me/", 401),
                ("/api/no-such-endpoint/", 404),
            ]
            for path, status in expected:
                with self.subTest(path=path):
                    self.assertEqual(server.request("GET", path).status, status, path)
            answer = server.request("GET", "/api/me/", token="not-a-token")
            self.assertEqual(answer.json()["code"], "token_not_valid")

            server.stop()
            log = server.output()
        self.assertNotIn("Traceback", log)
        self.assertIn("WARNING studio.", log)

    def test_development_server_starts_and_answers_503_without_a_database(self):
        token = str(AccessToken.for_user(ClientFactory()))
        url = f"postgres://studio:secret@127.0.0.1:{free_port()}/studio"
        with running_server(url, development=True) as server:
            self.assert_unavailable(server.request("GET", "/api/health/"), "health")
            answer = server.request("GET", "/api/bookings/", token=token)
            self.assert_unavailable(answer, "bookings")
            session_cookie = {"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"}
            answer = server.request("GET", "/admin/", headers=session_cookie)
            self.assert_unavailable(answer, "admin")
            self.assertEqual(server.request("GET", "/api/schema/").status, 200)
            server.stop()
            log = server.output()
        self.assertIn("migrations were not checked", log)
        self.assertNotIn("Traceback", log)

    def test_a_database_that_never_answers_is_a_503_after_the_connect_timeout(self):
        # A listening socket that is never accepted: the handshake completes
        # in the backlog and then nothing ever answers.
        with socket.create_server(("127.0.0.1", 0), backlog=16) as silent:
            url = f"postgres://studio:secret@127.0.0.1:{silent.getsockname()[1]}/studio"
            options = {"env": {"STUDIO_DB_CONNECT_TIMEOUT_S": "2"}}
            with running_server(url, **options) as server:
                answer = server.request("GET", "/api/health/")
                self.assert_unavailable(answer, "health")
                answer = server.request("GET", "/api/public/sessions/")
                self.assert_unavailable(answer, "public sessions")


@unittest.skipUnless(connection.vendor == "postgresql", "a TCP proxy to PostgreSQL")
class DatabaseRecoveryTests(ProblemAssertions, TransactionTestCase):
    """One server process rides out an outage of its database."""

    def database_url(self, port: int) -> str:
        db = connection.settings_dict
        user = quote(db["USER"] or "", safe="")
        password = quote(db["PASSWORD"] or "", safe="")
        return f"postgres://{user}:{password}@127.0.0.1:{port}/{quote(db['NAME'], safe='')}"

    def test_server_answers_503_while_the_database_is_down_and_recovers_without_restart(self):
        db = connection.settings_dict
        proxy = TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
        self.addCleanup(proxy.close)
        client = ClientFactory(name="Lee")
        first, second = make_slot(), make_slot(start=now() + timedelta(days=2))
        token = str(AccessToken.for_user(client))

        with running_server(self.database_url(proxy.port)) as server:
            self.assertEqual(server.request("GET", "/api/health/").status, 200, server.output())
            self.assertEqual(server.request("GET", "/api/me/", token=token).json()["name"], "Lee")
            answer = server.request(
                "POST", "/api/bookings/", token=token, json_body={"time_slot": first.pk}
            )
            self.assertEqual(answer.status, 201, answer.body)

            proxy.cut()
            for round_ in range(2):
                for method, path, body in [
                    ("GET", "/api/health/", None),
                    ("GET", "/api/me/", None),
                    ("GET", "/api/public/sessions/", None),
                    ("POST", "/api/bookings/", {"time_slot": second.pk}),
                ]:
                    with self.subTest(round=round_, path=path):
                        answer = server.request(method, path, token=token, json_body=body)
                        self.assert_unavailable(answer, f"{method} {path} (outage)")
            self.assertFalse(Booking.objects.filter(time_slot=second).exists())

            proxy.restore()
            self.assertEqual(server.request("GET", "/api/health/").json()["database"], "ok")
            self.assertEqual(server.request("GET", "/api/me/", token=token).status, 200)
            answer = server.request(
                "POST", "/api/bookings/", token=token, json_body={"time_slot": second.pk}
            )
            self.assertEqual(answer.status, 201, answer.body)
            self.assertEqual(server.request("GET", "/api/public/sessions/").status, 200)

            self.assertIsNone(server.process.poll(), "the server stopped")
            server.stop()
            log = server.output()
        self.assertEqual(log.count("Booting worker"), 1, log)
        self.assertNotIn("Traceback", log)
        self.assertEqual(Booking.objects.filter(client=client).count(), 2)
        second.refresh_from_db()
        self.assertEqual(second.booked, 1)
