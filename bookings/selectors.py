from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils.timezone import now

from accounts.models import User
from bookings.models import Booking, BookingStatus
from sessions_app.models import TimeSlot


def with_waitlist_positions(bookings: Iterable[Booking]) -> Iterable[Booking]:
    """Sets `waitlist_position` on each of `bookings` (with their slots
    loaded): a waiting booking's place in its slot's waitlist (1 first, by
    `created_at` then id), None for any other booking and for one whose slot
    has started. One query on the waitlist index, and none when no booking
    waits. Returns `bookings`."""
    waiting = []
    for booking in bookings:
        booking.waitlist_position = None
        if booking.status == BookingStatus.WAITLISTED and not booking.time_slot.has_started:
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
    """`status` as the API shows it (a booking still waiting on a slot that
    has started is `expired`); `when="upcoming"`: slots that start in the
    future, soonest first; `when="past"`: slots that have started, latest first."""
    current = now()
    if status == BookingStatus.WAITLISTED:
        bookings = bookings.filter(status=status, time_slot__start__gt=current)
    elif status == BookingStatus.EXPIRED:
        bookings = bookings.filter(
            Q(status=status) | Q(status=BookingStatus.WAITLISTED, time_slot__start__lte=current)
        )
    elif status:
        bookings = bookings.filter(status=status)
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
