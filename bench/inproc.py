"""The benchmark's helpers that need Django loaded; bench/load.py runs them as
subprocesses with the server's environment (the same DATABASE_URL and keys).

    python bench/inproc.py prepare --out FILE ...   bench-only clients, race and hot slots, tokens
    python bench/inproc.py verify --out FILE SLOT_ID...   seats of slots, from the database
    python bench/inproc.py profile --out FILE --path PATH [--token T]   where a request's time goes
    python bench/inproc.py queries --out FILE   SQL queries of each booking write

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
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils.timezone import now  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from accounts.services import tokens_for  # noqa: E402
from bookings import services  # noqa: E402
from bookings.models import Booking, BookingStatus  # noqa: E402
from sessions_app.models import Category, Session, TimeSlot  # noqa: E402
from studio.celery import app as celery_app  # noqa: E402

DOMAIN = "load.example"  # bench/seed.py's; its next run removes what this makes, too
PASSWORD = "bench-Pass-2027"
STATEMENT_CHARS = 160  # of each SQL statement kept with a query count


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


def short_sql(sql: str) -> str:
    """One statement on one line, its list of columns left out, cut at
    STATEMENT_CHARS: enough to tell which query it is."""
    sql = " ".join(sql.split())
    if sql.startswith("SELECT "):
        depth = 0
        for at, char in enumerate(sql):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0 and sql.startswith(" FROM ", at):
                distinct = "DISTINCT " if sql.startswith("SELECT DISTINCT ") else ""
                sql = f"SELECT {distinct}…{sql[at:]}"
                break
    sql = re.sub(r"^INSERT INTO (\S+) \(.*?\) VALUES .*", r"INSERT INTO \1 …", sql)
    return sql[:STATEMENT_CHARS]


class QueryCounter:
    """Booking writes through Django's whole stack in this process (URL
    routing, middleware, bearer-token authentication, the view, the
    serializer), each answer checked, and the SQL statements each one sends
    counted. Its clients, instructor, session and slots are its own, under
    the bench's email domain, on days no other part of the bench uses."""

    def __init__(self, password: str, days_ahead: int):
        self.password = password
        self.made = 0
        self.statements: list[str] = []  # of the last request counted
        self.teacher = User.objects.create(
            email=f"bench-queries-instructor-{days_ahead}@{DOMAIN}",
            name="Bench Queries Instructor",
            role=Role.INSTRUCTOR,
            password=password,
        )
        self.session = Session.objects.create(
            instructor=self.teacher,
            title="Bench queries class",
            description="Slots whose bookings count SQL queries.",
            category=Category.PILATES,
        )
        self.base = now().replace(microsecond=0) + timedelta(days=days_ahead)

    def client_user(self) -> User:
        self.made += 1
        return User.objects.create(
            email=f"bench-queries-{self.base:%Y%m%d}-{self.made}@{DOMAIN}",
            name=f"Bench Queries {self.made}",
            role=Role.CLIENT,
            password=self.password,
        )

    def slot(self, capacity: int) -> TimeSlot:
        """A new slot two hours after the last one, so no two overlap."""
        self.made += 1
        start = self.base + timedelta(hours=2 * self.made)
        return TimeSlot.objects.create(
            session=self.session, start=start, end=start + timedelta(hours=1), capacity=capacity
        )

    def full_slot(self, waiters: int = 0) -> tuple[TimeSlot, User, list[User]]:
        """A slot of one seat, booked, with `waiters` clients waiting; its
        client and the waiters, oldest first."""
        slot = self.slot(capacity=1)
        holder = self.client_user()
        services.booking_create(client=holder, time_slot_id=slot.pk, by=holder)
        waiting = []
        for _ in range(waiters):
            waiter = self.client_user()
            services.booking_create(client=waiter, time_slot_id=slot.pk, waitlist=True, by=waiter)
            waiting.append(waiter)
        return slot, holder, waiting

    @staticmethod
    def http(user: User) -> Client:
        """A client signed in as `user` with a bearer token (minting it
        writes a row, so it is made before any counting)."""
        return Client(
            HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {tokens_for(user)['access']}"
        )

    def counted(self, send, expect: int, what: str) -> tuple[int, dict, object]:
        """Sends one request; the queries it took, its JSON body, the response."""
        with CaptureQueriesContext(connection) as captured:
            response = send()
        if response.status_code != expect:
            raise SystemExit(f"{what}: {response.status_code} {response.content[:300]!r}")
        self.statements = [short_sql(q["sql"]) for q in captured]
        return len(captured), response.json(), response

    def post(self, http: Client, body: dict, expect_status: str, headers=None) -> tuple:
        count, answer, response = self.counted(
            lambda: http.post(
                "/api/bookings/", body, content_type="application/json", headers=headers
            ),
            201,
            f"POST /api/bookings/ {body}",
        )
        if answer["status"] != expect_status:
            raise SystemExit(f"POST /api/bookings/ {body}: {answer['status']}, not {expect_status}")
        return count, answer, response

    def cancel(self, user: User, slot: TimeSlot) -> int:
        booking = Booking.objects.get(client=user, time_slot=slot)
        http = self.http(user)
        count, answer, _ = self.counted(
            lambda: http.post(f"/api/bookings/{booking.pk}/cancel/"),
            200,
            f"cancel of booking {booking.pk}",
        )
        if answer["status"] != BookingStatus.CANCELLED:
            raise SystemExit(f"cancel of booking {booking.pk}: {answer['status']}")
        return count

    def cancel_promoting(self, waiters: int) -> int:
        """Cancels the one seat of a slot with `waiters` waiting; the oldest
        must be promoted, the others still wait."""
        slot, holder, waiting = self.full_slot(waiters)
        count = self.cancel(holder, slot)
        statuses = dict(
            Booking.objects.filter(time_slot=slot, client__in=waiting).values_list(
                "client_id", "status"
            )
        )
        expected = {w.pk: BookingStatus.WAITLISTED for w in waiting} | {
            waiting[0].pk: BookingStatus.CONFIRMED
        }
        slot.refresh_from_db()
        if statuses != expected or (slot.booked, slot.waitlisted) != (1, waiters - 1):
            raise SystemExit(f"cancel with {waiters} waiting: the oldest was not promoted")
        return count

    def measure(self) -> tuple[dict[str, int], dict[str, list[str]]]:
        """Each write once: its count of queries and its statements, by key."""
        counts, statements = {}, {}

        def keep(key: str, count: int) -> None:
            counts[key], statements[key] = count, self.statements

        slot, user = self.slot(capacity=2), self.client_user()
        count, _, _ = self.post(self.http(user), {"time_slot": slot.pk}, BookingStatus.CONFIRMED)
        keep("book", count)

        full, _holder, _waiting = self.full_slot()
        count, answer, _ = self.post(
            self.http(self.client_user()),
            {"time_slot": full.pk, "waitlist": True},
            BookingStatus.WAITLISTED,
        )
        if answer["waitlist_position"] != 1:
            raise SystemExit(f"waitlist join: position {answer['waitlist_position']}, not 1")
        keep("waitlist_join", count)

        keep("cancel", self.cancel(user, slot))
        keep("cancel_promote_1", self.cancel_promoting(1))
        keep("cancel_promote_10", self.cancel_promoting(10))

        slot, user = self.slot(capacity=2), self.client_user()
        http, body = self.http(user), {"time_slot": slot.pk}
        key = {"Idempotency-Key": f"bench-queries-{self.base:%Y%m%d}-{self.made}"}
        count, first, _ = self.post(http, body, BookingStatus.CONFIRMED, key)
        keep("book_idempotent", count)
        count, again, response = self.post(http, body, BookingStatus.CONFIRMED, key)
        if response.headers.get("Idempotent-Replayed") != "true" or again != first:
            raise SystemExit("replay of POST /api/bookings/: not the first answer replayed")
        if Booking.objects.filter(client=user).count() != 1:
            raise SystemExit("replay of POST /api/bookings/: booked twice")
        keep("book_replay", count)
        return counts, statements


def queries(args) -> None:
    """The SQL queries of each booking write, counted in-process through
    Django's test client: booking a seat, joining a waitlist, cancelling with
    no one waiting, cancelling with 1 and with 10 waiting (one promoted), and
    an Idempotency-Key's first request and its replay. A first, unrecorded
    pass does what a server does once in its life (the content types' cache
    of each worker), so the counts are those of
    a warm worker. Every statement sent through Django counts, BEGIN, COMMIT,
    ROLLBACK and savepoints included."""
    ours = User.objects.filter(email__startswith="bench-queries-", email__endswith=f"@{DOMAIN}")
    with transaction.atomic():  # what an earlier run on this database made
        Booking.objects.filter(
            Q(client__in=ours) | Q(time_slot__session__instructor__in=ours)
        ).delete()
        Session.objects.filter(instructor__in=ours).delete()
        ours.delete()
    # Counted as on a server with a broker: each mail is queued after commit,
    # not sent inside the request (as a server without REDIS_URL would). An
    # in-memory broker stands in for Redis; queuing sends no SQL either way.
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = "memory://localhost/"
    password = make_password(PASSWORD)
    QueryCounter(password, days_ahead=300).measure()
    counts, statements = QueryCounter(password, days_ahead=330).measure()
    write_json(
        args.out, {"database": connection.vendor, "counts": counts, "statements": statements}
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
    p.add_argument("--hot-clients", type=int, default=200)
    p.add_argument("--hot-capacity", type=int, default=20)
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
    q = commands.add_parser("queries")
    q.add_argument("--out", required=True)
    q.set_defaults(run=queries)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
