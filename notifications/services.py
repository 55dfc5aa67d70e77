"""The outbox: writing notifications with the change that causes them, and
delivering them, once each, whatever fails on the way.

Writing. The booking and account services send `core.signals.mail_due`
inside their transaction; `mail_due_received` writes the rows there, so a
rolled-back change mails nothing, and hands them to a worker after commit.

Delivering. `notification_deliver` claims a due row by moving its
`next_attempt_at` one retry delay on (a conditional update: of two workers,
one wins), sends, and records `sent`. A send that fails keeps the row
`pending` until that moment; a worker that dies mid-send does too. The
sweep `notifications_resend_due` hands every due row to a worker again, so a
broker or SMTP outage delays mail and loses none; after the last retry the
row is `failed`. A row recorded as sent is never sent again, and the unique
constraint on (booking, kind) means there is never a second row to send.

Reminders. `reminders_queue` writes the reminder of every confirmed booking
whose slot starts within `STUDIO_REMINDER_MINUTES`, once it falls due.
"""

import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils.timezone import now
from kombu.exceptions import OperationalError

from accounts.models import User
from bookings.models import Booking, BookingStatus
from core.actionlog import log_actions
from core.signals import MailKind
from notifications import messages
from notifications.models import Notification, NotificationStatus
from sessions_app.models import Session, TimeSlot

logger = logging.getLogger(__name__)

# The waits after each failed try: the first retry a minute after the first
# try, the last about two hours after it; then the row is failed.
RETRY_DELAYS = [timedelta(minutes=minutes) for minutes in (1, 2, 5, 10, 20, 30, 60)]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1

BOOKING_KINDS = {
    MailKind.BOOKING_CONFIRMED,
    MailKind.WAITLIST_JOINED,
    MailKind.BOOKING_CANCELLED,
    MailKind.SLOT_CANCELLED,
    MailKind.REMINDER,
}


def _deliver_after_commit(ids: list[int]) -> None:
    transaction.on_commit(partial(notifications_enqueue, ids))


def notifications_enqueue(ids) -> None:
    """Hands each notification to a worker. A broker that cannot take them
    now is no loss: the sweep hands them over again once they are due."""
    from notifications.tasks import deliver

    for pk in ids:
        try:
            deliver.delay(pk)
        except (OperationalError, OSError):
            logger.warning("notification %s not queued; the resend sweep sends it", pk)
            return


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
    rows = []
    if kind == MailKind.PASSWORD_RESET:
        values = messages.context(kind, user)
        rows.append(
            Notification(
                user=user,
                kind=kind,
                subject=messages.subject(kind, values),
                created_at=at,
                next_attempt_at=at,
            )
        )
    else:
        bookings = list(bookings)
        if not bookings:
            return
        slot = time_slot
        slot.session = _session_of(slot, bookings)
        clients = _clients_of(bookings)
        for booking in bookings:
            client = clients[booking.client_id]
            values = messages.context(kind, client, booking, data, slot=slot)
            rows.append(
                Notification(
                    user=client,
                    booking=booking,
                    kind=kind,
                    subject=messages.subject(kind, values),
                    data=data or {},
                    created_at=at,
                    next_attempt_at=at,
                )
            )
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


def _claim(pk: int, at: datetime) -> Notification | None:
    """Takes the row for one try if it is due: moves its next try on by the
    retry delay, so no other worker takes it meanwhile."""
    row = (
        Notification.objects.filter(pk=pk, status=NotificationStatus.PENDING)
        .values("attempts", "next_attempt_at")
        .first()
    )
    if row is None or row["next_attempt_at"] > at:
        return None
    attempts = row["attempts"]
    if attempts >= MAX_ATTEMPTS:
        Notification.objects.filter(pk=pk, status=NotificationStatus.PENDING).update(
            status=NotificationStatus.FAILED
        )
        return None
    delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS) - 1)]
    claimed = Notification.objects.filter(
        pk=pk,
        status=NotificationStatus.PENDING,
        attempts=attempts,
        next_attempt_at__lte=at,
    ).update(attempts=attempts + 1, next_attempt_at=at + delay)
    if not claimed:
        return None
    return Notification.objects.select_related(
        "user", "booking__time_slot__session__instructor"
    ).get(pk=pk)


def _still_wanted(notification: Notification) -> bool:
    """Whether a reminder is still to be sent: its booking still confirmed,
    its class not started, its client still wanting reminders."""
    if notification.kind != MailKind.REMINDER:
        return True
    booking = notification.booking
    return (
        booking.status == BookingStatus.CONFIRMED
        and not booking.time_slot.has_started
        and notification.user.email_reminders
    )


def notification_deliver(pk: int, *, at: datetime | None = None) -> str:
    """One try at sending notification `pk`, if it is due; returns what
    happened: "sent", "retry", "failed", "dropped" or "skipped" (not due, or
    another worker has it). Safe to run any number of times."""
    at = at or now()
    notification = _claim(pk, at)
    if notification is None:
        return "skipped"
    if not _still_wanted(notification):
        notification.delete()
        return "dropped"
    try:
        messages.message(notification).send()
    except Exception as exc:  # noqa: BLE001 - SMTP, network and template failures alike
        failed = notification.attempts >= MAX_ATTEMPTS
        Notification.objects.filter(pk=pk, status=NotificationStatus.PENDING).update(
            status=NotificationStatus.FAILED if failed else NotificationStatus.PENDING,
            last_error=f"{type(exc).__name__}: {exc}"[:1000],
        )
        logger.warning(
            "notification %s, try %s of %s, not sent: %s",
            pk,
            notification.attempts,
            MAX_ATTEMPTS,
            exc,
        )
        return "failed" if failed else "retry"
    Notification.objects.filter(pk=pk, status=NotificationStatus.PENDING).update(
        status=NotificationStatus.SENT, sent_at=now(), last_error=""
    )
    return "sent"


def notifications_resend_due(*, at: datetime | None = None, limit: int = 1000) -> int:
    """Hands every pending notification that is due (a failed try's delay
    over, or never taken by a worker) to a worker again; returns how many."""
    at = at or now()
    due = list(
        Notification.objects.filter(status=NotificationStatus.PENDING, next_attempt_at__lte=at)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    notifications_enqueue(due)
    return len(due)


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
    rows = []
    for booking in bookings:
        values = messages.context(MailKind.REMINDER, booking.client, booking)
        rows.append(
            Notification(
                user=booking.client,
                booking=booking,
                kind=MailKind.REMINDER,
                subject=messages.subject(MailKind.REMINDER, values),
                created_at=at,
                next_attempt_at=at,
            )
        )
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
