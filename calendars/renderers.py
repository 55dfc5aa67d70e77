"""Calendar feeds written as iCalendar (RFC 5545) with the `icalendar` library."""

from datetime import timedelta

from icalendar import Calendar, Event, vDuration
from rest_framework.renderers import BaseRenderer

from calendars.selectors import Feed
from core import timezones

PRODID = "-//Studio//Calendar feeds//EN"
# How often a subscribed calendar should fetch the feed again (RFC 7986).
REFRESH_INTERVAL = timedelta(hours=1)


class CalendarRenderer(BaseRenderer):
    """`text/calendar; charset=utf-8`: the view hands it the file's bytes.
    The only renderer of the feeds, so `Accept: text/calendar`, `*/*`,
    `text/*` or no Accept header all get the calendar."""

    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return data if isinstance(data, bytes) else b""


def calendar_bytes(feed: Feed) -> bytes:
    """`feed` as an iCalendar file, every time in UTC.

    No METHOD property: the file is a published calendar, not a scheduling
    message, so each DTSTAMP says when its event last changed (RFC 5545
    3.8.7.2), and the same data always makes the same bytes.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", feed.name)
    calendar.add("x-wr-calname", feed.name)
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL))
    for item in feed.events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", timezones.in_utc(item.stamp))
        event.add("dtstart", timezones.in_utc(item.start))
        event.add("dtend", timezones.in_utc(item.end))
        event.add("summary", item.summary)
        event.add("description", item.description)
        event.add("status", item.status)
        event.add("sequence", item.sequence)
        calendar.add_component(event)
    return calendar.to_ical()
