"""Deletes expired idempotency keys; meant to be scheduled (cron, a systemd timer).

Keys expire 24 hours after they were first used and are ignored from then on,
so this only keeps the table small. Safe to run at any time, as often as
wanted, and beside the server and another run of itself.
"""

from django.core.management.base import BaseCommand, CommandError

from bookings.idempotency import idempotency_keys_purge


class Command(BaseCommand):
    help = "Delete the idempotency keys of POST /api/bookings/ that have expired."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Keys deleted per transaction (default 1000).",
        )

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        deleted = idempotency_keys_purge(batch_size=batch_size)
        self.stdout.write(f"Deleted {deleted} expired idempotency keys.")
