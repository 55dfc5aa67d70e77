"""Writing the outbox: each notification is a row written in the
transaction of the change it tells of, and handed to a worker after commit
(notifications.delivery sends it).

The booking and account services send `core.signals.mail_due` inside their
transaction; `mail_due_received` writes the rows there, so a rolled-back
change mails nothing. `reminders_queue` writes the reminder of every confirmed
booking whose slot starts within `STUDIO_REMINDER_MINUTES`, once it falls due.
"""

from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils.timezone import now

from accounts.models import User
from bookings.models import Booking, BookingStatus
from core.actionlog import log_actions
from core.signals import MailKind
from notifications import messages
from notifications.delivery import notifications_enqueue
from notifications.models import Notification, NotificationStatus
from sessions_app.models import Session, TimeSlot


def _deliver_after_commit(ids: list[int]) -> None:
    transaction.on_commit(partial(notifications_enqueue, ids))


def _notification(
    kind: str,
    user: User,
    *,
    at: datetime,
    booking: Booking | None = None,
    slot: TimeSlot | None = None,
    data: dict | None = None,
) -> Notification:
    """The unsaved row of one mail of `kind` to `user`, due at `at`, its
    subject written now in the user's zone. `data` is what the mail states
    as of the change; `slot` the booking's slot, as the sender loaded it."""
    values = messages.context(kind, user, booking, data, slot=slot)
    return Notification(
        user=user,
        booking=booking,
        kind=kind,
        subject=messages.subject(kind, values),
        data=data or {},
        created_at=at,
        next_attempt_at=at,
    )


def _session_of(slot: TimeSlot, bookings: list[Booking]) -> Session:
    """The slot's session, as the sender loaded it if it did."""
    if TimeSlot.session.is_cached(slot):
        return slot.session
    for booking in bookings:
        if Booking.time_slot.is_cached(booking) and TimeSlot.session.is_cached(booking.time_slot):
            return booking.time_slot.session
    return Session.objects.get(pk=slot.session_id)


def _clients_of(bookings: list[Booking]) -> dict[int, User]:
    """The bookings' clients, as the sender loaded them if it did."""
    clients = {
        booking.client_id: booking.client
        for booking in bookings
        if Booking.client.is_cached(booking)
    }
    missing = {booking.client_id for booking in bookings} - set(clients)
    if missing:
        clients.update((client.pk, client) for client in User.objects.filter(pk__in=missing))
    return clients


def mail_due_received(sender, *, kind, bookings=(), time_slot=None, user=None, data=None, **kw):
    """Receives `core.signals.mail_due`: writes the outbox rows of one
    change in its transaction and delivers them after commit."""
    at = now()
    if kind == MailKind.PASSWORD_RESET:
        rows = [_notification(kind, user, at=at)]
    else:
        bookings = list(bookings)
        if not bookings:
            return
        slot = time_slot
        slot.session = _session_of(slot, bookings)
        clients = _clients_of(bookings)
        rows = [
            _notification(
                kind, clients[booking.client_id], at=at, booking=booking, slot=slot, data=data
            )
            for booking in bookings
        ]
        lead = timedelta(minutes=settings.STUDIO_REMINDER_MINUTES)
        cancelled = kind in (MailKind.BOOKING_CANCELLED, MailKind.SLOT_CANCELLED)
        if cancelled and slot.start - lead <= at:
            # A reminder written (it falls due once the lead begins) and not
            # sent yet is not sent at all.
            Notification.objects.filter(
                booking__in=bookings, kind=MailKind.REMINDER, status=NotificationStatus.PENDING
            ).delete()
    created = Notification.objects.bulk_create(rows)
    _deliver_after_commit([row.pk for row in created])


def reminders_due(at: datetime):
    """The confirmed bookings whose reminder is due at `at` and not written:
    the slot starts within the lead, the booking was confirmed before the
    lead began, and the client wants reminders. Led by the index on the
    slots' starts, so its cost follows the slots starting soon, not the
    bookings ahead."""
    lead = timedelta(minutes=settings.STUDIO_REMINDER_MINUTES)
    written = Notification.objects.filter(booking=OuterRef("pk"), kind=MailKind.REMINDER)
    return (
        Booking.objects.filter(
            status=BookingStatus.CONFIRMED,
            time_slot__is_cancelled=False,
            time_slot__start__gt=at,
            time_slot__start__lte=at + lead,
            confirmed_at__lte=F("time_slot__start") - lead,
            client__email_reminders=True,
        )
        .filter(~Exists(written))
        .order_by()
    )


def reminders_queue(*, at: datetime | None = None) -> int:
    """Writes the reminders due at `at` (now) and hands them to workers;
    returns how many were written. Running it twice writes nothing more:
    the unique constraint drops a reminder another run wrote meanwhile."""
    at = at or now()
    bookings = list(reminders_due(at).select_related("client", "time_slot__session__instructor"))
    if not bookings:
        return 0
    rows = [
        _notification(MailKind.REMINDER, booking.client, at=at, booking=booking)
        for booking in bookings
    ]
    with transaction.atomic():
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        written = list(
            Notification.objects.filter(
                booking__in=bookings,
                kind=MailKind.REMINDER,
                status=NotificationStatus.PENDING,
                created_at=at,
            ).values_list("pk", flat=True)
        )
        _deliver_after_commit(written)
    return len(written)


def notifications_resend(*, notifications, by: User | None) -> int:
    """Staff send failed notifications again: each gets a fresh round of
    tries. Others are left as they are. Returns how many."""
    with transaction.atomic():
        failed = list(notifications.filter(status=NotificationStatus.FAILED))
        Notification.objects.filter(pk__in=[row.pk for row in failed]).update(
            status=NotificationStatus.PENDING, attempts=0, next_attempt_at=now(), last_error=""
        )
        log_actions(failed, "notification.resent", by=by)
        _deliver_after_commit([row.pk for row in failed])
    return len(failed)
