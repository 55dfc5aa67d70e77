"""Writes `expired` on every booking still waiting on a slot that has
started, and resets those slots' waiter counts.

The API shows such bookings as expired from the slot's start whether or not
this has run; schedule it (every few minutes) to keep the stored statuses
and counters current. Running it again changes nothing more.
"""

from django.core.management.base import BaseCommand

from bookings.services import waitlist_expire


class Command(BaseCommand):
    help = "Expire the waitlisted bookings of slots that have started."

    def handle(self, *args, **options) -> None:
        expired = waitlist_expire(by=None)
        self.stdout.write(f"{expired} waitlisted booking(s) expired.")
