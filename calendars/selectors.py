"""What a calendar feed shows: one event per booking or slot, read with a
fixed number of queries however many events there are.

An event's SEQUENCE counts the action-log entries of the objects it is made
of (its slot, the slot's session, the instructor's renames and, in a
client's feed, the booking). Entries are never changed nor deleted and every
change is logged, so the count only grows and grows with each change. Its
DTSTAMP is the newest of those entries: when the event last changed.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Model, Q, QuerySet
from django.utils.timezone import now

from accounts.models import User
from bookings.models import Booking, BookingStatus
from calendars import services
from calendars.models import CalendarFeed
from core.errors import NotFoundError
from core.models import ActionLogEntry
from sessions_app.models import Session, TimeSlot

# A feed shows the slots that start this long ago or later.
FEED_WINDOW = timedelta(days=30)
# Changed whenever the way events are written changes, so every ETag does too.
FORMAT_VERSION = "1"

CONFIRMED = "CONFIRMED"
CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    start: datetime
    end: datetime
    summary: str
    description: str
    status: str
    sequence: int
    stamp: datetime


@dataclass(frozen=True)
class Feed:
    name: str
    events: tuple[FeedEvent, ...]
    # The newest change of the feed's events, or `since` when that is newer.
    modified: datetime

    @property
    def etag(self) -> str:
        """A strong ETag: the same exactly when the calendar written is."""
        digest = hashlib.sha256(repr((FORMAT_VERSION, self.name, self.events)).encode())
        return f'"{digest.hexdigest()[:40]}"'


def slot_uid(slot_id: int) -> str:
    return f"slot-{slot_id}@studio"


def booking_uid(booking_id: int) -> str:
    # The same UID as the booking confirmation's attachment (notifications.messages).
    return f"booking-{booking_id}@studio"


class _Log:
    """Count and newest time of the action-log entries of each object of one
    model whose ids `ids` (a values() queryset) selects: one query."""

    def __init__(self, model: type[Model], ids: QuerySet, **filters):
        rows = (
            ActionLogEntry.objects.filter(
                content_type__app_label=model._meta.app_label,
                content_type__model=model._meta.model_name,
                object_id__in=ids,
                **filters,
            )
            .order_by()
            .values("object_id")
            .annotate(count=Count("id"), last=Max("created_at"))
        )
        self.rows = {row["object_id"]: (row["count"], row["last"]) for row in rows}

    def count(self, pk: int) -> int:
        return self.rows.get(pk, (0, None))[0]

    def last(self, pk: int) -> datetime | None:
        return self.rows.get(pk, (0, None))[1]


@dataclass(frozen=True)
class _Slot:
    """The columns of a slot that its event shows, read with values()."""

    id: int
    start: datetime
    end: datetime
    is_cancelled: bool
    cancelled_at: datetime | None
    session_id: int
    title: str
    description: str
    session_updated_at: datetime
    instructor_id: int
    instructor_name: str


# _Slot's field -> its column, from a time slot.
_SLOT_COLUMNS = {
    "id": "id",
    "start": "start",
    "end": "end",
    "is_cancelled": "is_cancelled",
    "cancelled_at": "cancelled_at",
    "session_id": "session_id",
    "title": "session__title",
    "description": "session__description",
    "session_updated_at": "session__updated_at",
    "instructor_id": "session__instructor_id",
    "instructor_name": "session__instructor__name",
}


def _slot_columns(prefix: str = "") -> list[str]:
    return [prefix + column for column in _SLOT_COLUMNS.values()]


def _slot(row: dict, prefix: str = "") -> _Slot:
    return _Slot(**{field: row[prefix + column] for field, column in _SLOT_COLUMNS.items()})


class _SlotLogs:
    """The logs a slot's event is made of: the slot's, its session's and its
    instructor's renames (the DESCRIPTION names the instructor)."""

    def __init__(self, slots: QuerySet):
        self.slots = _Log(TimeSlot, slots.values("pk"))
        self.sessions = _Log(Session, slots.values("session_id"))
        self.renames = _Log(
            User,
            slots.values("session__instructor_id"),
            action="user.updated",
            data__has_key="name",
        )

    def sequence(self, slot: _Slot) -> int:
        return (
            self.slots.count(slot.id)
            + self.sessions.count(slot.session_id)
            + self.renames.count(slot.instructor_id)
        )

    def stamps(self, slot: _Slot) -> list[datetime | None]:
        return [
            self.slots.last(slot.id),
            self.sessions.last(slot.session_id),
            self.renames.last(slot.instructor_id),
            slot.session_updated_at,
            slot.cancelled_at,
        ]


def _description(slot: _Slot) -> str:
    text = f"With {slot.instructor_name}."
    if slot.description:
        text += f"\n\n{slot.description}"
    return text


def _event(
    slot: _Slot, *, uid: str, confirmed: bool, sequence: int, stamps: list[datetime | None]
) -> FeedEvent:
    return FeedEvent(
        uid=uid,
        start=slot.start,
        end=slot.end,
        summary=slot.title,
        description=_description(slot),
        status=CONFIRMED if confirmed else CANCELLED,
        sequence=sequence,
        stamp=max(stamp for stamp in stamps if stamp is not None),
    )


def _feed(name: str, events: Iterable[FeedEvent], since: datetime) -> Feed:
    events = tuple(events)
    return Feed(name=name, events=events, modified=max([since, *(e.stamp for e in events)]))


def _slot_events(slots: QuerySet) -> list[FeedEvent]:
    logs = _SlotLogs(slots)
    rows = slots.order_by("start", "pk").values(*_slot_columns())
    events = []
    for row in rows:
        slot = _slot(row)
        events.append(
            _event(
                slot,
                uid=slot_uid(slot.id),
                confirmed=not slot.is_cancelled,
                sequence=logs.sequence(slot),
                stamps=logs.stamps(slot),
            )
        )
    return events


def instructor_events(user: User) -> list[FeedEvent]:
    """The instructor's slots that start FEED_WINDOW ago or later, a cancelled
    one as CANCELLED."""
    return _slot_events(
        TimeSlot.objects.filter(session__instructor=user, start__gte=now() - FEED_WINDOW)
    )


def client_events(user: User) -> list[FeedEvent]:
    """The client's bookings on slots that start FEED_WINDOW ago or later:
    the confirmed ones, and as CANCELLED the ones cancelled after holding a
    seat (a booking that only waited, or expired, never showed)."""
    bookings = Booking.objects.filter(
        client=user, time_slot__start__gte=now() - FEED_WINDOW
    ).filter(
        Q(status=BookingStatus.CONFIRMED)
        | Q(status=BookingStatus.CANCELLED, confirmed_at__isnull=False)
    )
    logs = _SlotLogs(TimeSlot.objects.filter(pk__in=bookings.values("time_slot_id")))
    booking_logs = _Log(Booking, bookings.values("pk"))
    rows = bookings.order_by("time_slot__start", "pk").values(
        "pk", "status", "created_at", "cancelled_at", *_slot_columns("time_slot__")
    )
    events = []
    for row in rows:
        slot = _slot(row, "time_slot__")
        booking_id = row["pk"]
        events.append(
            _event(
                slot,
                uid=booking_uid(booking_id),
                confirmed=row["status"] == BookingStatus.CONFIRMED and not slot.is_cancelled,
                sequence=logs.sequence(slot) + booking_logs.count(booking_id),
                stamps=[
                    *logs.stamps(slot),
                    booking_logs.last(booking_id),
                    row["created_at"],
                    row["cancelled_at"],
                ],
            )
        )
    return events


def calendar_feed_by_secret(secret: str) -> CalendarFeed:
    """The feed whose URL carries `secret`; NotFoundError for an unknown or
    replaced one, or the feed of a deactivated account."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=services.secret_hash(secret), user__is_active=True)
        .first()
    )
    if feed is None or not services.secret_matches(feed, secret):
        raise NotFoundError()
    return feed


def personal_feed(feed: CalendarFeed) -> Feed:
    """The feed of `feed`'s user: an instructor's slots, or a client's bookings."""
    user = feed.user
    if user.is_instructor:
        return _feed("Studio: my teaching", instructor_events(user), feed.created_at)
    return _feed("Studio: my classes", client_events(user), feed.created_at)


def session_feed(session_id: int) -> Feed:
    """The public calendar of a session: its slots that have not started, a
    cancelled one as CANCELLED. A session without upcoming slots has an empty
    calendar; an unknown one is NotFoundError."""
    session = Session.objects.filter(pk=session_id).first()
    if session is None:
        raise NotFoundError()
    events = _slot_events(TimeSlot.objects.filter(session=session, start__gt=now()))
    return _feed(f"Studio: {session.title}", events, session.updated_at)
