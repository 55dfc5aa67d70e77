"""Reads of bookings, of the clients waiting on slots, and of the owner's
view of a session: every slot with its bookings and their clients.

The owner's session detail is read as rows: the session's and slots' columns
of `sessions_app.selectors`, each slot with its `bookings`, rows of
SLOT_BOOKING_COLUMNS. Model instances are shown through the same rows
(`booking_row`, `session_detail_row`), so each has one rendering.
"""

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Prefetch, QuerySet
from django.utils.timezone import now

from accounts.models import User
from bookings.models import Booking, BookingStatus, shown_status_filter
from sessions_app.models import Session, TimeSlot
from sessions_app.selectors import SLOT_COLUMNS, session_row, slot_row

# A booking as its slot's owner sees it.
SLOT_BOOKING_COLUMNS = (
    "id",
    "time_slot_id",
    "status",
    "created_at",
    "attendance",
    "client_id",
    "client__name",
    "client__email",
)


def with_waitlist_positions(bookings: Iterable[Booking]) -> Iterable[Booking]:
    """Sets `waitlist_position` on each of `bookings` (with their slots
    loaded): a waiting booking's place in its slot's waitlist (1 first, by
    `created_at` then id), None for any other booking and for one whose slot
    has started. One query on the waitlist index, and none when no booking
    waits. Returns `bookings`."""
    waiting = []
    for booking in bookings:
        booking.waitlist_position = None
        if booking.current_status == BookingStatus.WAITLISTED:
            waiting.append(booking)
    if waiting:
        places: dict[int, int] = {}
        counted: dict[int, int] = defaultdict(int)
        queue = (
            Booking.objects.filter(
                time_slot_id__in={booking.time_slot_id for booking in waiting},
                status=BookingStatus.WAITLISTED,
            )
            .order_by("time_slot_id", "created_at", "id")
            .values_list("id", "time_slot_id")
        )
        for pk, slot_id in queue:
            counted[slot_id] += 1
            places[pk] = counted[slot_id]
        for booking in waiting:
            booking.waitlist_position = places.get(booking.pk)
    return bookings


def booking_list(*, client: User) -> QuerySet[Booking]:
    """The client's bookings with their slots and sessions, latest slot
    first; `with_waitlist_positions` adds the places of those shown."""
    return (
        Booking.objects.for_client(client)
        .select_related("time_slot__session__instructor")
        .order_by("-time_slot__start", "-id")
    )


def booking_filter(
    bookings: QuerySet[Booking], *, when: str | None = None, status: str | None = None
) -> QuerySet[Booking]:
    """`status` as the API shows it (`models.shown_status`); `when="upcoming"`:
    slots that start in the future, soonest first; `when="past"`: slots that
    have started, latest first."""
    current = now()
    if status:
        bookings = bookings.filter(shown_status_filter(status, at=current))
    if when == "upcoming":
        return bookings.filter(time_slot__start__gt=current).order_by("time_slot__start", "id")
    if when == "past":
        return bookings.filter(time_slot__start__lte=current).order_by("-time_slot__start", "-id")
    return bookings


def waitlist(*, time_slot: TimeSlot) -> QuerySet[Booking]:
    """The bookings waiting for a seat on `time_slot`, in the order they are
    promoted: oldest first."""
    return (
        Booking.objects.filter(time_slot=time_slot, status=BookingStatus.WAITLISTED)
        .select_related("client")
        .order_by("created_at", "id")
    )


def booking_on_slot(*, time_slot: TimeSlot, booking_id: int) -> Booking | None:
    """The booking `booking_id` if it is one of `time_slot`'s, with what its
    answer shows (slot, session, instructor); else None."""
    return (
        Booking.objects.filter(pk=booking_id, time_slot=time_slot)
        .select_related("time_slot__session__instructor")
        .first()
    )


def booking_row(booking: Booking) -> dict:
    """`booking` (with its slot, session and instructor loaded, and its
    `waitlist_position` if `with_waitlist_positions` set it) as a row: its
    columns, its `time_slot` as a slot row and its `session`."""
    session = booking.time_slot.session
    return {
        "id": booking.pk,
        "status": booking.status,
        "waitlist_position": getattr(booking, "waitlist_position", None),
        "created_at": booking.created_at,
        "cancelled_at": booking.cancelled_at,
        "cancel_before": booking.cancel_before,
        "late": booking.late,
        "attendance": booking.attendance,
        "time_slot": slot_row(booking.time_slot),
        "session": {
            "id": session.pk,
            "title": session.title,
            "category": session.category,
            "instructor_id": session.instructor_id,
            "instructor__name": session.instructor.name,
        },
    }


def session_detail_queryset() -> QuerySet[Session]:
    """Sessions with every slot and each slot's bookings and their clients."""
    bookings = Booking.objects.select_related("client").order_by("created_at", "id")
    slots = TimeSlot.objects.order_by("start", "id").prefetch_related(
        Prefetch("bookings", queryset=bookings)
    )
    return Session.objects.select_related("instructor").prefetch_related(
        Prefetch("time_slots", queryset=slots)
    )


def slot_booking_row(booking: Booking) -> dict:
    """`booking` (with its client loaded) as a row of SLOT_BOOKING_COLUMNS."""
    return {
        "id": booking.pk,
        "time_slot_id": booking.time_slot_id,
        "status": booking.status,
        "created_at": booking.created_at,
        "attendance": booking.attendance,
        "client_id": booking.client_id,
        "client__name": booking.client.name,
        "client__email": booking.client.email,
    }


def session_detail_row(session: Session) -> dict:
    """A session of `session_detail_queryset` as the rows `session_detail_get`
    reads, from what the queryset loaded."""
    return {
        **session_row(session),
        "slots": [
            {**slot_row(slot), "bookings": [slot_booking_row(b) for b in slot.bookings.all()]}
            for slot in session.time_slots.all()
        ],
    }


def session_detail_get(*, session: Session) -> dict:
    """The owner's view of `session` (with its instructor loaded) as rows, as
    `session_detail_queryset` reads it: every slot, soonest first, each with
    its `bookings`, oldest first, and their clients. Two queries."""
    row = session_row(session)
    row["slots"] = list(
        TimeSlot.objects.filter(session=session).order_by("start", "id").values(*SLOT_COLUMNS)
    )
    by_id = {slot["id"]: slot for slot in row["slots"]}
    for slot in row["slots"]:
        slot["bookings"] = []
    if by_id:
        bookings = Booking.objects.filter(time_slot_id__in=list(by_id))
        for booking in bookings.order_by("created_at", "id").values(*SLOT_BOOKING_COLUMNS):
            by_id[booking["time_slot_id"]]["bookings"].append(booking)
    return row


def waiting_clients(time_slots: QuerySet[TimeSlot] | Iterable[int]) -> list[int]:
    """The ids of the clients waiting for a seat on `time_slots` (slots or
    their ids), in order, read without a lock: the users a write that may
    free seats on those slots locks, so that promotion may confirm them."""
    if not isinstance(time_slots, QuerySet):
        time_slots = list(time_slots)
    return list(
        Booking.objects.filter(time_slot__in=time_slots, status=BookingStatus.WAITLISTED)
        .order_by("client_id")
        .values_list("client_id", flat=True)
        .distinct()
    )


def waiting_clients_received(sender, *, time_slots, **kwargs) -> list[int]:
    """Answers `core.signals.waiting_clients_asked` from the timetable's services."""
    return waiting_clients(time_slots)
