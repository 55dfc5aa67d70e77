"""Examples that Swagger UI shows for the calendar endpoints."""

from datetime import datetime, timedelta

from calendars.renderers import calendar_bytes
from calendars.selectors import Feed, FeedEvent
from core.errors import NotFoundError
from core.examples import NOT_AUTHENTICATED, problem_example, response_example

FEED_URL = {
    "url": "https://studio.example.com/api/calendar/"
    "3f1c9a0e5b7d2c4f6a8e0b1d3c5f7a9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a.ics"
}

CALENDAR_URL_GET = [response_example("Your feed's address", FEED_URL), NOT_AUTHENTICATED]
CALENDAR_URL_POST = [
    response_example("A new address; the old one no longer works", FEED_URL),
    NOT_AUTHENTICATED,
]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _event(uid: str, start: str, minutes: int, **fields) -> FeedEvent:
    return FeedEvent(
        uid=uid,
        start=_at(start),
        end=_at(start) + timedelta(minutes=minutes),
        **fields,
    )


YOGA = "With Priya Shah.\n\nSlow flow for every level."

# The files as the feeds write them (with CRLF line ends on the wire).
CLIENT_FEED = calendar_bytes(
    Feed(
        name="Studio: my classes",
        events=(
            _event(
                "booking-21@studio",
                "2031-01-10T19:00:00+05:30",
                60,
                summary="Evening Yoga",
                description=YOGA,
                status="CONFIRMED",
                sequence=3,
                stamp=_at("2031-01-02T18:30:00+05:30"),
            ),
            _event(
                "booking-24@studio",
                "2031-01-11T07:00:00+05:30",
                45,
                summary="Spin Express",
                description="With Arjun Rao.",
                status="CANCELLED",
                sequence=5,
                stamp=_at("2031-01-04T14:45:00+05:30"),
            ),
        ),
        modified=_at("2031-01-04T14:45:00+05:30"),
    )
).decode()

SESSION_FEED = calendar_bytes(
    Feed(
        name="Studio: Evening Yoga",
        events=(
            _event(
                "slot-7@studio",
                "2031-01-10T19:00:00+05:30",
                60,
                summary="Evening Yoga",
                description=YOGA,
                status="CONFIRMED",
                sequence=2,
                stamp=_at("2030-12-20T09:15:00+05:30"),
            ),
        ),
        modified=_at("2030-12-20T09:15:00+05:30"),
    )
).decode()

UNKNOWN_FEED = problem_example("Unknown or replaced address", NotFoundError())
UNKNOWN_SESSION = problem_example("No such session", NotFoundError())
