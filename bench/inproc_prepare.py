"""`inproc.py prepare` and `inproc.py verify`: what the load scenarios book
with, and the seats they leave, read from the database."""

from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count, Q
from django.utils.timezone import now
from djangosetup import DOMAIN, PASSWORD

from accounts.models import Role, User
from accounts.services import tokens_for
from bookings.models import Booking, BookingStatus
from sessions_app.models import Category, Session, TimeSlot


def make_clients(prefix: str, count: int, password: str) -> list[User]:
    users = [
        User(email=f"{prefix}-{i}@{DOMAIN}", name=f"Bench {prefix} {i}", role=Role.CLIENT)
        for i in range(count)
    ]
    for user in users:
        user.password = password
    return User.objects.bulk_create(users, batch_size=2000)


def prepare(args) -> dict:
    """Bench-only clients with no bookings (one per POST, so none conflicts),
    slots for the contention rounds, one hot slot and the clients that race
    for it, access tokens for all of them, and the ids the read scenarios ask
    for."""
    password = make_password(PASSWORD)
    first = User.objects.get(email=f"bench-instructor-0@{DOMAIN}")
    other = User.objects.get(email=f"bench-instructor-1@{DOMAIN}")
    with transaction.atomic():
        post_clients = make_clients("bench-post", args.post_clients, password)
        race_clients = make_clients("bench-race", args.race_clients * args.race_rounds, password)
        hot_clients = make_clients("bench-hot", args.hot_clients, password)
        teacher = User.objects.create(
            email=f"bench-race-instructor@{DOMAIN}",
            name="Bench Race Instructor",
            role=Role.INSTRUCTOR,
            password=password,
        )
        session = Session.objects.create(
            instructor=teacher,
            title="Bench race class",
            description="Slots that many clients book at once.",
            category=Category.HIIT,
        )
        # Far beyond the seeded timetable, two hours apart.
        base = now().replace(microsecond=0) + timedelta(days=120)
        race_slots = TimeSlot.objects.bulk_create(
            TimeSlot(
                session=session,
                start=base + timedelta(hours=2 * i),
                end=base + timedelta(hours=2 * i, minutes=60),
                capacity=args.race_capacity,
            )
            for i in range(args.race_slots * args.race_rounds)
        )
        # The hot slot: one class that every hot client wants, a day after
        # the last race slot.
        hot_start = base + timedelta(hours=2 * args.race_slots * args.race_rounds, days=1)
        hot_slot = TimeSlot.objects.create(
            session=session,
            start=hot_start,
            end=hot_start + timedelta(minutes=60),
            capacity=args.hot_capacity,
        )

    # POST targets: the second instructor's soonest upcoming slots, which the
    # seed leaves unbooked; a few requests per slot, never more than its seats.
    targets = list(
        TimeSlot.objects.upcoming()
        .filter(session__instructor=other)
        .order_by("start")
        .values_list("id", "capacity")[: args.post_slots]
    )
    if not targets:
        raise SystemExit("no upcoming slots of bench-instructor-1 to book")
    per_slot = -(-args.post_clients // len(targets))
    if per_slot > min(capacity for _, capacity in targets):
        raise SystemExit(f"{per_slot} bookings per slot exceed a slot's capacity")
    target_ids = [slot_id for slot_id, _ in targets]

    # Read scenarios: the session of the soonest upcoming slot (public
    # detail), and the first instructor's session with the most bookings
    # (instructor detail, whose slots list them).
    soonest = TimeSlot.objects.upcoming().order_by("start", "id").first()
    owned = (
        Session.objects.filter(instructor=first)
        .annotate(n=Count("time_slots__bookings"))
        .order_by("-n", "id")
        .first()
    )
    public_ids = list(
        Session.objects.filter(time_slots__in=TimeSlot.objects.upcoming())
        .distinct()
        .order_by("id")
        .values_list("id", flat=True)[:50]
    )
    result = {
        "first_instructor": first.email,
        "client": f"bench-client-0@{DOMAIN}",
        "client_bookings": Booking.objects.filter(client__email=f"bench-client-0@{DOMAIN}")
        .filter(status=BookingStatus.CONFIRMED)
        .count(),
        "password": PASSWORD,
        "public_session": soonest.session_id,
        "public_sessions": public_ids,
        "owned_session": owned.pk,
        "owned_session_bookings": owned.n,
        "post": [
            {"token": tokens_for(user)["access"], "slot": target_ids[i % len(target_ids)]}
            for i, user in enumerate(post_clients)
        ],
        "race_rounds": [
            {
                "slots": [
                    s.pk for s in race_slots[r * args.race_slots : (r + 1) * args.race_slots]
                ],
                "tokens": [
                    tokens_for(user)["access"]
                    for user in race_clients[r * args.race_clients : (r + 1) * args.race_clients]
                ],
            }
            for r in range(args.race_rounds)
        ],
        "hot": {
            "slot": hot_slot.pk,
            "capacity": hot_slot.capacity,
            "tokens": [tokens_for(user)["access"] for user in hot_clients],
        },
        "counts": {
            "sessions": Session.objects.count(),
            "slots": TimeSlot.objects.count(),
            "upcoming_slots": TimeSlot.objects.upcoming().count(),
            "users": User.objects.count(),
            "bookings": Booking.objects.count(),
        },
    }
    return result


def verify(args) -> list[dict]:
    """Each slot's capacity, its `booked` column and its confirmed bookings
    counted row by row."""
    slots = TimeSlot.objects.filter(pk__in=args.slots).annotate(
        confirmed=Count("bookings", filter=Q(bookings__status=BookingStatus.CONFIRMED))
    )
    return [
        {"id": s.pk, "capacity": s.capacity, "booked": s.booked, "confirmed": s.confirmed}
        for s in slots.order_by("pk")
    ]
