"""Examples that Swagger UI shows for the calendar endpoints."""

from studio.errors import NotFoundError
from studio.examples import NOT_AUTHENTICATED, problem_example, response_example

FEED_URL = {
    "url": "https://studio.example.com/api/calendar/"
    "3f1c9a0e5b7d2c4f6a8e0b1d3c5f7a9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a.ics"
}

CALENDAR_URL_GET = [response_example("Your feed's address", FEED_URL), NOT_AUTHENTICATED]
CALENDAR_URL_POST = [
    response_example("A new address; the old one no longer works", FEED_URL),
    NOT_AUTHENTICATED,
]

# What a client's feed looks like (folded and with CRLF line ends on the wire).
CLIENT_FEED = """BEGIN:VCALENDAR
PRODID:-//Studio//Calendar feeds//EN
VERSION:2.0
CALSCALE:GREGORIAN
NAME:Studio: my classes
X-WR-CALNAME:Studio: my classes
REFRESH-INTERVAL;VALUE=DURATION:PT1H
X-PUBLISHED-TTL:PT1H
BEGIN:VEVENT
SUMMARY:Evening Yoga
DTSTART:20310110T133000Z
DTEND:20310110T143000Z
DTSTAMP:20310102T130000Z
UID:booking-21@studio
SEQUENCE:3
STATUS:CONFIRMED
DESCRIPTION:With Priya Shah.\\n\\nSlow flow for every level.
END:VEVENT
BEGIN:VEVENT
SUMMARY:Spin Express
DTSTART:20310111T013000Z
DTEND:20310111T021500Z
DTSTAMP:20310104T091500Z
UID:booking-24@studio
SEQUENCE:5
STATUS:CANCELLED
DESCRIPTION:With Arjun Rao.
END:VEVENT
END:VCALENDAR
"""

SESSION_FEED = """BEGIN:VCALENDAR
PRODID:-//Studio//Calendar feeds//EN
VERSION:2.0
CALSCALE:GREGORIAN
NAME:Studio: Evening Yoga
X-WR-CALNAME:Studio: Evening Yoga
REFRESH-INTERVAL;VALUE=DURATION:PT1H
X-PUBLISHED-TTL:PT1H
BEGIN:VEVENT
SUMMARY:Evening Yoga
DTSTART:20310110T133000Z
DTEND:20310110T143000Z
DTSTAMP:20301220T034500Z
UID:slot-7@studio
SEQUENCE:2
STATUS:CONFIRMED
DESCRIPTION:With Priya Shah.\\n\\nSlow flow for every level.
END:VEVENT
END:VCALENDAR
"""

UNKNOWN_FEED = problem_example("Unknown or replaced address", NotFoundError())
UNKNOWN_SESSION = problem_example("No such session", NotFoundError())
