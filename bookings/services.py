"""Booking, cancelling, the studio cancelling a slot, and attendance.

These services, under the lock on the slot's row, are the code that changes
a slot's `booked` counter (the benchmark's seeder in bench/ writes it too,
straight into an empty database). Locks are taken through
`studio.locking.lock_objects`, in its global order.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.timezone import now
from django.utils.translation import gettext as _

from accounts.models import User
from bookings.models import HOLDING, Attendance, Booking, BookingStatus
from sessions_app.cache import timetable_changed
from sessions_app.models import TimeSlot
from studio.actionlog import log_action, log_actions
from studio.errors import (
    AlreadyBookedError,
    AttendanceClosedError,
    CancellationClosedError,
    SlotCancelledError,
    SlotExpiredError,
    SlotFullError,
    TimeConflictError,
    ValidationFailedError,
)
from studio.locking import lock_objects


def cancel_before(slot: TimeSlot) -> datetime:
    """The cancellation policy of a booking made now on `slot`: until when it
    may be cancelled without being late."""
    return slot.start - timedelta(hours=settings.STUDIO_CANCELLATION_WINDOW_HOURS)


def booking_create(*, client: User, time_slot_id: int, by: User | None) -> Booking:
    """Books a seat on a time slot for `client`.

    Locks the client's row and the slot's row for the whole transaction: the
    last seat goes to exactly one of any number of concurrent requests, and
    one client's concurrent requests cannot book two overlapping slots. The
    rules are checked in the contract's order: cancelled, expired, already
    booked, time conflict, full.
    """
    with transaction.atomic():
        _client, slots = lock_objects(
            User.objects.filter(pk=client.pk),
            TimeSlot.objects.filter(pk=time_slot_id).select_related("session__instructor"),
        )
        if not slots:
            raise ValidationFailedError(
                errors={"time_slot": [_("There is no time slot with this id.")]}
            )
        slot = slots[0]
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
            booking = Booking.objects.create(
                client=client, time_slot=slot, cancel_before=cancel_before(slot)
            )
        except IntegrityError:
            # The constraint on confirmed bookings caught a race the check
            # above could not see; the transaction is rolled back.
            raise AlreadyBookedError() from None
        TimeSlot.objects.filter(pk=slot.pk).update(booked=F("booked") + 1)
        slot.booked += 1
        log_action(booking, "booking.created", by=by, data={"time_slot": slot.pk})
        timetable_changed()
    return booking


def booking_cancel(*, booking: Booking, by: User | None) -> Booking:
    """Cancels a confirmed booking and frees its seat; a cancelled booking is
    returned as it is. Refused once the slot has started."""
    if booking.status == BookingStatus.CANCELLED:
        return booking
    if booking.time_slot.has_started:
        raise CancellationClosedError()
    with transaction.atomic():
        lock_objects(TimeSlot.objects.filter(pk=booking.time_slot_id))
        cancelled = Booking.objects.filter(pk=booking.pk, status=BookingStatus.CONFIRMED).update(
            status=BookingStatus.CANCELLED, cancelled_at=now()
        )
        if cancelled:
            TimeSlot.objects.filter(pk=booking.time_slot_id).update(booked=F("booked") - 1)
            log_action(booking, "booking.cancelled", by=by)
            timetable_changed()
    booking.refresh_from_db()
    return booking


def time_slot_cancel(*, time_slot: TimeSlot, by: User | None) -> int:
    """The studio cancels an upcoming slot: it takes no more bookings, and
    every confirmed and waitlisted booking on it becomes cancelled (never
    late: the client did not cancel). Returns how many bookings were
    cancelled. A slot cancelled before is left as it is (0); one that has
    started is refused.

    Under the slot's lock, so no booking, cancellation or promotion on the
    slot runs in between, and the `booked` and `waitlisted` counters end at 0.
    """
    with transaction.atomic():
        (slots,) = lock_objects(TimeSlot.objects.filter(pk=time_slot.pk))
        slot = slots[0] if slots else None
        if slot is None or slot.is_cancelled:
            return 0
        if slot.has_started:
            raise SlotExpiredError()
        cancelled_at = now()
        bookings = list(Booking.objects.filter(time_slot=slot, status__in=HOLDING))
        Booking.objects.filter(pk__in=[booking.pk for booking in bookings]).update(
            status=BookingStatus.CANCELLED, cancelled_at=cancelled_at, late=False
        )
        slot.is_cancelled = True
        slot.cancelled_at = cancelled_at
        slot.booked = 0
        slot.waitlisted = 0
        slot.save(update_fields=["is_cancelled", "cancelled_at", "booked", "waitlisted"])
        log_action(slot, "time_slot.cancelled", by=by, data={"bookings_cancelled": len(bookings)})
        log_actions(bookings, "booking.cancelled", by=by, data={"reason": "time_slot.cancelled"})
        # The clients of `bookings` are the ones to tell of the cancellation
        # (API.md section 8, `slot_cancelled`): their notifications belong
        # here, written in this transaction.
        timetable_changed()
    time_slot.refresh_from_db()
    return len(bookings)


# Attendance is marked from this long before a slot starts...
ATTENDANCE_OPENS_BEFORE_START = timedelta(minutes=30)
# ...until this long after it ends.
ATTENDANCE_CLOSES_AFTER_END = timedelta(days=7)


def attendance_is_open(slot: TimeSlot, at: datetime | None = None) -> bool:
    """Whether the attendance of `slot`'s bookings may be marked at `at` (now)."""
    at = at or now()
    opens = slot.start - ATTENDANCE_OPENS_BEFORE_START
    return opens <= at <= slot.end + ATTENDANCE_CLOSES_AFTER_END


def booking_mark_attendance(*, booking: Booking, attendance: str, by: User | None) -> Booking:
    """Marks whether the client of a confirmed booking came (`attended`) or
    not (`no_show`); a mark may be changed while attendance is open.

    Locks the slot's row, as every change of its bookings' status does, and
    the booking's, so a booking is marked only while it is confirmed.
    """
    if attendance not in Attendance.values:
        raise ValidationFailedError(
            errors={"attendance": [_("Attendance is attended or no_show.")]}
        )
    with transaction.atomic():
        slots, bookings = lock_objects(
            TimeSlot.objects.filter(pk=booking.time_slot_id), Booking.objects.filter(pk=booking.pk)
        )
        if not bookings or bookings[0].status != BookingStatus.CONFIRMED:
            raise ValidationFailedError(
                errors={"booking": [_("Only a confirmed booking can be marked.")]}
            )
        if not attendance_is_open(slots[0]):
            raise AttendanceClosedError()
        was = bookings[0].attendance
        if was != attendance:
            Booking.objects.filter(pk=booking.pk).update(attendance=attendance)
            log_action(
                booking, "booking.attendance_marked", by=by, data={"attendance": [was, attendance]}
            )
    booking.attendance = attendance
    booking.status = bookings[0].status
    return booking
