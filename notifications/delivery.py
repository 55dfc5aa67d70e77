"""Delivering the outbox: each notification once, whatever fails on the way.

`notification_deliver` claims a due row by moving its `next_attempt_at` one
retry delay on (a conditional update: of two workers, one wins), sends, and
records `sent`. A send that fails keeps the row `pending` until that moment;
a worker that dies mid-send does too. The sweep `notifications_resend_due`
hands every due row to a worker again, so a broker or SMTP outage delays mail
and loses none; after the last retry the row is `failed`. A row recorded as
sent is never sent again, and the unique constraint on (booking, kind) means
there is never a second row to send.

Rows reach a worker through the task `notifications.deliver`, looked up by
name in the Celery app (notifications.tasks registers it when the app is
ready), so this module does not import the tasks that call it.
"""

import logging
from datetime import datetime, timedelta

from celery import current_app
from django.db.models import QuerySet
from django.utils.timezone import now
from kombu.exceptions import OperationalError

from bookings.models import BookingStatus
from core.signals import MailKind
from notifications import messages
from notifications.models import Notification, NotificationStatus

logger = logging.getLogger(__name__)

DELIVER_TASK = "notifications.deliver"

# The waits after each failed try: the first retry a minute after the first
# try, the last about two hours after it; then the row is failed.
RETRY_DELAYS = [timedelta(minutes=minutes) for minutes in (1, 2, 5, 10, 20, 30, 60)]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def notifications_enqueue(ids) -> None:
    """Hands each notification to a worker. A broker that cannot take them
    now is no loss: the sweep hands them over again once they are due."""
    deliver = current_app.tasks[DELIVER_TASK]
    for pk in ids:
        try:
            deliver.delay(pk)
        except (OperationalError, OSError):
            logger.warning("notification %s not queued; the resend sweep sends it", pk)
            return


def _pending(pk: int) -> QuerySet[Notification]:
    return Notification.objects.filter(pk=pk, status=NotificationStatus.PENDING)


def _claim(pk: int, at: datetime) -> Notification | None:
    """Takes the row for one try if it is due: moves its next try on by the
    retry delay, so no other worker takes it meanwhile."""
    row = _pending(pk).values("attempts", "next_attempt_at").first()
    if row is None or row["next_attempt_at"] > at:
        return None
    attempts = row["attempts"]
    if attempts >= MAX_ATTEMPTS:
        _pending(pk).update(status=NotificationStatus.FAILED)
        return None
    delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS) - 1)]
    claimed = (
        _pending(pk)
        .filter(attempts=attempts, next_attempt_at__lte=at)
        .update(attempts=attempts + 1, next_attempt_at=at + delay)
    )
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
        _pending(pk).update(
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
    _pending(pk).update(status=NotificationStatus.SENT, sent_at=now(), last_error="")
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
