"""The production server and the database outages of the fault tests: the
server in its own process (gunicorn or the development server), a TCP proxy
to the database that can cut it off, and the check of a 503 answer."""

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings

from testing.problems import PROBLEM_KEYS
from testing.processes import PROJECT, free_port

SERVER_SECRET = "fault-test-" + "Qm7Zt2Xc9Lp4Rv8Nw3Hb6Jd1Kf5Gs0Ty" * 2
STARTUP_SECONDS = 30
REQUEST_SECONDS = 20


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


class UnavailableAssertions:
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
