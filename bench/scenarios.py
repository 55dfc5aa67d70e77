"""The read scenarios, POST /api/bookings/ and the memory run: the endpoints
read, their answers checked, the requests sent at a fixed concurrency."""

import json
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from loadclient import Client, Request, drive, measured, summarize
from machine import memory_of
from runner import BenchError, inproc

STUDIO_ZONE = "Asia/Kolkata"  # the server's default STUDIO_TIME_ZONE


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
