"""Recurrence rules (RFC 5545 RRULE), read with python-dateutil, and their
occurrences in the studio's wall-clock time (API.md section 9).

Only `FREQ=DAILY` or `FREQ=WEEKLY`, with `BYDAY`, `INTERVAL`, `COUNT` and
`UNTIL`, are taken. The rule runs on the studio's clocks from its first start,
so a class at 07:00 stays at 07:00 across daylight-saving changes; a time
that a change skips moves forward by the gap. `UNTIL` without an offset is
studio time; with `Z`, that instant.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, time

from dateutil import rrule as dateutil_rrule
from django.utils.translation import gettext as _

from core import timezones
from core.errors import ValidationFailedError

FREQUENCIES = {"DAILY": dateutil_rrule.DAILY, "WEEKLY": dateutil_rrule.WEEKLY}
DAYS = {
    "MO": dateutil_rrule.MO,
    "TU": dateutil_rrule.TU,
    "WE": dateutil_rrule.WE,
    "TH": dateutil_rrule.TH,
    "FR": dateutil_rrule.FR,
    "SA": dateutil_rrule.SA,
    "SU": dateutil_rrule.SU,
}
PARTS = ("FREQ", "BYDAY", "INTERVAL", "COUNT", "UNTIL")
MAX_NUMBER = 10_000  # INTERVAL and COUNT: beyond any timetable


def _invalid(message: str) -> ValidationFailedError:
    return ValidationFailedError(errors={"recurrence": {"rrule": [message]}})


def _number(name: str, value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_NUMBER:
        raise _invalid(
            _("%(name)s must be a whole number from 1 to %(most)d.")
            % {"name": name, "most": MAX_NUMBER}
        )
    return int(value)


def _until(value: str) -> datetime:
    """UNTIL on the studio's clocks, naive: a date (its whole day), a local
    date and time, or a UTC one ending in Z."""
    formats = {8: "%Y%m%d", 15: "%Y%m%dT%H%M%S", 16: "%Y%m%dT%H%M%SZ"}
    try:
        moment = datetime.strptime(value, formats[len(value)])
    except (KeyError, ValueError):
        raise _invalid(
            _("UNTIL is a date (20270131), a studio time (20270131T070000) or UTC (…Z).")
        ) from None
    if len(value) == 8:
        return datetime.combine(moment.date(), time.max)
    if value.endswith("Z"):
        return timezones.naive_wall_clock(moment.replace(tzinfo=UTC), timezones.studio_zone())
    return moment


def rule_read(text: str, start: datetime) -> dateutil_rrule.rrule:
    """The rule `text` (with or without `RRULE:`) from the first start
    `start`, on the studio's naive wall clock; ValidationFailedError naming
    what is wrong."""
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    parts: dict[str, str] = {}
    for piece in body.split(";"):
        if not piece.strip() and parts:
            continue  # a trailing or doubled ';'
        name, equals, value = piece.partition("=")
        name = name.strip().upper()
        if not equals or not name or not value.strip():
            raise _invalid(
                _("A rule is NAME=VALUE parts joined by ';', e.g. FREQ=WEEKLY;BYDAY=MO.")
            )
        if name not in PARTS:
            raise _invalid(
                _("%(name)s is not supported; use FREQ, BYDAY, INTERVAL, COUNT and UNTIL.")
                % {"name": name}
            )
        if name in parts:
            raise _invalid(_("%(name)s is given twice.") % {"name": name})
        parts[name] = value.strip().upper()
    if parts.get("FREQ") not in FREQUENCIES:
        raise _invalid(_("FREQ must be DAILY or WEEKLY."))
    if "COUNT" in parts and "UNTIL" in parts:
        raise _invalid(_("A rule has COUNT or UNTIL, not both."))
    options = {
        "dtstart": timezones.naive_wall_clock(start, timezones.studio_zone()),
        "interval": _number("INTERVAL", parts["INTERVAL"]) if "INTERVAL" in parts else 1,
    }
    if "COUNT" in parts:
        options["count"] = _number("COUNT", parts["COUNT"])
    if "UNTIL" in parts:
        options["until"] = _until(parts["UNTIL"])
    if "BYDAY" in parts:
        days = [day.strip() for day in parts["BYDAY"].split(",")]
        if any(day not in DAYS for day in days):
            raise _invalid(_("BYDAY lists days as MO, TU, WE, TH, FR, SA or SU, e.g. MO,WE."))
        options["byweekday"] = [DAYS[day] for day in days]
    return dateutil_rrule.rrule(FREQUENCIES[parts["FREQ"]], **options)


def occurrences(rule: dateutil_rrule.rrule, start: datetime) -> Iterator[datetime]:
    """The rule's occurrences from `start` as instants, in order: each
    wall-clock time read on the studio's clocks. (When `start` is the second
    of a time that happens twice, that second one is the first occurrence.)"""
    zone = timezones.studio_zone()
    for moment in rule:
        instant = timezones.wall_clock(moment, zone)
        if instant < start:
            instant = timezones.wall_clock(moment, zone, second=True)
        if instant >= start:
            yield instant
