"""Time zones: the only module that builds or converts zones.

- The studio zone is `settings.TIME_ZONE` (`STUDIO_TIME_ZONE`); naive input is
  read there.
- The viewing zone of a request is the first of: the `tz` query parameter, the
  `X-Timezone` header, the signed-in user's profile, the studio zone.
- Output is ISO 8601 with the offset of the viewing zone at that instant, so
  daylight saving is applied per instant.
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from core.errors import InvalidTimezoneError

QUERY_PARAM = "tz"
HEADER = "X-Timezone"
_REQUEST_ATTR = "_studio_viewing_zone"

# Every zone's offset is under a day, so an instant at least a day inside
# datetime's range shows on the clocks of every zone (and converts to UTC).
EARLIEST = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
LATEST = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_zone_name(name: Any) -> bool:
    return isinstance(name, str) and name in _zone_names()


def get_zone(name: str) -> ZoneInfo:
    """The zone called `name`; InvalidTimezoneError when there is none."""
    if not is_zone_name(name):
        raise InvalidTimezoneError(
            _("Unknown time zone %(name)r; use an IANA name such as Asia/Kolkata.") % {"name": name}
        )
    return ZoneInfo(name)


def validate_zone_name(value: str) -> None:
    """Model and serializer validator for fields that hold a zone name."""
    if not is_zone_name(value):
        raise ValidationError(
            _("%(value)s is not a known time zone; use an IANA name such as Asia/Kolkata."),
            code="invalid_timezone",
            params={"value": value},
        )


def studio_zone_name() -> str:
    return settings.TIME_ZONE


def studio_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def studio_today() -> date:
    """Today's date on the studio's clocks."""
    return localize(now(), studio_zone()).date()


def requested_zone_name(request: Any) -> str | None:
    """The zone a request names explicitly (`tz`, then `X-Timezone`), if any."""
    name = request.GET.get(QUERY_PARAM)
    if name is None:
        name = request.headers.get(HEADER)
    if name is None:
        return None
    return name.strip()


def viewing_zone(request: Any | None) -> ZoneInfo:
    """The zone in which `request` sees times; the studio zone without one."""
    if request is None:
        return studio_zone()
    zone = getattr(request, _REQUEST_ATTR, None)
    if zone is not None:
        return zone
    name = requested_zone_name(request)
    if name is None:
        user = getattr(request, "user", None)
        name = getattr(user, "timezone", None) or studio_zone_name()
    zone = get_zone(name)
    setattr(request, _REQUEST_ATTR, zone)
    return zone


class NonExistentTimeError(ValueError):
    """A wall-clock time skipped by a daylight-saving change."""


class AmbiguousTimeError(ValueError):
    """A wall-clock time that happens twice at a daylight-saving change."""


class OutOfRangeError(ValueError):
    """An instant too near the ends of the calendar to show in every zone."""


def _in_range(value: datetime) -> datetime:
    if not EARLIEST <= value <= LATEST:
        raise OutOfRangeError(f"{value.isoformat()} is too far in the past or future.")
    return value


def read_naive(value: datetime, zone: ZoneInfo | None = None) -> datetime:
    """`value` as an aware datetime: naive input is wall-clock time in the
    studio zone (or `zone`); aware input is kept as the instant it names.

    A naive time that falls in a daylight-saving gap or fold is refused, since
    it names no instant, or two; so is an instant outside EARLIEST..LATEST.
    """
    if value.tzinfo is not None and value.utcoffset() is not None:
        return _in_range(value)
    zone = zone or studio_zone()
    early = _in_range(value.replace(tzinfo=zone, fold=0))
    late = value.replace(tzinfo=zone, fold=1)
    if early.utcoffset() != late.utcoffset():
        # Round-tripping through UTC tells a gap (the time never shows on the
        # clock) from a fold (it shows twice).
        round_trip = early.astimezone(UTC).astimezone(zone)
        if round_trip.replace(tzinfo=None) != value:
            raise NonExistentTimeError(
                f"{value.isoformat()} does not exist in {zone.key} (daylight-saving change)."
            )
        raise AmbiguousTimeError(
            f"{value.isoformat()} happens twice in {zone.key} (daylight-saving change)."
        )
    return early


def localize(value: datetime, zone: ZoneInfo) -> datetime:
    """The instant `value` on the clocks of `zone`."""
    return value.astimezone(zone)


def in_utc(value: datetime) -> datetime:
    """The instant `value` in UTC, as calendar files (RFC 5545) write it."""
    return value.astimezone(UTC)


def render(value: datetime, zone: ZoneInfo) -> str:
    """ISO 8601 with the offset `zone` has at that instant."""
    return localize(value, zone).isoformat()


def wall_clock(value: datetime, zone: ZoneInfo, *, second: bool = False) -> datetime:
    """The instant at which the clocks of `zone` show the naive `value`. A
    time that does not exist that day (a spring-forward gap) moves forward by
    the gap (02:30 becomes 03:30); a time that happens twice (fall back) is
    the first of the two, or with `second` the second."""
    return _in_range(value.replace(tzinfo=zone, fold=int(second)).astimezone(UTC))


def naive_wall_clock(value: datetime, zone: ZoneInfo) -> datetime:
    """What the clocks of `zone` show at the instant `value`, without a zone."""
    return localize(value, zone).replace(tzinfo=None)


def minute_iso(value: datetime, zone: ZoneInfo) -> str:
    """The instant on the clocks of `zone` as an ISO 8601 date and time to
    the minute, without an offset: "2027-01-13T07:00"."""
    return f"{localize(value, zone):%Y-%m-%dT%H:%M}"


def spell(value: datetime, zone: ZoneInfo) -> str:
    """The instant `value` on the clocks of `zone`, for people to read, with
    the zone's abbreviation: "Mon 7 Dec 2026, 07:00 IST"."""
    moment = localize(value, zone)
    return f"{moment:%a} {moment.day} {moment:%b %Y}, {moment:%H:%M} {moment.tzname()}"


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants at which `day` starts and the next day starts in `zone`;
    at the ends of the calendar, kept within EARLIEST..LATEST."""
    start = datetime.combine(day, time.min, tzinfo=zone)
    if day < date.max:
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    else:
        end = LATEST
    return min(max(start, EARLIEST), LATEST), min(max(end, EARLIEST), LATEST)
