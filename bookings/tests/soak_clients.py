"""The soak's clients and their checks, for `test_soak`: its sizes and
limits, what each client has been answered, a small HTTP client of the live
server, and the checks of one problem body and one timetable slot."""

import http.client
import json
import os
from dataclasses import dataclass, field
from typing import Any

SOAK_SECONDS = float(os.environ.get("STUDIO_SOAK_SECONDS", "20"))
CLIENTS = 20
# Every client makes at least this many requests, however short the soak.
MIN_OPERATIONS = 12
# Longer than SQLite's 20 s busy timeout: a queued write answers before the
# socket gives up, and a hung request fails the test instead of blocking it.
REQUEST_TIMEOUT = 45
PASSWORD = "soak-Passw0rd-long"
BOOK_REFUSALS = {"slot_full", "already_booked", "time_conflict"}


@dataclass
class Answer:
    """One request and its answer, in the order the client sent them."""

    client: int
    operation: str
    target: int | None
    status: int
    body: Any
    content_type: str


@dataclass
class SoakClient:
    """One client's thread: its account, what it holds, and every answer it got."""

    index: int
    token: str = ""
    user_id: int = 0
    held: dict[int, int] = field(default_factory=dict)  # slot id -> confirmed booking id
    cancelled: set[int] = field(default_factory=set)  # its bookings it has cancelled
    answers: list[Answer] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


class LiveApi:
    """Plain HTTP/1.1 requests, one connection each, with a socket timeout."""

    def __init__(self, host: str, port: int):
        self.host = host
        self.port = port

    def call(
        self, method: str, path: str, *, token: str = "", body: Any = None
    ) -> tuple[int, Any, str]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        headers = {"Accept": "application/json", "Connection": "close"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            content_type = response.getheader("Content-Type", "")
            status = response.status
        finally:
            connection.close()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw[:300].decode(errors="replace")
        return status, parsed, content_type


def problem_violation(status: int, body: Any) -> str | None:
    """Why an error answer is not a problem body of its status, or None."""
    if not isinstance(body, dict):
        return f"{status} without a JSON object body: {body!r}"
    if body.get("status") != status or body.get("type") != "about:blank":
        return f"{status} with body status {body.get('status')!r}: {body}"
    if not isinstance(body.get("code"), str) or not isinstance(body.get("detail"), str):
        return f"{status} without code and detail: {body}"
    return None


def slot_violation(slot: dict) -> str | None:
    """Why a rendered time slot's seat numbers disagree with each other, or None."""
    booked, capacity, available = slot["booked"], slot["capacity"], slot["available"]
    if not 0 <= booked <= capacity or available != capacity - booked:
        return f"slot {slot['id']} shows {booked}/{capacity} booked, {available} available"
    if slot["is_full"] != (available == 0):
        return f"slot {slot['id']} is_full={slot['is_full']} with {available} available"
    return None
