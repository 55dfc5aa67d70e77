"""Booking, cancelling, the waitlist, the studio cancelling a slot, and attendance.

These services, under the lock on the slot's row, are the code that changes
a slot's `booked` and `waitlisted` counters (the benchmark's seeder in bench/
writes `booked` too, straight into an empty database). Locks are taken
through `core.locking.lock_objects`, in its global order.

Promotion. When a seat frees up (a client cancels a confirmed booking, or the
timetable raises a slot's capacity and sends `core.signals.seats_freed`),
the oldest waiting bookings of the slot (by `created_at`, then id) whose
clients hold no overlapping confirmed booking become confirmed, as many as
there are free seats, in the transaction that freed them. A promoted client
gains a confirmed booking, so its row must be locked, as `booking_create`
locks the client who books: otherwise that client's concurrent booking of an
overlapping slot could pass its check unseen. The freeing write therefore
reads the slot's waiting clients first and locks their rows together with the
slot, in its one `lock_objects` call (users before slots).
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.timezone import now
from django.utils.translation import gettext as _

from accounts.models import User
from bookings.models import HOLDING, Attendance, Booking, BookingStatus
from bookings.selectors import waiting_clients
from core.actionlog import log_action, log_actions
from core.errors import (
    AlreadyBookedError,
    AttendanceClosedError,
    CancellationClosedError,
    SlotCancelledError,
    SlotExpiredError,
    SlotFullError,
    TimeConflictError,
    ValidationFailedError,
    WaitlistFullError,
)
from core.locking import LockSetChanged, lock_objects, with_fresh_locks
from core.signals import MailKind, mail_due
from sessions_app.cache import timetable_changed
from sessions_app.models import TimeSlot


def cancel_before(slot: TimeSlot) -> datetime:
    """The cancellation policy of a booking made now on `slot`: until when it
    may be cancelled without being late."""
    return slot.start - timedelta(hours=settings.STUDIO_CANCELLATION_WINDOW_HOURS)


def _waitlist_position(booking: Booking) -> int:
    """The booking's place in its slot's waitlist, 1 first."""
    return Booking.objects.filter(
        Q(created_at__lt=booking.created_at) | Q(created_at=booking.created_at, pk__lte=booking.pk),
        time_slot_id=booking.time_slot_id,
        status=BookingStatus.WAITLISTED,
    ).count()


def booking_create(
    *, client: User, time_slot_id: int, waitlist: bool = False, by: User | None
) -> Booking:
    """Books a seat on a time slot for `client`, or, with `waitlist` and no
    seat left, a place in the slot's waitlist.

    Locks the client's row and the slot's row for the whole transaction: the
    last seat (or the last place in the waitlist) goes to exactly one of any
    number of concurrent requests, and one client's concurrent requests
    cannot book two overlapping slots. The rules are checked in the
    contract's order: cancelled, expired, already booked (a confirmed or a
    waiting booking on this slot), time conflict (confirmed bookings only),
    full, waitlist full. A waiting booking comes back with its
    `waitlist_position`.
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
        # One query for both rules: a booking holding this very slot (a seat
        # or a place in its waitlist), or a confirmed one overlapping it.
        held = list(
            Booking.objects.for_client(client)
            .filter(
                Q(time_slot=slot, status__in=HOLDING)
                | Q(
                    status=BookingStatus.CONFIRMED,
                    time_slot__in=TimeSlot.objects.overlapping(slot.start, slot.end),
                )
            )
            .select_related("time_slot__session")
        )
        if any(booking.time_slot_id == slot.pk for booking in held):
            raise AlreadyBookedError()
        if held:
            raise TimeConflictError(
                _("You hold a booking on %(title)s at the same time.")
                % {"title": held[0].time_slot.session.title}
            )
        status = BookingStatus.CONFIRMED
        if slot.is_full:
            if not waitlist:
                raise SlotFullError()
            if slot.waitlisted >= settings.STUDIO_WAITLIST_SIZE:
                raise WaitlistFullError()
            status = BookingStatus.WAITLISTED
        try:
            booking = Booking.objects.create(
                client=client,
                time_slot=slot,
                status=status,
                cancel_before=cancel_before(slot),
                confirmed_at=now() if status == BookingStatus.CONFIRMED else None,
            )
        except IntegrityError:
            # The constraint on holding bookings caught a race the check
            # above could not see; the transaction is rolled back.
            raise AlreadyBookedError() from None
        if status == BookingStatus.CONFIRMED:
            TimeSlot.objects.filter(pk=slot.pk).update(booked=F("booked") + 1)
            slot.booked += 1
            booking.waitlist_position = None
            log_action(booking, "booking.created", by=by, data={"time_slot": slot.pk})
            mail_due.send(
                Booking, kind=MailKind.BOOKING_CONFIRMED, bookings=[booking], time_slot=slot
            )
        else:
            TimeSlot.objects.filter(pk=slot.pk).update(waitlisted=F("waitlisted") + 1)
            slot.waitlisted += 1
            booking.waitlist_position = _waitlist_position(booking)
            log_action(
                booking,
                "booking.waitlisted",
                by=by,
                data={"time_slot": slot.pk, "position": booking.waitlist_position},
            )
            mail_due.send(
                Booking,
                kind=MailKind.WAITLIST_JOINED,
                bookings=[booking],
                time_slot=slot,
                data={"position": booking.waitlist_position},
            )
        timetable_changed(seats_only=True)
    return booking


def booking_cancel(*, booking: Booking, by: User | None) -> Booking:
    """Cancels a confirmed or waiting booking; a cancelled booking is
    returned as it is. Refused once the slot has started.

    A confirmed booking cancelled after its `cancel_before` is marked late,
    and its seat goes to the waitlist (see the module's "Promotion"); the
    client, now free at that time, also moves up from the waitlist of an
    overlapping slot with a free seat. One `lock_objects` call takes the
    client's row, the rows of the clients waiting on those slots, and the
    slots. A client who joins one of those waitlists between this write's
    read and its lock is not among the locked rows: if that booking is the
    one to promote (or the cancelling client took up a new wait meanwhile),
    the transaction rolls back and runs again with a fresh read
    (`core.locking.with_fresh_locks`), so the queue's order always holds
    and no promoted client goes unlocked.
    """
    if booking.status == BookingStatus.CANCELLED:
        return booking
    if booking.time_slot.has_started:
        raise CancellationClosedError()
    with_fresh_locks(lambda: _cancel(booking, by=by))
    booking.refresh_from_db()
    return booking


def waits_overlapping(slot: TimeSlot, clients) -> set[int]:
    """The slots overlapping `slot` on which `clients` (ids, or a queryset
    of them) wait: those they may move up on once free of `slot`."""
    return set(
        Booking.objects.filter(
            client__in=clients,
            status=BookingStatus.WAITLISTED,
            time_slot__in=TimeSlot.objects.overlapping(slot.start, slot.end),
        )
        .exclude(time_slot=slot)
        .values_list("time_slot_id", flat=True)
    )


def _cancel(booking: Booking, *, by: User | None) -> None:
    with transaction.atomic():
        # The seat freed goes to this slot's waitlist; and the client, free at
        # this time again, may move up from the waitlist of an overlapping
        # slot that has a seat (one it was passed over for while holding this
        # one). The client's row is locked too, so the slots it waits on stay
        # as read once locked.
        waits = waits_overlapping(booking.time_slot, [booking.client_id])
        slot_ids = {booking.time_slot_id} | waits
        waiting = {booking.client_id, *waiting_clients(slot_ids)}
        _users, slots = lock_objects(
            User.objects.filter(pk__in=waiting), TimeSlot.objects.filter(pk__in=slot_ids)
        )
        if waits_overlapping(booking.time_slot, [booking.client_id]) - waits:
            raise LockSetChanged()
        slot = next(locked for locked in slots if locked.pk == booking.time_slot_id)
        cancelled_at = now()
        status = Booking.objects.filter(pk=booking.pk).values_list("status", flat=True).get()
        if status not in HOLDING:
            return
        late = status == BookingStatus.CONFIRMED and cancelled_at > booking.cancel_before
        Booking.objects.filter(pk=booking.pk, status=status).update(
            status=BookingStatus.CANCELLED, cancelled_at=cancelled_at, late=late
        )
        if status == BookingStatus.CONFIRMED:
            TimeSlot.objects.filter(pk=slot.pk).update(booked=F("booked") - 1)
            slot.booked -= 1
        else:
            TimeSlot.objects.filter(pk=slot.pk).update(waitlisted=F("waitlisted") - 1)
            slot.waitlisted -= 1
        log_action(booking, "booking.cancelled", by=by, data={"was": status})
        mail_due.send(
            Booking,
            kind=MailKind.BOOKING_CANCELLED,
            bookings=[booking],
            time_slot=slot,
            data={"late": late, "was": status},
        )
        if status == BookingStatus.CONFIRMED:
            for locked_slot in slots:
                waitlist_promote(time_slot=locked_slot, locked_users=waiting, by=by)
        timetable_changed(seats_only=True)


def waitlist_promote(
    *, time_slot: TimeSlot, locked_users: Iterable[int], by: User | None
) -> list[Booking]:
    """Fills the free seats of `time_slot` (as locked, counters current) from
    its waitlist: the oldest waiting bookings whose clients hold no
    overlapping confirmed booking become confirmed. Returns them.

    Runs inside the freeing write's transaction, under its lock on the slot
    and on the rows of `locked_users`; raises `LockSetChanged` when a booking
    to promote belongs to a client outside them (one who joined after the
    write read the waiting clients). A slot cancelled or started promotes
    no one.
    """
    slot = time_slot
    free = slot.capacity - slot.booked
    if free <= 0 or slot.waitlisted <= 0 or slot.is_cancelled or slot.has_started:
        return []
    waiters = list(
        Booking.objects.filter(time_slot=slot, status=BookingStatus.WAITLISTED).order_by(
            "created_at", "id"
        )
    )
    busy = set(
        Booking.objects.filter(
            client_id__in={waiter.client_id for waiter in waiters},
            status=BookingStatus.CONFIRMED,
            time_slot__in=TimeSlot.objects.overlapping(slot.start, slot.end),
        ).values_list("client_id", flat=True)
    )
    promoted = [waiter for waiter in waiters if waiter.client_id not in busy][:free]
    locked = set(locked_users)
    if any(waiter.client_id not in locked for waiter in promoted):
        raise LockSetChanged()
    if not promoted:
        return []
    confirmed_at = now()
    Booking.objects.filter(pk__in=[waiter.pk for waiter in promoted]).update(
        status=BookingStatus.CONFIRMED, confirmed_at=confirmed_at
    )
    count = len(promoted)
    TimeSlot.objects.filter(pk=slot.pk).update(
        booked=F("booked") + count, waitlisted=F("waitlisted") - count
    )
    slot.booked += count
    slot.waitlisted -= count
    for waiter in promoted:
        waiter.status = BookingStatus.CONFIRMED
        waiter.confirmed_at = confirmed_at
    log_actions(promoted, "booking.promoted", by=by, data={"time_slot": slot.pk})
    mail_due.send(Booking, kind=MailKind.BOOKING_CONFIRMED, bookings=promoted, time_slot=slot)
    return promoted


def seats_freed_received(sender, *, time_slots, locked_users, by, **kwargs) -> None:
    """Receives `core.signals.seats_freed` from the timetable's services."""
    for slot in time_slots:
        waitlist_promote(time_slot=slot, locked_users=locked_users, by=by)


def waitlist_expire(*, by: User | None = None) -> int:
    """Every booking still waiting on a slot that has started becomes
    expired, and the slot's waiter count goes to 0. Returns how many
    bookings expired; running it again changes nothing more."""
    expired = 0
    slot_ids = list(
        TimeSlot.objects.filter(start__lte=now(), bookings__status=BookingStatus.WAITLISTED)
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )
    for slot_id in slot_ids:
        with transaction.atomic():
            lock_objects(TimeSlot.objects.filter(pk=slot_id))
            bookings = list(
                Booking.objects.filter(time_slot_id=slot_id, status=BookingStatus.WAITLISTED)
            )
            Booking.objects.filter(pk__in=[booking.pk for booking in bookings]).update(
                status=BookingStatus.EXPIRED
            )
            TimeSlot.objects.filter(pk=slot_id).update(waitlisted=0)
            log_actions(bookings, "booking.expired", by=by, data={"time_slot": slot_id})
            expired += len(bookings)
    return expired


def time_slot_cancel(*, time_slot: TimeSlot, by: User | None) -> int:
    """The studio cancels an upcoming slot: it takes no more bookings, and
    every confirmed and waitlisted booking on it becomes cancelled (never
    late: the client did not cancel). Returns how many bookings were
    cancelled. A slot cancelled before is left as it is (0); one that has
    started is refused.

    Under the slot's lock, so no booking, cancellation or promotion on the
    slot runs in between, and the `booked` and `waitlisted` counters end at 0.
    Its clients are free at that time again: one who waits on an overlapping
    slot with a free seat (passed over while holding this one) moves up, as
    when a client cancels (see `booking_cancel`; the same rerun applies).
    """
    count = with_fresh_locks(lambda: _cancel_slot(time_slot, by=by))
    time_slot.refresh_from_db()
    return count


def _released_waits(slot: TimeSlot) -> set[int]:
    """The slots overlapping `slot` on which its confirmed clients wait."""
    clients = Booking.objects.filter(time_slot=slot, status=BookingStatus.CONFIRMED)
    return waits_overlapping(slot, clients.values("client"))


def _cancel_slot(time_slot: TimeSlot, *, by: User | None) -> int:
    with transaction.atomic():
        waits = _released_waits(time_slot)
        waiting = set(waiting_clients(waits))
        _users, slots = lock_objects(
            User.objects.filter(pk__in=waiting),
            TimeSlot.objects.filter(pk__in={time_slot.pk} | waits),
        )
        slot = next((locked for locked in slots if locked.pk == time_slot.pk), None)
        if slot is None or slot.is_cancelled:
            return 0
        if slot.has_started:
            raise SlotExpiredError()
        if _released_waits(slot) - waits:
            raise LockSetChanged()
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
        mail_due.send(Booking, kind=MailKind.SLOT_CANCELLED, bookings=bookings, time_slot=slot)
        for other in slots:
            if other.pk != slot.pk:
                waitlist_promote(time_slot=other, locked_users=waiting, by=by)
        timetable_changed()
    return len(bookings)


# Attendance is marked from this many minutes before a slot starts...
ATTENDANCE_OPENS_MINUTES_BEFORE_START = 30
# ...until this many days after it ends.
ATTENDANCE_CLOSES_DAYS_AFTER_END = 7


def attendance_is_open(slot: TimeSlot, at: datetime | None = None) -> bool:
    """Whether the attendance of `slot`'s bookings may be marked at `at` (now)."""
    at = at or now()
    opens = slot.start - timedelta(minutes=ATTENDANCE_OPENS_MINUTES_BEFORE_START)
    return opens <= at <= slot.end + timedelta(days=ATTENDANCE_CLOSES_DAYS_AFTER_END)


def attendance_closed() -> AttendanceClosedError:
    """The refusal of a mark outside the attendance window, which it names."""
    return AttendanceClosedError(
        _(
            "Attendance is marked from %(minutes)d minutes before a time slot starts "
            "until %(days)d days after it ends."
        )
        % {
            "minutes": ATTENDANCE_OPENS_MINUTES_BEFORE_START,
            "days": ATTENDANCE_CLOSES_DAYS_AFTER_END,
        }
    )


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
            raise attendance_closed()
        was = bookings[0].attendance
        if was != attendance:
            Booking.objects.filter(pk=booking.pk).update(attendance=attendance)
            log_action(
                booking, "booking.attendance_marked", by=by, data={"attendance": [was, attendance]}
            )
    booking.attendance = attendance
    booking.status = bookings[0].status
    return booking
