"""Notices that cross apps against the direction of imports.

`accounts` sits below the timetable and never imports it; when it changes
something the public timetable shows (an instructor's name), it sends
`timetable_changed`, and `sessions_app` moves the timetable's cache version.
Send it inside the write's transaction, after the write's row locks.

Before such a write the timetable asks who waits on its slots
(`waiting_clients`), so that it can lock their rows first.

The booking and account services tell the notifications app, which sits above
them all, what to mail with `mail_due`.
"""

from django.db import models
from django.dispatch import Signal
from django.utils.translation import gettext_lazy as _

timetable_changed = Signal()

seats_freed = Signal()
"""Sent by the timetable when a write may free seats on slots for their
waiters (a capacity raised, or a slot moved away from the time of a waiter's
other booking): `time_slots`, the changed slots as locked, and `locked_users`, the
ids of the users whose rows the write locked. Sent inside the write's
transaction, after its one `lock_objects` call; the receiver (the bookings
app's waitlist promotion) runs under those locks and may raise
`core.locking.LockSetChanged`, on which the sender runs its write again."""

waiting_clients_asked = Signal()
"""Sent by the timetable before a write that may free seats on `time_slots`
(slots, or their ids), to learn whose rows to lock with theirs. The bookings
app, which knows who waits, answers with the ids of the clients waiting on
those slots."""


def waiting_clients(time_slots) -> list[int]:
    """The ids of the clients waiting for a seat on `time_slots`, in order,
    as the receivers of `waiting_clients_asked` answer; read without a lock."""
    ids: set[int] = set()
    for _receiver, answer in waiting_clients_asked.send(sender=None, time_slots=time_slots):
        ids.update(answer)
    return sorted(ids)


class MailKind(models.TextChoices):
    """What a notification tells its recipient (API.md section 8)."""

    BOOKING_CONFIRMED = "booking_confirmed", _("Booking confirmed")
    WAITLIST_JOINED = "waitlist_joined", _("Waitlist joined")
    BOOKING_CANCELLED = "booking_cancelled", _("Booking cancelled")
    SLOT_CANCELLED = "slot_cancelled", _("Class cancelled")
    REMINDER = "reminder", _("Reminder")
    PASSWORD_RESET = "password_reset", _("Password reset")


mail_due = Signal()
"""Sent inside a write's transaction for the mail the write causes: `kind`, a
`MailKind`; for the booking kinds, `bookings`, the bookings concerned, all on
`time_slot`; for a password reset, `user`; and `data`, facts the message
states as of the write (a waitlist position, a late cancellation). The
notifications app writes one outbox row per recipient in that transaction,
so the mail is sent if and only if the write commits, and delivers the rows
after commit."""
