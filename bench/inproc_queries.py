"""`inproc.py queries`: the SQL queries of each booking write, through Django's
whole stack in this process."""

import re
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import now
from djangosetup import DOMAIN, PASSWORD

from accounts.models import Role, User
from accounts.services import tokens_for
from bookings import services
from bookings.models import Booking, BookingStatus
from sessions_app.models import Category, Session, TimeSlot
from studio.celery import app as celery_app

STATEMENT_CHARS = 160  # of each SQL statement kept with a query count


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


def queries(args) -> dict:
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
    return {"database": connection.vendor, "counts": counts, "statements": statements}
