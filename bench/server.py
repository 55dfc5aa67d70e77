"""The server under load and what it runs on: gunicorn with gunicorn.conf.py on
a free port of 127.0.0.1, its environment, the PostgreSQL database and the
Redis cache of a run."""

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from loadclient import Client
from runner import PYTHON, ROOT, VENV_BIN, BenchError, Deadline, run

GUNICORN = str(VENV_BIN / "gunicorn")

# Server environment variables a run sets itself; any others of these
# families in the caller's environment are dropped, so the run is the same
# whatever shell it starts from.
OWN_PREFIXES = ("DJANGO_", "STUDIO_", "GUNICORN_")
OWN_NAMES = ("DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY", "DJANGO_SETTINGS_MODULE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn -c gunicorn.conf.py in its own process group."""

    def __init__(self, env: dict, log_path: Path):
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.port = int(env["GUNICORN_BIND"].rsplit(":", 1)[1])

    def start(self, deadline: Deadline) -> None:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [GUNICORN, "-c", str(ROOT / "gunicorn.conf.py")],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        limit = time.monotonic() + min(60, deadline.left())
        while time.monotonic() < limit:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited at start:\n{self.log_tail()}")
            try:
                status, _ = Client(self.port).request("GET", "/api/health/")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"gunicorn did not answer /api/health/ in time:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """The master's children, read from /proc."""
        if self.process is None:
            return []
        master = self.process.pid
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...; comm may hold spaces, so split after ')'.
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == master:
                pids.append(int(entry.name))
        return sorted(pids)

    def log_tail(self, size: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to the process group (gunicorn's graceful stop), SIGKILL to
        whatever is left of it after 15 seconds, workers included."""
        if self.process is None:
            return
        group = self.process.pid  # start_new_session: the group's id is the master's pid
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        self.process.wait(timeout=10)


def server_env(database_url: str, redis_url: str | None, port: int, workers: int | None) -> dict:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES) and k not in OWN_NAMES
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "STUDIO_JWT_SIGNING_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            # Sign-in is part of the set-up, not what is measured.
            "STUDIO_AUTH_THROTTLE": "1000000/min",
            # Tokens minted before the run stay valid for all of it.
            "STUDIO_ACCESS_TOKEN_MINUTES": "120",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "PYTHONUNBUFFERED": "1",
            # Each booking's mail is written and queued as in production;
            # no mail leaves the machine.
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        }
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    if workers:
        env["WEB_CONCURRENCY"] = str(workers)
    return env


def admin_url(pg_url: str) -> str:
    parts = urlsplit(pg_url)
    return urlunsplit(parts._replace(path="/postgres"))


def psql(url: str, sql: str, deadline: Deadline) -> None:
    run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], dict(os.environ), deadline, "psql")


def flush_redis(url: str, deadline: Deadline) -> None:
    code = "import redis, sys; redis.Redis.from_url(sys.argv[1]).flushdb()"
    run([PYTHON, "-c", code, url], dict(os.environ), deadline, f"emptying {url}")
