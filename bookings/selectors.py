from django.db.models import QuerySet
from django.utils.timezone import now

from accounts.models import User
from bookings.models import Booking, BookingStatus
from sessions_app.models import TimeSlot


def booking_list(*, client: User) -> QuerySet[Booking]:
    """The client's bookings with their slots and sessions, latest slot first."""
    return (
        Booking.objects.for_client(client)
        .select_related("time_slot__session__instructor")
        .order_by("-time_slot__start", "-id")
    )


def booking_filter(
    bookings: QuerySet[Booking], *, when: str | None = None, status: str | None = None
) -> QuerySet[Booking]:
    """`when="upcoming"`: slots that start in the future, soonest first;
    `when="past"`: slots that have started, latest first."""
    if status:
        bookings = bookings.filter(status=status)
    if when == "upcoming":
        return bookings.filter(time_slot__start__gt=now()).order_by("time_slot__start", "id")
    if when == "past":
        return bookings.filter(time_slot__start__lte=now()).order_by("-time_slot__start", "-id")
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
