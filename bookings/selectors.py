from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, When
from django.utils.timezone import now

from accounts.models import User
from bookings.models import Booking, BookingStatus
from sessions_app.models import TimeSlot


def with_waitlist_position(bookings: QuerySet[Booking]) -> QuerySet[Booking]:
    """Annotates `waitlist_position`: a waiting booking's place in its slot's
    waitlist (1 first, by `created_at` then id), null for any other booking
    and for one whose slot has started. One subquery, on the waitlist index."""
    ahead = (
        Booking.objects.filter(time_slot=OuterRef("time_slot"), status=BookingStatus.WAITLISTED)
        .filter(
            Q(created_at__lt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), pk__lte=OuterRef("pk"))
        )
        .order_by()
        .values("time_slot")
        .annotate(position=Count("pk"))
        .values("position")
    )
    return bookings.annotate(
        waitlist_position=Case(
            When(
                status=BookingStatus.WAITLISTED,
                time_slot__start__gt=now(),
                then=Subquery(ahead),
            ),
            default=None,
        )
    )


def booking_list(*, client: User) -> QuerySet[Booking]:
    """The client's bookings with their slots, sessions and waitlist
    positions, latest slot first."""
    return with_waitlist_position(
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
