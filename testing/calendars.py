"""Calendar feeds (API.md section 10), read with `icalendar`."""

from datetime import datetime
from typing import Any
from unittest import TestCase as UnitTestCase

from icalendar import Calendar

CALENDAR_CONTENT_TYPE = "text/calendar; charset=utf-8"


def calendar_events(test: UnitTestCase, response) -> dict[str, Any]:
    """The VEVENTs of a calendar answer, by UID, parsed with
    `icalendar.Calendar.from_ical`, after checking the answer is a 200
    calendar file whose events each have their own UID."""
    test.assertEqual(response.status_code, 200, response.content[:500])
    test.assertEqual(response["Content-Type"], CALENDAR_CONTENT_TYPE)
    calendar = Calendar.from_ical(response.content)
    events: dict[str, Any] = {}
    for event in calendar.walk("VEVENT"):
        uid = str(event["UID"])
        test.assertNotIn(uid, events, "two events of a calendar share a UID")
        events[uid] = event
    return events


def utc_instant(test: UnitTestCase, event, name: str) -> datetime:
    """The instant of the date-time property `name` of `event`, after checking
    it is written in UTC (`...Z`)."""
    test.assertTrue(event[name].to_ical().endswith(b"Z"), event[name].to_ical())
    return event.decoded(name)


def to_the_second(value: datetime) -> datetime:
    """`value` without its microseconds, as a calendar file writes it."""
    return value.replace(microsecond=0)
