"""The Studio API from Python, through the client generated from the live schema.

`clients/check` generates the `studio_api_client` package with
openapi-python-client into `clients/generated/python` and type-checks this
file with `mypy --strict`. Run against a server (`make run` serves the demo
data):

    PYTHONPATH=clients/generated/python .venv/bin/python clients/example.py \\
        http://127.0.0.1:8000 priya@studio.example demo-Pass-2027 lee@example.com sturdy-Pass-123

An instructor signs in, creates a session and renames it with a PATCH that
carries only the title (the description and the slots stay); a client books
one of its slots, books it again and reads the 409 problem's `code`.
"""

import sys
from datetime import UTC, datetime, timedelta

from studio_api_client import AuthenticatedClient, Client
from studio_api_client.api.authentication import auth_login
from studio_api_client.api.bookings import bookings_create
from studio_api_client.api.instructor_sessions import sessions_create, sessions_partial_update
from studio_api_client.models.auth import Auth
from studio_api_client.models.booking import Booking
from studio_api_client.models.booking_create_request import BookingCreateRequest
from studio_api_client.models.category_enum import CategoryEnum
from studio_api_client.models.login_request import LoginRequest
from studio_api_client.models.patched_session_update_request import PatchedSessionUpdateRequest
from studio_api_client.models.problem import Problem
from studio_api_client.models.session import Session
from studio_api_client.models.session_create_request import SessionCreateRequest
from studio_api_client.models.time_slot_input_request import TimeSlotInputRequest
from studio_api_client.types import Response


class Refused(Exception):
    """The API answered with a problem instead of what was asked for."""

    def __init__(self, what: str, status: int, problem: Problem | None) -> None:
        code = problem.code if problem is not None else "(no problem body)"
        detail = problem.detail if problem is not None else ""
        super().__init__(f"{what}: {status} {code} {detail}".rstrip())
        self.status = status
        self.problem = problem


def sign_in(base_url: str, email: str, password: str) -> AuthenticatedClient:
    """A client that sends the user's access token."""
    with Client(base_url=base_url) as anonymous:
        answer = auth_login.sync_detailed(
            client=anonymous, body=LoginRequest(email=email, password=password)
        )
    if not isinstance(answer.parsed, Auth):
        raise Refused("sign-in", answer.status_code, answer.parsed)
    return AuthenticatedClient(base_url=base_url, token=answer.parsed.access)


def create_session(
    client: AuthenticatedClient, title: str, description: str, start: datetime
) -> Session:
    """A yoga class with one one-hour slot for one person at `start`."""
    body = SessionCreateRequest(
        title=title,
        description=description,
        category=CategoryEnum.YOGA,
        # Times with an offset are exact instants; without one, studio time.
        time_slots=[
            TimeSlotInputRequest(
                start=start.isoformat(),
                end=(start + timedelta(hours=1)).isoformat(),
                capacity=1,
            )
        ],
    )
    answer = sessions_create.sync_detailed(client=client, body=body)
    if not isinstance(answer.parsed, Session):
        raise Refused("create session", answer.status_code, answer.parsed)
    return answer.parsed


def rename_session(client: AuthenticatedClient, session_id: int, title: str) -> Session:
    """A PATCH with only the title: the description, category and slots stay."""
    answer = sessions_partial_update.sync_detailed(
        id=session_id, client=client, body=PatchedSessionUpdateRequest(title=title)
    )
    if not isinstance(answer.parsed, Session):
        raise Refused("rename session", answer.status_code, answer.parsed)
    return answer.parsed


def book(client: AuthenticatedClient, time_slot: int) -> Response[Booking | Problem]:
    """POST /api/bookings/: the answer, a booking (201) or a problem."""
    return bookings_create.sync_detailed(
        client=client, body=BookingCreateRequest(time_slot=time_slot)
    )


def conflict_code(answer: Response[Booking | Problem]) -> str | None:
    """The `code` of a 409 answer (`slot_full`, `already_booked`, ...), else None."""
    if answer.status_code == 409 and isinstance(answer.parsed, Problem):
        return answer.parsed.code
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    base_url, instructor_email, instructor_password, client_email, client_password = argv[1:]
    with sign_in(base_url, instructor_email, instructor_password) as instructor:
        start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
        session = create_session(instructor, "Evening Yoga", "Slow flow", start)
        renamed = rename_session(instructor, session.id, "Evening Yoga, gently")
    print(f"renamed session {renamed.id} to {renamed.title!r}; description {renamed.description!r}")
    if renamed.description != session.description:
        print("the title-only PATCH changed the description", file=sys.stderr)
        return 1
    with sign_in(base_url, client_email, client_password) as client:
        first = book(client, session.time_slots[0].id)
        if not isinstance(first.parsed, Booking):
            raise Refused("book", first.status_code, first.parsed)
        print(f"booked: booking {first.parsed.id}, {first.parsed.status}")
        code = conflict_code(book(client, session.time_slots[0].id))
    print(f"booking the same slot again: 409 {code}")
    return 0 if code == "already_booked" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
