"""Fills the database with a large synthetic timetable for benchmarks.

    python bench/seed.py [--sessions N] [--slots-per-session N] [--clients N] ...

It runs with the environment's settings (DATABASE_URL and the keys), as
bench/load.py starts it. It writes rows straight into the tables, seat
counters included, so it is meant for a benchmark's own database only.

Everything it makes is marked by the `@load.example` email domain, and a new
run first removes what an earlier one made. Rows go in with bulk inserts, so
100,000 slots take seconds, not minutes.
"""

import argparse
import sys
from datetime import timedelta
from itertools import cycle

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils.timezone import now
from djangosetup import DOMAIN, PASSWORD

from accounts.models import Role, User
from bookings.models import Booking
from sessions_app.models import Category, Session, TimeSlot

BATCH = 5000
SLOT_MINUTES = 60
SLOT_SPACING = timedelta(hours=2)
PAST_SHARE = 0.2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Seed a large synthetic timetable (instructors, clients, sessions, "
        "slots, bookings)."
    )
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--slots-per-session", type=int, default=10)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--instructors", type=int, default=0, help="Default: one per 20 sessions.")
    parser.add_argument(
        "--bookings-per-client",
        type=int,
        default=5,
        help="Confirmed bookings of each client, on the first instructor's slots.",
    )
    return parser.parse_args(argv)


class Seeder:
    """Writes rows in bulk, bypassing the services (and their action log):
    100,000 slots take seconds, not minutes."""

    def __init__(self):
        self.stdout = sys.stdout
        self.progress_total = 0

    def handle(self, **options):
        sessions = options["sessions"]
        per_session = options["slots_per_session"]
        instructors = options["instructors"] or max(1, sessions // 20)
        self.progress_total = sessions * per_session
        with transaction.atomic():
            self.clear()
            teachers = self.make_users(Role.INSTRUCTOR, instructors)
            clients = self.make_users(Role.CLIENT, options["clients"])
            made = self.make_sessions(teachers, sessions)
            slots = self.make_slots(made, teachers, per_session)
            booked = self.make_bookings(clients, slots, options["bookings_per_client"])
        # The planner's statistics, as a database that has lived with its
        # rows has them (autovacuum's ANALYZE would come only later).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(
            f"\nSeeded {instructors} instructors, {len(clients)} clients, {sessions} sessions, "
            f"{sessions * per_session} slots, {booked} bookings "
            f"(password {PASSWORD!r}, emails @{DOMAIN})."
        )

    def clear(self) -> None:
        ours = User.objects.filter(email__endswith=f"@{DOMAIN}")
        Booking.objects.filter(client__in=ours).delete()
        Booking.objects.filter(time_slot__session__instructor__in=ours).delete()
        Session.objects.filter(instructor__in=ours).delete()
        ours.delete()

    def make_users(self, role: str, count: int) -> list[User]:
        password = make_password(PASSWORD)
        users = [
            User(
                email=f"bench-{role}-{index}@{DOMAIN}",
                name=f"Bench {role.title()} {index}",
                role=role,
                password=password,
            )
            for index in range(count)
        ]
        return User.objects.bulk_create(users, batch_size=BATCH)

    def make_sessions(self, teachers: list[User], count: int) -> list[Session]:
        categories = cycle(Category.values)
        owners = cycle(teachers)
        made = [
            Session(
                instructor=next(owners),
                title=f"Bench class {index}",
                description="A synthetic class for load tests.",
                category=next(categories),
            )
            for index in range(count)
        ]
        return Session.objects.bulk_create(made, batch_size=BATCH)

    def make_slots(
        self, sessions: list[Session], teachers: list[User], per_session: int
    ) -> list[TimeSlot]:
        """Each instructor's slots follow one another two hours apart, so no
        two of them overlap; the first fifth lie in the past."""
        per_teacher = -(-len(sessions) // len(teachers)) * per_session
        start_of = {t.pk: now() - SLOT_SPACING * int(per_teacher * PAST_SHARE) for t in teachers}
        batch: list[TimeSlot] = []
        made: list[TimeSlot] = []
        for _round in range(per_session):
            for session in sessions:
                start = start_of[session.instructor_id]
                start_of[session.instructor_id] = start + SLOT_SPACING
                batch.append(
                    TimeSlot(
                        session=session,
                        start=start,
                        end=start + timedelta(minutes=SLOT_MINUTES),
                        capacity=20,
                    )
                )
                if len(batch) >= BATCH:
                    made += TimeSlot.objects.bulk_create(batch)
                    batch = []
                    self.show_progress(len(made))
        made += TimeSlot.objects.bulk_create(batch)
        self.show_progress(len(made))
        return made

    def make_bookings(self, clients: list[User], slots: list[TimeSlot], each: int) -> int:
        """Bookings on the first instructor's upcoming slots, which never
        overlap, a few clients per slot, within capacity."""
        if not clients or not each:
            return 0
        first = slots[0].session.instructor_id
        upcoming = [s for s in slots if s.session.instructor_id == first and s.start > now()]
        upcoming.sort(key=lambda s: s.start)
        if not upcoming:
            return 0
        bookings = []
        seeded_at = now()
        for number, client in enumerate(clients):
            picks = {(number + offset * 7) % len(upcoming) for offset in range(each)}
            for slot in (upcoming[pick] for pick in sorted(picks)):
                if slot.booked < slot.capacity:
                    slot.booked += 1
                    bookings.append(
                        Booking(
                            client=client,
                            time_slot=slot,
                            cancel_before=slot.start,
                            confirmed_at=seeded_at,
                        )
                    )
        Booking.objects.bulk_create(bookings, batch_size=BATCH)
        TimeSlot.objects.bulk_update(
            [s for s in upcoming if s.booked], ["booked"], batch_size=BATCH
        )
        return len(bookings)

    def show_progress(self, done: int) -> None:
        if not sys.stdout.isatty():
            return
        width = 40
        filled = width * done // max(self.progress_total, 1)
        sys.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done} slots")
        sys.stdout.flush()


if __name__ == "__main__":
    Seeder().handle(**vars(parse_args()))
