"""The benchmark's helpers that need Django loaded; bench/load.py runs them as
subprocesses with the server's environment (the same DATABASE_URL and keys).

    python bench/inproc.py prepare --out FILE ...   bench-only clients, race slots, tokens, ids
    python bench/inproc.py verify --out FILE SLOT_ID...   seats of slots, from the database
    python bench/inproc.py profile --out FILE --path PATH [--token T]   where a request's time goes

Nothing here is timed; it sets up and checks what bench/load.py measures.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import sys
import sysconfig
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils.timezone import now  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from accounts.services import tokens_for  # noqa: E402
from bookings.models import Booking, BookingStatus  # noqa: E402
from sessions_app.models import Category, Session, TimeSlot  # noqa: E402

DOMAIN = "load.example"  # bench/seed.py's; its next run removes what this makes, too
PASSWORD = "bench-Pass-2027"


def write_json(path: str, data) -> None:
    Path(path).write_text(json.dumps(data, indent=1))


def make_clients(prefix: str, count: int, password: str) -> list[User]:
    users = [
        User(email=f"{prefix}-{i}@{DOMAIN}", name=f"Bench {prefix} {i}", role=Role.CLIENT)
        for i in range(count)
    ]
    for user in users:
        user.password = password
    return User.objects.bulk_create(users, batch_size=2000)


def prepare(args) -> None:
    """Bench-only clients with no bookings (one per POST, so none conflicts),
    slots for the contention rounds, access tokens for all of them, and the
    ids the read scenarios ask for."""
    password = make_password(PASSWORD)
    first = User.objects.get(email=f"bench-instructor-0@{DOMAIN}")
    other = User.objects.get(email=f"bench-instructor-1@{DOMAIN}")
    with transaction.atomic():
        post_clients = make_clients("bench-post", args.post_clients, password)
        race_clients = make_clients("bench-race", args.race_clients * args.race_rounds, password)
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
        "counts": {
            "sessions": Session.objects.count(),
            "slots": TimeSlot.objects.count(),
            "upcoming_slots": TimeSlot.objects.upcoming().count(),
            "users": User.objects.count(),
            "bookings": Booking.objects.count(),
        },
    }
    write_json(args.out, result)


def verify(args) -> None:
    """Each slot's capacity, its `booked` column and its confirmed bookings
    counted row by row."""
    slots = TimeSlot.objects.filter(pk__in=args.slots).annotate(
        confirmed=Count("bookings", filter=Q(bookings__status=BookingStatus.CONFIRMED))
    )
    write_json(
        args.out,
        [
            {"id": s.pk, "capacity": s.capacity, "booked": s.booked, "confirmed": s.confirmed}
            for s in slots.order_by("pk")
        ],
    )


def profile(args) -> None:
    """Runs GETs of one path through Django in this process (no HTTP server):
    the SQL of one request, each statement timed; the share of SQL in the
    time of `repeat` requests; then a cProfile of them. A query parameter that
    the API ignores makes every URL new, so no answer comes from a cache."""
    headers = {"HTTP_HOST": "127.0.0.1"}
    if args.token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {args.token}"
    client = Client(**headers)
    sep = "&" if "?" in args.path else "?"
    statements: list[tuple[float, str]] = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((time.perf_counter() - started, sql))

    def get(n: int) -> None:
        response = client.get(f"{args.path}{sep}bench-profile={n}")
        if response.status_code != 200:
            raise SystemExit(f"{args.path}: {response.status_code} {response.content[:300]!r}")

    get(0)  # URLconf, serializers, connection
    with connection.execute_wrapper(timed):
        started = time.perf_counter()
        get(1)
        one = time.perf_counter() - started
        queries = [
            {"ms": round(seconds * 1000, 2), "sql": " ".join(sql.split())[:400]}
            for seconds, sql in statements
        ]
        statements.clear()
        started = time.perf_counter()
        for n in range(args.repeat):
            get(2 + n)
        plain = (time.perf_counter() - started) / args.repeat
        sql_share = sum(seconds for seconds, _ in statements) / args.repeat
    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(args.repeat):
        get(2 + args.repeat + n)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(args.lines)
    prefixes = [
        str(Path(django.__file__).resolve().parent.parent) + "/",  # site-packages
        sysconfig.get_paths()["stdlib"] + "/",
        str(ROOT) + "/",
    ]
    lines = []
    for line in text.getvalue().splitlines():
        if line.strip():
            for prefix in prefixes:
                line = line.replace(prefix, "")
            lines.append(re.sub(r" at 0x[0-9a-f]+", "", line.rstrip()))
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    write_json(
        args.out,
        {
            "path": args.path,
            "ms_one_request": round(one * 1000, 2),
            "ms_per_request": round(plain * 1000, 2),
            "ms_sql_per_request": round(sql_share * 1000, 2),
            "repeat": args.repeat,
            "queries": queries,
            "cprofile": lines[start:],
            "database": connection.vendor,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("prepare")
    p.add_argument("--out", required=True)
    p.add_argument("--post-clients", type=int, default=400)
    p.add_argument("--post-slots", type=int, default=100)
    p.add_argument("--race-clients", type=int, default=100)
    p.add_argument("--race-slots", type=int, default=10)
    p.add_argument("--race-capacity", type=int, default=5)
    p.add_argument("--race-rounds", type=int, default=3)
    p.set_defaults(run=prepare)
    v = commands.add_parser("verify")
    v.add_argument("--out", required=True)
    v.add_argument("slots", type=int, nargs="+")
    v.set_defaults(run=verify)
    f = commands.add_parser("profile")
    f.add_argument("--out", required=True)
    f.add_argument("--path", required=True)
    f.add_argument("--token", default="")
    f.add_argument("--repeat", type=int, default=20)
    f.add_argument("--lines", type=int, default=25)
    f.set_defaults(run=profile)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
