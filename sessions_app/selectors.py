"""Reads of sessions and time slots, each with the prefetching its serializer needs.

A list page costs a fixed number of queries whatever its length: one for
the count, one for the sessions with their instructors, one for their slots
(the public timetable one more, to find the page's sessions). The public
timetable is read as rows of the columns below, not model instances: it is
the read with the most rows. Model instances are shown through the same
rows (`session_row`, `slot_row`), so a session or a slot has one rendering.
"""

from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.timezone import now

from accounts.models import User
from core import timezones
from sessions_app.models import Session, SlotStatus, TimeSlot

SESSION_COLUMNS = (
    "id",
    "title",
    "description",
    "category",
    "instructor_id",
    "instructor__name",
    "rrule",
    "rrule_start",
    "rrule_minutes",
    "rrule_capacity",
    "created_at",
    "updated_at",
)
SLOT_COLUMNS = (
    "id",
    "session_id",
    "start",
    "end",
    "capacity",
    "booked",
    "waitlisted",
    "is_cancelled",
)


def session_with_slots() -> QuerySet[Session]:
    """Sessions with their instructor and every slot, past ones included."""
    return Session.objects.select_related("instructor").prefetch_related(
        Prefetch("time_slots", queryset=TimeSlot.objects.order_by("start", "id"))
    )


def session_list_for_instructor(*, instructor: User) -> QuerySet[Session]:
    """The instructor's own sessions, newest first."""
    return session_with_slots().filter(instructor=instructor)


def session_row(session: Session) -> dict:
    """`session` (with its instructor loaded) as a row of SESSION_COLUMNS."""
    return {
        "id": session.pk,
        "title": session.title,
        "description": session.description,
        "category": session.category,
        "instructor_id": session.instructor_id,
        "instructor__name": session.instructor.name,
        "rrule": session.rrule,
        "rrule_start": session.rrule_start,
        "rrule_minutes": session.rrule_minutes,
        "rrule_capacity": session.rrule_capacity,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
    }


def slot_row(slot: TimeSlot) -> dict:
    """`slot` as a row of SLOT_COLUMNS."""
    return {
        "id": slot.pk,
        "session_id": slot.session_id,
        "start": slot.start,
        "end": slot.end,
        "capacity": slot.capacity,
        "booked": slot.booked,
        "waitlisted": slot.waitlisted,
        "is_cancelled": slot.is_cancelled,
    }


def public_slots(
    *,
    zone: ZoneInfo,
    date_from: date | None = None,
    date_to: date | None = None,
    available: bool = False,
) -> QuerySet[TimeSlot]:
    """Upcoming slots, narrowed to days of `zone` and to slots with a seat."""
    slots = TimeSlot.objects.upcoming()
    if date_from is not None:
        slots = slots.filter(start__gte=timezones.day_bounds(date_from, zone)[0])
    if date_to is not None:
        slots = slots.filter(start__lt=timezones.day_bounds(date_to, zone)[1])
    if available:
        slots = slots.with_seat()
    return slots


def session_list_public(
    sessions: QuerySet[Session], *, slots: QuerySet[TimeSlot]
) -> QuerySet[Session]:
    """The sessions of `sessions` with at least one slot of `slots`, each with
    just those slots, soonest first; ordered by their next slot."""
    own_slots = slots.filter(session=OuterRef("pk"))
    return (
        sessions.filter(Exists(own_slots))
        .annotate(next_start=Subquery(own_slots.order_by("start").values("start")[:1]))
        .order_by("next_start", "id")
        .select_related("instructor")
        .prefetch_related(Prefetch("time_slots", queryset=slots.order_by("start", "id")))
    )


# Rows of the slot walk read at a time: first twice the sessions the pages
# up to this one need (and at least PAGE_WALK_FIRST), then twice as many each
# time. Most pages need one batch.
PAGE_WALK_FIRST = 40


class PublicTimetable:
    """The public timetable as a sequence for Django's paginator: the sessions
    of `sessions` with at least one slot of `slots`, ordered by their first
    such slot (then by id), each a dict of its columns with its `slots`
    (dicts too), soonest first.

    It is `session_list_public` read without model instances and without
    ordering every session: a page walks the slots in start order, on the
    index of upcoming slots, until it has met enough sessions, so its cost
    follows the page, not the timetable. A page costs three queries (the
    walk, the sessions with their instructors, their slots) and the count one.
    `narrowed`: whether `sessions` is narrowed at all (else it is not joined);
    `remember`: what may keep the count (`cache.remembered_count`).
    """

    def __init__(
        self,
        sessions: QuerySet[Session],
        *,
        slots: QuerySet[TimeSlot],
        narrowed: bool,
        remember: Callable[[Callable[[], int]], int] | None = None,
    ):
        self.slots = slots.filter(session__in=sessions) if narrowed else slots
        self._remember = remember
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = self._remember(self._count_all) if self._remember else self._count_all()
        return self._count

    def _count_all(self) -> int:
        return self.slots.order_by().values("session_id").distinct().count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, page: slice) -> list[dict]:
        ids = self._session_ids(page.start or 0, page.stop)
        if not ids:
            return []
        sessions = {
            row["id"]: {**row, "slots": []}
            for row in Session.objects.filter(pk__in=ids).order_by().values(*SESSION_COLUMNS)
        }
        for slot in (
            self.slots.filter(session_id__in=ids).order_by("start", "id").values(*SLOT_COLUMNS)
        ):
            sessions[slot["session_id"]]["slots"].append(slot)
        return [sessions[pk] for pk in ids]

    def _session_ids(self, offset: int, stop: int) -> list[int]:
        """The ids of the sessions from `offset` to `stop` in the timetable's order."""
        walk = self.slots.order_by("start", "session_id", "id").values_list("session_id", flat=True)
        met: dict[int, None] = {}
        read, batch = 0, max(2 * stop, PAGE_WALK_FIRST)
        while len(met) < stop:
            rows = list(walk[read : read + batch])
            met.update(dict.fromkeys(rows))
            read += len(rows)
            if len(rows) < batch:
                break
            batch *= 2
        return list(met)[offset:stop]


def session_search(sessions: QuerySet[Session], text: str) -> QuerySet[Session]:
    return sessions.filter(Q(title__icontains=text) | Q(description__icontains=text))


def session_list_with_upcoming(sessions: QuerySet[Session]) -> QuerySet[Session]:
    """`sessions` with their instructor and, over their upcoming slots, the
    next start (`next_start`, None without one) and the seats booked and
    offered (`upcoming_booked`, `upcoming_capacity`), each in the same query."""
    upcoming = TimeSlot.objects.upcoming().filter(session=OuterRef("pk")).order_by()

    def total(field: str) -> Coalesce:
        per_session = upcoming.values("session").annotate(total=Sum(field)).values("total")
        return Coalesce(Subquery(per_session), 0)

    return sessions.select_related("instructor").annotate(
        next_start=Subquery(upcoming.order_by("start").values("start")[:1]),
        upcoming_booked=total("booked"),
        upcoming_capacity=total("capacity"),
    )


def session_filter_upcoming(sessions: QuerySet[Session], *, upcoming: bool) -> QuerySet[Session]:
    """The sessions of `sessions` with an upcoming slot, or, with
    `upcoming=False`, those without one (every slot started or cancelled)."""
    has_upcoming = Exists(TimeSlot.objects.upcoming().filter(session=OuterRef("pk")))
    return sessions.filter(has_upcoming if upcoming else ~has_upcoming)


def slot_filter_status(slots: QuerySet[TimeSlot], status: str) -> QuerySet[TimeSlot]:
    """The slots of `slots` whose `status` (as the API shows it) is `status`."""
    if status == SlotStatus.CANCELLED:
        return slots.filter(is_cancelled=True)
    if status == SlotStatus.PAST:
        return slots.filter(is_cancelled=False, start__lte=now())
    upcoming = slots.filter(is_cancelled=False, start__gt=now())
    if status == SlotStatus.FULL:
        return upcoming.filter(booked__gte=F("capacity"))
    return upcoming.filter(booked__lt=F("capacity"))
