"""Runs of the project's own processes beside the test: start-up under the
production settings in a fresh interpreter, and servers and workers in
process groups of their own."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.db import connection

PROJECT = Path(__file__).resolve().parent.parent


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
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"The server stopped:\n{self.output()}")
            try:
                if self.call("GET", "/api/health/")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
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
