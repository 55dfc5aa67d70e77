"""Who may call what: every route of the URL configuration x every method x every actor.

The routes are read from the URL configuration itself, so a new route without a
row in MATRIX fails the suite, and so does a row whose route is gone. Each cell
is one request; its expected status comes from MATRIX only.

Actors: anonymous; "client", who holds BOOKING; "other client"; "instructor",
who does not own SESSION; "owner", the instructor who owns SESSION; "staff", a
superuser as `createsuperuser` makes one (role client, the model's default),
who has no more rights on the API than any client.

Path parameters name the owner's SESSION (session routes), the client's
BOOKING (booking routes) or the secret of the client's calendar feed (the
feed route); a slot route names SLOT of SESSION, or for attendance PRESENT, a
slot of another session of the owner that starts in ten minutes and holds a
confirmed booking. The bodies sent (see `body`) are valid, so a cell
that passes the permission checks reaches the success status in the table.
Every cell runs in a transaction that is rolled back, so cells do not see each
other.
"""

import json
from datetime import timedelta

from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.db import transaction
from django.urls import resolve, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.timezone import now
from rest_framework.test import APITestCase

from accounts import services as account_services
from accounts.models import User
from accounts.tests.factories import PASSWORD, ClientFactory, InstructorFactory
from bookings.tests.factories import add_slot, book, make_slot
from calendars import services as calendar_services
from sessions_app.tests.factories import SessionFactory, TimeSlotFactory
from studio.tests.permission_matrix import (
    ACTORS,
    ADMIN,
    CATCH_ALL,
    CODES,
    MATRIX,
    METHODS,
    OTHER,
    WRITES,
    Route,
    answered_methods,
    db_state,
    expected,
    routes,
)
from testing.api import NEW_PASSWORD
from testing.problems import assert_problem


class PermissionMatrixTests(APITestCase):
    @classmethod
    def setUpTestData(cls):
        cls.owner = InstructorFactory()
        cls.users = {
            "anonymous": None,
            "client": ClientFactory(),
            "other client": ClientFactory(),
            "instructor": InstructorFactory(),
            "owner": cls.owner,
            "staff": User.objects.create_superuser(
                email="staff@example.com", password=PASSWORD, name="Staff"
            ),
        }
        # The owner's session: an upcoming slot and no bookings, so it is on the
        # public timetable and its owner may delete it.
        cls.session = SessionFactory(instructor=cls.owner)
        cls.slot = TimeSlotFactory(session=cls.session, start=now() + timedelta(days=1))
        # The client's booking, on another session of the owner, a day later.
        booked = make_slot(instructor=cls.owner, start=now() + timedelta(days=2))
        add_slot(booked.session, start=now() + timedelta(days=3))
        cls.booking = book(booked, cls.users["client"])
        # A slot of another session of the owner, open for attendance, with a
        # confirmed booking of the other client.
        cls.present = make_slot(instructor=cls.owner, start=now() + timedelta(minutes=10))
        cls.present_booking = book(cls.present, cls.users["other client"])
        # The client's calendar feed, whose secret the feed route names.
        _feed, cls.feed_secret = calendar_services.calendar_feed_get(
            user=cls.users["client"], by=None
        )
        cls.tokens = {
            who: account_services.tokens_for(user)["access"]
            for who, user in cls.users.items()
            if user is not None
        }

    def setUp(self):
        cache.clear()

    # The URL of a route, and the bodies sent to it.

    def url(self, route: Route) -> str:
        if route.key == ADMIN:
            return reverse("admin:index")
        if route.key == CATCH_ALL:
            return "/api/no-such-endpoint/"
        objects = {"booking": self.booking.pk, "session": self.session.pk}
        kind = "booking" if route.key.startswith("booking") else "session"
        kwargs = {"pk": objects[kind]}
        if "secret" in route.params:
            kwargs = {"secret": self.feed_secret}
        if "slot_id" in route.params:
            slot = self.present if route.key == "session-time-slot-attendance" else self.slot
            kwargs = {"pk": slot.session_id, "slot_id": slot.pk}
        unknown = set(route.params) - set(kwargs)
        self.assertFalse(unknown, f"{route.pattern}: say in url() what {unknown} names")
        return reverse(route.key, kwargs={name: kwargs[name] for name in route.params})

    def body(self, key: str, method: str, user: User | None) -> dict | None:
        """A valid body for the success case of `key` and `method`, sent by `user`."""
        client = User.objects.get(pk=self.users["client"].pk)
        start = now().replace(microsecond=0) + timedelta(days=5)
        new_session = {
            "title": "Evening Spin",
            "category": "spin",
            "time_slots": [
                {
                    "start": start.isoformat(),
                    "end": (start + timedelta(hours=1)).isoformat(),
                    "capacity": 8,
                }
            ],
        }
        renamed = {"title": "Renamed", "category": "pilates"}  # a whole session for PUT
        bodies = {
            ("register", "POST"): lambda: {
                "email": "newcomer@example.com",
                "password": PASSWORD,
                "name": "Newcomer",
                "role": "client",
            },
            ("login", "POST"): lambda: {"email": client.email, "password": PASSWORD},
            ("refresh-token", "POST"): lambda: {
                "refresh": account_services.tokens_for(client)["refresh"]
            },
            # The signed-in user's own refresh token.
            ("logout", "POST"): lambda: {
                "refresh": account_services.tokens_for(user or client)["refresh"]
            },
            ("me", "PATCH"): lambda: {"name": "Renamed", "timezone": "Europe/Paris"},
            ("password-change", "POST"): lambda: {
                "old_password": PASSWORD,
                "new_password": NEW_PASSWORD,
            },
            ("password-reset", "POST"): lambda: {"email": client.email},
            ("password-reset-confirm", "POST"): lambda: {
                "uid": urlsafe_base64_encode(force_bytes(client.pk)),
                "token": default_token_generator.make_token(client),
                "new_password": NEW_PASSWORD,
            },
            ("session-create", "POST"): lambda: new_session,
            ("session-list", "POST"): lambda: new_session,
            ("session-update", "PUT"): lambda: renamed,
            ("session-update", "PATCH"): lambda: {"title": "Renamed"},
            ("session-detail", "PUT"): lambda: renamed,
            ("session-detail", "PATCH"): lambda: {"title": "Renamed"},
            ("booking-list", "POST"): lambda: {"time_slot": self.slot.pk},
            ("session-time-slot-attendance", "POST"): lambda: {
                "booking": self.present_booking.pk,
                "attendance": "attended",
            },
        }
        make = bodies.get((key, method))
        return make() if make else None

    def sign_in(self, route: Route, who: str) -> User | None:
        self.client.credentials()
        self.client.logout()
        user = self.users[who]
        if user is not None:
            if route.key == ADMIN:  # the admin signs in with a session
                self.client.force_login(User.objects.get(pk=user.pk))
            else:
                self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.tokens[who]}")
        return user

    # The table and the URL configuration agree.

    def test_every_route_has_a_row(self):
        for route in routes():
            with self.subTest(route=route.pattern):
                if route.key not in MATRIX:
                    self.fail(
                        f"The route {route.pattern} (name {route.key!r}) has no row in MATRIX: "
                        "say who may call it."
                    )

    def test_every_row_has_a_route(self):
        keys = {route.key for route in routes()}
        for key in MATRIX:
            with self.subTest(row=key):
                self.assertIn(key, keys, f"MATRIX has a row for {key!r}, which no URL serves.")

    def test_each_row_names_exactly_the_methods_its_view_answers(self):
        for route in routes():
            if route.key not in MATRIX or route.key == ADMIN:
                continue
            with self.subTest(route=route.pattern):
                answered = answered_methods(route.callback)
                named = set(MATRIX[route.key]) - {OTHER}
                if answered is None:  # a plain view sees every method: one row for all
                    self.assertEqual(named, set(), route.pattern)
                else:
                    self.assertEqual(named, answered & set(METHODS), route.pattern)
                if named != set(METHODS):
                    self.assertIn(OTHER, MATRIX[route.key], f"{route.pattern}: no {OTHER} row")
                for statuses in MATRIX[route.key].values():
                    self.assertEqual(len(statuses), len(ACTORS), route.pattern)

    def test_every_path_reaches_its_own_route(self):
        for route in routes():
            if route.key == ADMIN:
                continue
            with self.subTest(route=route.pattern):
                self.assertIs(resolve(self.url(route)).func, route.callback)

    # The matrix itself.

    def test_every_route_method_and_actor_gets_the_status_in_the_table(self):
        self.baseline = db_state()
        for route in routes():
            if route.key not in MATRIX:
                continue  # reported by test_every_route_has_a_row
            methods = ["GET"] if route.key == ADMIN else [*METHODS, "HEAD"]
            for method in methods:
                for who, status in zip(ACTORS, expected(route.key, method), strict=True):
                    with self.subTest(route=route.key, method=method, actor=who):
                        self.check_cell(route, method, who, status)

    def check_cell(self, route: Route, method: str, who: str, status: int) -> None:
        with transaction.atomic():
            user = self.sign_in(route, who)
            body = self.body(route.key, method, user)
            response = self.client.generic(
                method,
                self.url(route),
                json.dumps(body) if body is not None else "",
                content_type="application/json",
            )
            refused_write = status >= 400 and method in WRITES
            after = db_state() if refused_write else None
            transaction.set_rollback(True)
        self.assertEqual(
            response.status_code,
            status,
            f"{method} {route.pattern} as {who}: {response.content[:300]!r}",
        )
        if refused_write:
            self.assertEqual(after, self.baseline, "a refused request changed the database")
        if route.key == ADMIN:
            if status == 302:
                self.assertTrue(response["Location"].startswith(reverse("admin:login")))
            return
        if method == "HEAD" or not 400 <= status < 500:
            return
        assert_problem(self, response, status, CODES[status])
