"""Notices that cross apps against the direction of imports.

`accounts` sits below the timetable and never imports it; when it changes
something the public timetable shows (an instructor's name), it sends
`timetable_changed`, and `sessions_app` moves the timetable's cache revision.
Send it inside the write's transaction, after the write's row locks.
"""

from django.dispatch import Signal

timetable_changed = Signal()

seats_freed = Signal()
"""Sent by the timetable when a write may free seats on slots for their
waiters (a capacity raised, or a slot moved away from the time of a waiter's
other booking): `time_slots`, the changed slots as locked, and `locked_users`, the
ids of the users whose rows the write locked. Sent inside the write's
transaction, after its one `lock_objects` call; the receiver (the bookings
app's waitlist promotion) runs under those locks and may raise
`studio.locking.LockSetChanged`, on which the sender runs its write again."""
