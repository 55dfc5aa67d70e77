"""Load benchmark of the studio API: one database at one scale per run.

    .venv/bin/python bench/load.py --database sqlite --slots 1000
    .venv/bin/python bench/load.py --database postgres --slots 100000

A run makes a fresh database (a SQLite file in a temporary directory, or the
PostgreSQL database `studio_bench`, dropped afterwards), migrates it, seeds it
with `bench/seed.py`, adds bench-only clients and slots
(bench/inproc.py), starts gunicorn with gunicorn.conf.py on a free port of
127.0.0.1 (debug off, a random secret key), and drives it over loopback:

1. reads and POST /api/bookings/, a bounded number of requests each at a
   fixed concurrency, every answer checked for its status;
2. contention: 100 clients book 10 slots of 5 seats at once (a barrier),
   then the database is checked for oversold seats;
3. hot slot: 200 clients book one 20-seat class at once (a barrier), one
   request each; p50, p99 and max of their latencies, exactly 20 must get
   201 and the rest 409 slot_full, then the slot is checked in the database;
4. memory: 10,000 mixed reads, sampling every worker's RSS each 1,000;
5. query budgets, once the server has stopped: the SQL queries of each
   booking write, counted in-process (bench/inproc.py queries) and held to
   bench/report.py's QUERY_BUDGETS.

It prints one table and saves bench/results/<database>-<slots>.json, then
regenerates docs/PERFORMANCE.md from every saved result (bench/report.py).
Only the standard library is used here; the server and the helpers run in
the project's virtualenv. Gunicorn is always stopped, and the whole run is
bounded by --timeout.
"""

import argparse
import contextlib
import http.client
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import report

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
GUNICORN = str(VENV_BIN / "gunicorn")
HTTP_TIMEOUT = 60
QUIET = 0.15  # share of the machine's CPU that other work may use when a run starts
STUDIO_ZONE = "Asia/Kolkata"  # the server's default STUDIO_TIME_ZONE

# Server environment variables a run sets itself; any others of these
# families in the caller's environment are dropped, so the run is the same
# whatever shell it starts from.
OWN_PREFIXES = ("DJANGO_", "STUDIO_", "GUNICORN_")
OWN_NAMES = ("DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY", "DJANGO_SETTINGS_MODULE")


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class RunTimeout(Exception):
    pass


class BenchError(Exception):
    pass


# --- processes ----------------------------------------------------------------


class Deadline:
    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise RunTimeout("the run's time is up")
        return left


def run(cmd: list[str], env: dict, deadline: Deadline, what: str) -> str:
    """Runs a command to completion within the deadline; its output on failure."""
    try:
        done = subprocess.run(
            cmd,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=deadline.left(),
        )
    except subprocess.TimeoutExpired as exc:
        raise RunTimeout(f"{what} did not finish in time") from exc
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-3000:]
        raise BenchError(f"{what} failed ({done.returncode}):\n{tail}")
    return done.stdout


def manage(args: list[str], env: dict, deadline: Deadline) -> str:
    return run([PYTHON, "manage.py", *args], env, deadline, f"manage.py {args[0]}")


def inproc(args: list[str], env: dict, deadline: Deadline) -> object:
    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        cmd = [PYTHON, str(ROOT / "bench" / "inproc.py"), args[0], "--out", result.name, *args[1:]]
        run(cmd, env, deadline, f"bench/inproc.py {args[0]}")
        return json.loads(Path(result.name).read_text())


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


def cpu_times() -> tuple[int, int]:
    """Busy and total jiffies of all CPUs, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])
    return total - idle, total


def busy_share(seconds: float) -> float:
    """The share of the machine's CPU time in use over `seconds`."""
    busy0, total0 = cpu_times()
    time.sleep(seconds)
    busy1, total1 = cpu_times()
    return (busy1 - busy0) / max(total1 - total0, 1)


def wait_for_quiet(limit: float, deadline: Deadline) -> float:
    """Waits (up to `limit` seconds) until other work on the machine uses
    less than QUIET of its CPU, so that it does not skew the figures;
    returns the share last seen."""
    until = time.monotonic() + min(limit, deadline.left())
    share = busy_share(2)
    while share > QUIET and time.monotonic() < until:
        out(f"   machine busy ({share:.0%} CPU in use by other work); waiting")
        share = busy_share(5)
    return share


def memory_of(pid: int) -> dict | None:
    """VmRSS and VmHWM (peak RSS) of a process, in MB."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    values = {}
    for line in lines:
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = round(int(rest.split()[0]) / 1024, 1)
    return {"rss": values.get("VmRSS"), "hwm": values.get("VmHWM")}


# --- HTTP -----------------------------------------------------------------------


class Client:
    """One keep-alive connection (http.client reconnects when the server
    closes it, as gunicorn's sync worker does after every response)."""

    def __init__(self, port: int):
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body=None, token: str | None = None):
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT)
            reused = self.conn.sock is not None
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A kept-alive connection the server had closed meanwhile: once more.
                self.close()
                if not reused or attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Request:
    """One request of a scenario and the answer it expects."""

    __slots__ = ("method", "path", "body", "token", "expect")

    def __init__(self, method, path, body=None, token=None, expect=(200,)):
        self.method, self.path, self.body, self.token, self.expect = (
            method,
            path,
            body,
            token,
            expect,
        )


def drive(port: int, requests: list[Request], concurrency: int) -> list[dict]:
    """Sends the requests from `concurrency` threads, each with its own
    connection; one record per request: latency, status, whether expected."""
    records: list[dict | None] = [None] * len(requests)
    lock = threading.Lock()
    position = iter(range(len(requests)))

    def worker() -> None:
        client = Client(port)
        try:
            while True:
                with lock:
                    index = next(position, None)
                if index is None:
                    return
                req = requests[index]
                started = time.perf_counter()
                try:
                    status, payload = client.request(req.method, req.path, req.body, req.token)
                except (OSError, http.client.HTTPException) as exc:
                    status, payload = None, f"{type(exc).__name__}: {exc}".encode()
                    client.close()
                ended = time.perf_counter()
                ok = status in req.expect
                records[index] = {
                    "start": started,
                    "end": ended,
                    "status": status,
                    "ok": ok,
                    "detail": None if ok else payload[:300].decode(errors="replace"),
                    "path": req.path,
                }
        finally:
            client.close()

    threads = [
        threading.Thread(target=worker, daemon=True) for _ in range(min(concurrency, len(requests)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.5)
    return [r for r in records if r is not None]


def summarize(records: list[dict], wall: float | None = None) -> dict:
    """Median, p95 and throughput of a scenario's records; its errors."""
    latencies = sorted((r["end"] - r["start"]) * 1000 for r in records)
    errors = [r for r in records if not r["ok"]]
    samples = Counter(f"{r['status']} {r['detail']}"[:200] for r in errors)
    return {
        "requests": len(records),
        "errors": len(errors),
        "error_samples": [f"{n} x {text}" for text, n in samples.most_common(3)],
        "median_ms": round(statistics.median(latencies), 2) if latencies else None,
        "p95_ms": round(percentile(latencies, 95), 2) if latencies else None,
        "rps": round(len(records) / wall, 1) if wall else None,
        "wall_s": round(wall, 3) if wall else None,
    }


def percentile(sorted_values: list[float], pct: float) -> float:
    if len(sorted_values) == 1:
        return sorted_values[0]
    return statistics.quantiles(sorted_values, n=100, method="inclusive")[int(pct) - 1]


def measured(port: int, requests: list[Request], concurrency: int) -> tuple[list[dict], float]:
    records = drive(port, requests, concurrency)
    wall = max(r["end"] for r in records) - min(r["start"] for r in records)
    return records, wall


# --- scenarios -------------------------------------------------------------------


class Unique:
    """A fresh value for a query parameter that the API ignores, so that a URL
    is never seen twice and no answer can come from the timetable cache."""

    def __init__(self):
        self.n = 0
        self.lock = threading.Lock()

    def __call__(self) -> int:
        with self.lock:
            self.n += 1
            return self.n


def read_endpoints(ids: dict, tokens: dict) -> list[dict]:
    tomorrow = (datetime.now(ZoneInfo(STUDIO_ZONE)) + timedelta(days=1)).date().isoformat()
    filtered = (
        f"/api/public/sessions/?page_size=20&category=yoga&available=true&date_from={tomorrow}"
    )
    listed = "/api/public/sessions/?page_size=20"
    return [
        {"key": "health", "label": "GET /api/health/", "path": "/api/health/"},
        {
            "key": "me",
            "label": "GET /api/me/ (signed-in floor)",
            "path": "/api/me/",
            "token": tokens["client"],
        },
        {"key": "list", "label": "public list, page of 20", "path": listed},
        {
            "key": "list_uncached",
            "label": "public list, page of 20, uncached",
            "path": listed,
            "bust": True,
        },
        {"key": "filtered", "label": "public list, filtered", "path": filtered},
        {
            "key": "filtered_uncached",
            "label": "public list, filtered, uncached",
            "path": filtered,
            "bust": True,
        },
        {
            "key": "public_detail",
            "label": "public detail",
            "path": f"/api/public/sessions/{ids['public_session']}/",
        },
        {
            "key": "instructor_detail",
            "label": "instructor detail (owner)",
            "path": f"/api/sessions/{ids['owned_session']}/",
            "token": tokens["instructor"],
        },
        {
            "key": "history",
            "label": "booking history, upcoming",
            "path": "/api/bookings/?when=upcoming",
            "token": tokens["client"],
        },
    ]


def endpoint_requests(endpoint: dict, count: int, unique: Unique) -> list[Request]:
    requests = []
    for _ in range(count):
        path = endpoint["path"]
        if endpoint.get("bust"):
            path += f"&bench={unique()}"
        requests.append(Request("GET", path, token=endpoint.get("token")))
    return requests


def check_answers(port: int, endpoints: list[dict], ids: dict) -> None:
    """One answer of each read endpoint, looked at (not timed)."""
    client = Client(port)
    for endpoint in endpoints:
        status, payload = client.request("GET", endpoint["path"], token=endpoint.get("token"))
        if status != 200:
            raise BenchError(f"{endpoint['path']}: {status} {payload[:300]!r}")
        body = json.loads(payload)
        key = endpoint["key"]
        if key.startswith("list") and len(body["results"]) != 20:
            raise BenchError(f"{endpoint['path']}: {len(body['results'])} results, not 20")
        if key.startswith("filtered") and not body["results"]:
            raise BenchError(f"{endpoint['path']}: no results")
        if key == "history" and body["count"] != ids["client_bookings"]:
            raise BenchError(f"history: {body['count']} bookings, not {ids['client_bookings']}")
        if key == "instructor_detail":
            booked = sum(len(slot["bookings"]) for slot in body["time_slots"])
            if booked != ids["owned_session_bookings"]:
                raise BenchError(f"instructor detail: {booked} bookings listed")
    client.close()


def sign_in(port: int, email: str, password: str) -> str:
    client = Client(port)
    status, payload = client.request("POST", "/api/login/", {"email": email, "password": password})
    client.close()
    if status != 200:
        raise BenchError(f"login of {email}: {status} {payload[:300]!r}")
    return json.loads(payload)["access"]


def scenario_reads_and_post(port, endpoints, ids, args, unique) -> tuple[dict, dict]:
    """The reads, then POST /api/bookings/, each in `rounds` chunks, so that
    a slow moment of the machine falls on every endpoint alike.

    Reads: every round, a chunk of each endpoint in turn. POSTs come after
    all reads (a booking moves the timetable on, which would empty the cache
    the cached rows measure): every round, a chunk of /api/health/ and a chunk
    of POSTs, each POST from a different client that holds no booking, a few
    per slot, every answer 201. The health row gathers both phases, so the
    POST's ratio is against health measured alongside it."""
    for endpoint in endpoints:
        drive(port, endpoint_requests(endpoint, args.warmup, unique), args.concurrency)
    gathered = {e["key"]: ([], 0.0) for e in endpoints} | {"post": ([], 0.0)}

    def add(key: str, requests: list[Request]) -> None:
        records, wall = measured(port, requests, args.concurrency)
        previous, spent = gathered[key]
        gathered[key] = (previous + records, spent + wall)

    chunk = max(1, args.requests // args.rounds)
    for _ in range(args.rounds):
        for endpoint in endpoints:
            add(endpoint["key"], endpoint_requests(endpoint, chunk, unique))
    posts = [
        Request("POST", "/api/bookings/", {"time_slot": p["slot"]}, p["token"], expect=(201,))
        for p in ids["post"]
    ]
    health = next(e for e in endpoints if e["key"] == "health")
    post_chunk = -(-len(posts) // args.rounds)
    for start in range(0, len(posts), post_chunk):
        add("health", endpoint_requests(health, chunk, unique))
        add("post", posts[start : start + post_chunk])
    results = {key: summarize(records, wall) for key, (records, wall) in gathered.items()}
    post = results.pop("post")
    return results, post


def race_booking(port: int, barrier: threading.Barrier, token: str, slot: int) -> dict:
    """One racer's booking: connected beforehand, released with the others by
    `barrier`, it POSTs once; a 201 or a 409 `slot_full` is an expected answer."""
    client = Client(port)
    client.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
    with contextlib.suppress(OSError):  # if it fails, request() connects again
        client.conn.connect()
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=60)
    started = time.perf_counter()
    try:
        status, payload = client.request("POST", "/api/bookings/", {"time_slot": slot}, token)
        code = json.loads(payload).get("code") if status != 201 else None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        status, payload, code = None, str(exc).encode(), None
    ended = time.perf_counter()
    client.close()
    ok = status == 201 or (status == 409 and code == "slot_full")
    return {
        "start": started,
        "end": ended,
        "status": status,
        "code": code,
        "ok": ok,
        "detail": None if ok else payload[:300].decode(errors="replace"),
    }


def race_bookings(port: int, bookings: list[tuple[str, int]], deadline) -> list[dict]:
    """Each (token, slot) of `bookings` books once on a thread of its own, all
    released together by one barrier (`race_booking`); the record of each that
    answered, with its slot."""
    barrier = threading.Barrier(len(bookings))
    records: list[dict | None] = [None] * len(bookings)

    def racer(i: int, token: str, slot: int) -> None:
        records[i] = {**race_booking(port, barrier, token, slot), "slot": slot}

    threads = [
        threading.Thread(target=racer, args=(i, token, slot), daemon=True)
        for i, (token, slot) in enumerate(bookings)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            deadline.left()
            thread.join(timeout=0.5)
    return [r for r in records if r is not None]


def scenario_contention(port, ids, env, deadline) -> dict:
    """Per round, as many clients as there are tokens book the round's slots
    at once, spread evenly: with 100 clients on 10 slots of 5 seats, exactly
    50 get 201 and 50 get 409 slot_full."""
    rounds = []
    all_records = []
    slot_ids = []
    for round_ in ids["race_rounds"]:
        slots, tokens = round_["slots"], round_["tokens"]
        slot_ids += slots
        done = race_bookings(
            port, [(t, slots[i % len(slots)]) for i, t in enumerate(tokens)], deadline
        )
        wall = max(r["end"] for r in done) - min(r["start"] for r in done)
        summary = summarize(done, wall)
        summary["created"] = sum(1 for r in done if r["status"] == 201)
        summary["slot_full"] = sum(1 for r in done if r["code"] == "slot_full")
        rounds.append(summary)
        all_records += done

    seats = inproc(["verify", *map(str, slot_ids)], env, deadline)
    capacity = {s["id"]: s["capacity"] for s in seats}
    oversold = [s for s in seats if s["confirmed"] > s["capacity"]]
    drift = [s for s in seats if s["booked"] != s["confirmed"]]
    created_per_slot = Counter(r["slot"] for r in all_records if r["status"] == 201)
    mismatched = [s["id"] for s in seats if created_per_slot.get(s["id"], 0) != s["confirmed"]]
    expected_created = sum(
        min(capacity[s], n) for s, n in Counter(r["slot"] for r in all_records).items()
    )
    total = summarize(all_records, sum(r["wall_s"] for r in rounds))
    return {
        "clients": len(ids["race_rounds"][0]["tokens"]),
        "slots": len(ids["race_rounds"][0]["slots"]),
        "capacity": seats[0]["capacity"] if seats else None,
        "rounds": rounds,
        "total": total,
        "created": sum(r["created"] for r in rounds),
        "expected_created": expected_created,
        "slot_full": sum(r["slot_full"] for r in rounds),
        "oversold_slots": oversold,
        "booked_column_drift": drift,
        "answers_vs_rows_mismatch": mismatched,
        "max_confirmed_per_slot": max((s["confirmed"] for s in seats), default=0),
    }


def scenario_hot_slot(port, ids, env, deadline) -> dict:
    """Every hot client books the one hot slot once, all released together by
    a barrier, each on a connection it opened beforehand: with 200 clients
    and 20 seats, exactly 20 get 201 and 180 get 409 slot_full. Each request's
    latency is kept (first byte sent to the whole answer read), and the slot's
    `booked` column and confirmed bookings are read from the database."""
    hot = ids["hot"]
    slot, tokens = hot["slot"], hot["tokens"]
    done = race_bookings(port, [(t, slot) for t in tokens], deadline)
    latencies = sorted((r["end"] - r["start"]) * 1000 for r in done)
    wall = max(r["end"] for r in done) - min(r["start"] for r in done)
    summary = summarize(done, wall)
    created = sum(1 for r in done if r["status"] == 201)
    slot_full = sum(1 for r in done if r["status"] == 409 and r["code"] == "slot_full")
    [seats] = inproc(["verify", str(slot)], env, deadline)
    return {
        "clients": len(tokens),
        "capacity": hot["capacity"],
        "requests": len(done),
        "created": created,
        "slot_full": slot_full,
        "other": len(done) - created - slot_full,
        "other_statuses": dict(
            Counter(str(r["status"]) for r in done if r["status"] not in (201, 409))
        ),
        "error_samples": summary["error_samples"],
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(latencies[-1], 1),
        "wall_s": summary["wall_s"],
        "rps": summary["rps"],
        "booked": seats["booked"],
        "confirmed": seats["confirmed"],
    }


def verify_post_slots(ids, env, deadline) -> dict:
    slot_ids = sorted({p["slot"] for p in ids["post"]})
    seats = inproc(["verify", *map(str, slot_ids)], env, deadline)
    return {
        "slots": len(seats),
        "oversold": [s for s in seats if s["confirmed"] > s["capacity"]],
        "booked_column_drift": [s for s in seats if s["booked"] != s["confirmed"]],
    }


def scenario_memory(port, server, endpoints, ids, args, unique, deadline) -> dict:
    """`memory_requests` reads of every kind, with varying pages and
    sessions, in batches of `memory_every`; after each batch, every worker's
    VmRSS and VmHWM."""
    by_key = {e["key"]: e for e in endpoints}
    pages = [f"/api/public/sessions/?page_size=20&page={n}" for n in range(1, 6)]
    details = [f"/api/public/sessions/{sid}/" for sid in ids["public_sessions"]]

    def request_for(n: int) -> Request:
        kind = n % 8
        if kind == 0:
            return Request("GET", "/api/health/")
        if kind == 1:
            return Request("GET", pages[(n // 8) % len(pages)])
        if kind == 2:
            return Request("GET", f"{by_key['list']['path']}&bench={unique()}")
        if kind == 3:
            return Request("GET", by_key["filtered"]["path"])
        if kind == 4:
            return Request("GET", details[(n // 8) % len(details)])
        if kind == 5:
            endpoint = by_key["instructor_detail"]
            return Request("GET", endpoint["path"], token=endpoint["token"])
        if kind == 6:
            endpoint = by_key["history"]
            return Request("GET", endpoint["path"], token=endpoint["token"])
        return Request("GET", f"{by_key['filtered']['path']}&bench={unique()}")

    samples = []
    records_all = []
    first_pids = server.worker_pids()
    done = 0
    while done < args.memory_requests:
        deadline.left()
        batch = min(args.memory_every, args.memory_requests - done)
        records, wall = measured(
            port, [request_for(done + i) for i in range(batch)], args.concurrency
        )
        records_all += records
        done += batch
        workers = {str(pid): memory_of(pid) for pid in server.worker_pids()}
        samples.append({"requests": done, "rps": round(batch / wall, 1), "workers": workers})
    final_pids = server.worker_pids()
    summary = summarize(records_all)
    return {
        "requests": done,
        "every": args.memory_every,
        "errors": summary["errors"],
        "error_samples": summary["error_samples"],
        "median_ms": summary["median_ms"],
        "samples": samples,
        "workers_restarted": first_pids != final_pids,
        "worker_count": len(final_pids),
    }


# --- one run -----------------------------------------------------------------------


def git_state() -> dict:
    def git(*cmd: str) -> str:
        try:
            return subprocess.run(
                ["git", *cmd], cwd=ROOT, capture_output=True, text=True, timeout=10
            ).stdout.rstrip()
        except (OSError, subprocess.TimeoutExpired):
            return ""

    # Porcelain lines are "XY path"; the benchmark's own files do not count.
    changed = [
        line[3:]
        for line in git("status", "--porcelain", "--untracked-files=all").splitlines()
        if not line[3:].startswith(("bench/", "docs/PERFORMANCE.md"))
    ]
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "subject": git("log", "-1", "--format=%s"),
        "uncommitted": changed,
    }


def machine_info(pg_admin_url: str | None, redis_url: str | None) -> dict:
    def first_line(path: str, key: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"

    def version_of(code: str) -> str:
        try:
            return subprocess.run(
                [PYTHON, "-c", code], capture_output=True, text=True, timeout=30
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"

    info = {
        "cpus": len(os.sched_getaffinity(0)),
        "cpu_model": first_line("/proc/cpuinfo", "model name"),
        "memory": first_line("/proc/meminfo", "MemTotal"),
        "kernel": platform.release(),
        "python": version_of("import platform; print(platform.python_version())"),
        "django": version_of("import django; print(django.get_version())"),
        "gunicorn": version_of("import gunicorn; print(gunicorn.__version__)"),
        "sqlite": sqlite3.sqlite_version,
    }
    if pg_admin_url:
        try:
            info["postgresql"] = subprocess.run(
                ["psql", pg_admin_url, "-Atc", "SHOW server_version"],
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            info["postgresql"] = "?"
    if redis_url:
        info["redis"] = version_of(
            f"import redis; print(redis.Redis.from_url({redis_url!r}).info()['redis_version'])"
        )
    return info


def admin_url(pg_url: str) -> str:
    parts = urlsplit(pg_url)
    return urlunsplit(parts._replace(path="/postgres"))


def psql(url: str, sql: str, deadline: Deadline) -> None:
    run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], dict(os.environ), deadline, "psql")


def flush_redis(url: str, deadline: Deadline) -> None:
    code = "import redis, sys; redis.Redis.from_url(sys.argv[1]).flushdb()"
    run([PYTHON, "-c", code, url], dict(os.environ), deadline, f"emptying {url}")


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


def bench(args, deadline: Deadline) -> dict:
    scale = args.slots
    tmp = Path(tempfile.mkdtemp(prefix="studio-bench-"))
    pg_admin = admin_url(args.pg_url) if args.database == "postgres" else None
    db_made = False
    server = None
    cache = (
        args.cache
        if args.cache != "auto"
        else ("redis" if args.database == "postgres" else "locmem")
    )
    redis_url = args.redis_url if cache == "redis" else None
    try:
        if args.database == "sqlite":
            database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        else:
            database_url = args.pg_url
            name = urlsplit(database_url).path.lstrip("/")
            psql(pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', deadline)
            psql(pg_admin, f'CREATE DATABASE "{name}"', deadline)
            db_made = True
        port = free_port()
        env = server_env(database_url, redis_url, port, args.workers)
        if redis_url:
            flush_redis(redis_url, deadline)

        out(f"== {args.database}, {scale:,} slots: migrate and seed")
        started = time.monotonic()
        manage(["migrate", "--noinput"], env, deadline)
        run(
            [
                PYTHON,
                str(ROOT / "bench" / "seed.py"),
                "--sessions",
                str(scale // 10),
                "--slots-per-session",
                "10",
                "--clients",
                str(args.clients),
            ],
            env,
            deadline,
            "bench/seed.py",
        )
        race_rounds = args.race_rounds
        ids = inproc(
            [
                "prepare",
                "--post-clients",
                str(args.post_requests),
                "--race-clients",
                str(args.race_clients),
                "--race-slots",
                str(args.race_slots),
                "--race-capacity",
                str(args.race_capacity),
                "--race-rounds",
                str(race_rounds),
                "--hot-clients",
                str(args.hot_clients),
                "--hot-capacity",
                str(args.hot_capacity),
            ],
            env,
            deadline,
        )
        seeded_s = time.monotonic() - started
        out(f"   seeded in {seeded_s:.0f} s: {ids['counts']}")

        busy_before = wait_for_quiet(args.wait_quiet, deadline)
        server = Server(env, tmp / "gunicorn.log")
        server.start(deadline)
        workers = len(server.worker_pids())
        out(f"   gunicorn on 127.0.0.1:{port}, {workers} workers, cache {cache}")
        tokens = {
            "client": sign_in(port, ids["client"], ids["password"]),
            "instructor": sign_in(port, ids["first_instructor"], ids["password"]),
        }
        endpoints = read_endpoints(ids, tokens)
        check_answers(port, endpoints, ids)
        unique = Unique()

        out(f"   reads: {args.requests} requests each, concurrency {args.concurrency}")
        out(f"   then POST /api/bookings/: {len(ids['post'])} clients, one request each")
        reads, post = scenario_reads_and_post(port, endpoints, ids, args, unique)
        post["seats"] = verify_post_slots(ids, env, deadline)
        out(f"   contention: {race_rounds} rounds of {args.race_clients} clients")
        contention = scenario_contention(port, ids, env, deadline)
        hot_slot = None
        if args.hot_clients:
            out(f"   hot slot: {args.hot_clients} clients, one slot of {args.hot_capacity} seats")
            hot_slot = scenario_hot_slot(port, ids, env, deadline)
        out(f"   memory: {args.memory_requests} mixed requests")
        memory = scenario_memory(port, server, endpoints, ids, args, unique, deadline)
        server.stop()
        gunicorn_log = server.log_tail(2000)
        busy_after = busy_share(2)

        result = {
            "database": args.database,
            "slots": scale,
            "cache": cache,
            "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "command": " ".join([".venv/bin/python", "bench/load.py", *sys.argv[1:]]),
            "via_make": bool(os.environ.get("BENCH_FROM_MAKE")),
            "settings": {
                "requests": args.requests,
                "concurrency": args.concurrency,
                "warmup": args.warmup,
                "rounds": args.rounds,
                "post_requests": args.post_requests,
                "clients": args.clients,
                "workers": workers,
            },
            "counts": ids["counts"],
            "seed_seconds": round(seeded_s, 1),
            "endpoints": [
                {"key": e["key"], "label": e["label"], "path": e["path"]} for e in endpoints
            ],
            "reads": reads,
            "post": post,
            "contention": contention,
            "hot_slot": hot_slot,
            "memory": memory,
            "machine": machine_info(pg_admin or admin_url(args.pg_url), redis_url),
            "git": git_state(),
            "server_errors_logged": "Traceback" in gunicorn_log or "[ERROR]" in gunicorn_log,
            # CPU in use by other work just before the server started and
            # just after it stopped (0 to 1); above QUIET, figures may be skewed.
            "machine_busy": {"before": round(busy_before, 3), "after": round(busy_after, 3)},
        }
        worst = report.worst_read(result)
        if worst is not None and not args.no_profile:
            endpoint = next(e for e in endpoints if e["key"] == worst)
            out(f"   profile of {endpoint['label']} (in-process)")
            profile_args = ["profile", "--path", endpoint["path"]]
            if endpoint.get("token"):
                profile_args += ["--token", endpoint["token"]]
            result["profile"] = {"key": worst, **inproc(profile_args, env, deadline)}
        out("   query counts of the booking writes (in-process)")
        result["queries"] = inproc(["queries"], env, deadline)
        return result
    finally:
        if server is not None:
            server.stop()
        if redis_url and not args.keep:
            try:
                flush_redis(redis_url, Deadline(30))
            except (BenchError, RunTimeout) as exc:
                out(f"   could not empty {redis_url}: {exc}")
        if db_made and not args.keep:
            name = urlsplit(args.pg_url).path.lstrip("/")
            try:
                psql(pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', Deadline(60))
            except (BenchError, RunTimeout) as exc:
                out(f"   could not drop {name}: {exc}")
        if args.keep:
            out(f"   kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Load benchmark of the studio API (one database, one scale).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--slots", type=int, required=True, help="slots to seed (10 per session)")
    parser.add_argument("--requests", type=int, default=400, help="measured requests per read")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    parser.add_argument("--warmup", type=int, default=40, help="unmeasured requests per read")
    parser.add_argument("--rounds", type=int, default=8, help="interleaved chunks per endpoint")
    parser.add_argument("--post-requests", type=int, default=400, help="POSTs, one per client")
    parser.add_argument("--clients", type=int, default=200, help="bench/seed.py --clients")
    parser.add_argument("--race-clients", type=int, default=100)
    parser.add_argument("--race-slots", type=int, default=10)
    parser.add_argument("--race-capacity", type=int, default=5)
    parser.add_argument("--race-rounds", type=int, default=3)
    parser.add_argument(
        "--hot-clients", type=int, default=200, help="clients racing for the hot slot; 0: skip"
    )
    parser.add_argument("--hot-capacity", type=int, default=20, help="seats of the hot slot")
    parser.add_argument("--memory-requests", type=int, default=10_000)
    parser.add_argument("--memory-every", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=None, help="default: gunicorn.conf.py's")
    parser.add_argument(
        "--cache",
        choices=["auto", "locmem", "redis"],
        default="auto",
        help="auto: Redis with PostgreSQL, local memory with SQLite",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/studio_bench")
    parser.add_argument("--timeout", type=int, default=900, help="hard limit of the run, seconds")
    parser.add_argument(
        "--wait-quiet",
        type=int,
        default=120,
        help="seconds to wait for other work on the machine to end before measuring",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the in-process profile")
    parser.add_argument("--keep", action="store_true", help="keep the database and the log")
    parser.add_argument("--no-report", action="store_true", help="do not write the results")
    args = parser.parse_args()

    def on_alarm(signum, frame):
        raise RunTimeout(f"the run took longer than --timeout {args.timeout} s")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(args.timeout)
    deadline = Deadline(args.timeout)
    try:
        result = bench(args, deadline)
    except (BenchError, RunTimeout) as exc:
        signal.alarm(0)
        out(f"!! {args.database}, {args.slots:,} slots: {exc}")
        return 1
    finally:
        signal.alarm(0)
    out(report.text_table(result))
    if not args.no_report:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{args.database}-{args.slots}.json"
        path.write_text(json.dumps(result, indent=1) + "\n")
        doc = report.write()
        out(f"saved {path.relative_to(ROOT)}; wrote {doc.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
