"""Reads of sessions and time slots, each with the prefetching its serializer needs.

A list page costs a fixed number of queries whatever its length: one for
the count, one for the sessions with their instructors, one for their slots
(and, for the owner's view, one for the slots' bookings with their clients).
"""

from datetime import date
from zoneinfo import ZoneInfo

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.timezone import now

from accounts.models import User
from sessions_app.models import Session, SlotStatus, TimeSlot
from studio import timezones


def session_with_slots() -> QuerySet[Session]:
    """Sessions with their instructor and every slot, past ones included."""
    return Session.objects.select_related("instructor").prefetch_related(
        Prefetch("time_slots", queryset=TimeSlot.objects.order_by("start", "id"))
    )


def session_list_for_instructor(*, instructor: User) -> QuerySet[Session]:
    """The instructor's own sessions, newest first."""
    return session_with_slots().filter(instructor=instructor)


def session_detail_queryset() -> QuerySet[Session]:
    """Sessions with every slot and each slot's bookings and their clients.

    The bookings are read through the slots' reverse relation: bookings
    build on the timetable, which does not import them."""
    booking_model = TimeSlot.bookings.rel.related_model
    bookings = booking_model.objects.select_related("client").order_by("created_at", "id")
    slots = TimeSlot.objects.order_by("start", "id").prefetch_related(
        Prefetch("bookings", queryset=bookings)
    )
    return Session.objects.select_related("instructor").prefetch_related(
        Prefetch("time_slots", queryset=slots)
    )


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
