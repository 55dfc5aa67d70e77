"""Booking and cancelling: the only code that changes a slot's seat count."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.timezone import now
from django.utils.translation import gettext as _

from accounts.models import User
from bookings.models import Booking, BookingStatus
from sessions_app.cache import timetable_changed
from sessions_app.models import TimeSlot
from studio.errors import (
    AlreadyBookedError,
    CancellationClosedError,
    SlotCancelledError,
    SlotExpiredError,
    SlotFullError,
    TimeConflictError,
    ValidationFailedError,
)


def booking_create(*, client: User, time_slot_id: int) -> Booking:
    """Books a seat on a time slot for `client`.

    Locks the client's row, then the slot's row, for the whole transaction:
    the last seat goes to exactly one of any number of concurrent requests,
    and one client's concurrent requests cannot book two overlapping slots.
    The rules are checked in the contract's order: cancelled, expired,
    already booked, time conflict, full.
    """
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=client.pk).first()
        slot = (
            TimeSlot.objects.select_for_update(of=("self",))
            .select_related("session__instructor")
            .filter(pk=time_slot_id)
            .first()
        )
        if slot is None:
            raise ValidationFailedError(
                errors={"time_slot": [_("There is no time slot with this id.")]}
            )
        if slot.is_cancelled:
            raise SlotCancelledError()
        if slot.has_started:
            raise SlotExpiredError()
        # One query for both rules: a confirmed booking on this very slot
        # overlaps it too, and is the one that counts.
        held = list(
            Booking.objects.for_client(client)
            .confirmed()
            .filter(time_slot__start__lt=slot.end, time_slot__end__gt=slot.start)
            .select_related("time_slot__session")
        )
        if any(booking.time_slot_id == slot.pk for booking in held):
            raise AlreadyBookedError()
        if held:
            raise TimeConflictError(
                _("You hold a booking on %(title)s at the same time.")
                % {"title": held[0].time_slot.session.title}
            )
        if slot.is_full:
            raise SlotFullError()
        try:
            booking = Booking.objects.create(client=client, time_slot=slot)
        except IntegrityError:
            # The constraint on confirmed bookings caught a race the check
            # above could not see; the transaction is rolled back.
            raise AlreadyBookedError() from None
        TimeSlot.objects.filter(pk=slot.pk).update(booked=F("booked") + 1)
        slot.booked += 1
        timetable_changed()
    return booking


def booking_cancel(*, booking: Booking) -> Booking:
    """Cancels a confirmed booking and frees its seat; a cancelled booking is
    returned as it is. Refused once the slot has started.

    Takes the slot's lock before the booking's row, the same order as
    booking_create and time_slot_cancel, so the three cannot deadlock.
    """
    if booking.status == BookingStatus.CANCELLED:
        return booking
    if booking.time_slot.has_started:
        raise CancellationClosedError()
    with transaction.atomic():
        TimeSlot.objects.select_for_update().filter(pk=booking.time_slot_id).first()
        cancelled = Booking.objects.filter(pk=booking.pk, status=BookingStatus.CONFIRMED).update(
            status=BookingStatus.CANCELLED, cancelled_at=now()
        )
        if cancelled:
            TimeSlot.objects.filter(pk=booking.time_slot_id).update(booked=F("booked") - 1)
            timetable_changed()
    booking.refresh_from_db()
    return booking
