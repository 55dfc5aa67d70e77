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
from typing import NamedTuple

from django.contrib import admin
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.db import transaction
from django.test import TestCase
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.timezone import now
from rest_framework.test import APITestCase
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts import services as account_services
from accounts.models import User
from accounts.tests.factories import PASSWORD, ClientFactory, InstructorFactory, UserFactory
from bookings.models import Booking
from bookings.tests.factories import add_slot, make_slot
from calendars import services as calendar_services
from calendars.models import CalendarFeed
from notifications.models import Notification
from sessions_app.models import Session, TimeSlot
from sessions_app.tests.factories import SessionFactory, TimeSlotFactory
from testing.api import NEW_PASSWORD
from testing.bookings import book
from testing.problems import assert_problem

ACTORS = ("anonymous", "client", "other client", "instructor", "owner", "staff")
# HEAD is checked too, always with the status of GET.
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}  # a refused one must change nothing
OTHER = "any other method"  # every method of METHODS that the row does not name

ADMIN = "admin/"  # the whole admin site, checked here on its index; see AdminOnlyForStaffTests
CATCH_ALL = r"api/(?P<path>.*)"  # any other /api/ path


def each(status: int) -> tuple[int, ...]:
    return (status,) * len(ACTORS)


# A signed-out request is refused (401) before its method is looked at, and a
# wrong role (403) too where the whole view is for one role (bookings); then an
# unknown method is 405, then the object's owner is checked.
# fmt: off
# Route (its URL name, or its pattern when it has none) -> method -> expected status of
#                          anonymous, client, other client, instructor, owner, staff
MATRIX: dict[str, dict[str, tuple[int, ...]]] = {
    ADMIN: {
        "GET":                  (302,  302,   302,          302,        302,   200),
    },
    CATCH_ALL: {
        OTHER:                  each(404),
    },
    # Service endpoints: open to everyone.
    "health": {
        "GET":                  each(200),
        "OPTIONS":              each(200),
        OTHER:                  each(405),
    },
    "schema": {
        "GET":                  each(200),
        "OPTIONS":              each(200),
        OTHER:                  each(405),
    },
    "docs": {
        "GET":                  each(200),
        OTHER:                  each(405),
    },
    # Accounts (API.md section 2).
    "register": {
        "POST":                 each(201),
        "OPTIONS":              each(200),
        OTHER:                  each(405),
    },
    "login": {
        "POST":                 each(200),
        "OPTIONS":              each(200),
        OTHER:                  each(405),
    },
    "refresh-token": {
        "POST":                 each(200),
        "OPTIONS":              each(200),
        OTHER:                  each(405),
    },
    "logout": {
        "POST":                 (401,  204,   204,          204,        204,   204),
        "OPTIONS":              (401,  200,   200,          200,        200,   200),
        OTHER:                  (401,  405,   405,          405,        405,   405),
    },
    "me": {
        "GET":                  (401,  200,   200,          200,        200,   200),
        "PATCH":                (401,  200,   200,          200,        200,   200),
        "OPTIONS":              (401,  200,   200,          200,        200,   200),
        OTHER:                  (401,  405,   405,          405,        405,   405),
    },
    "password-change": {
        "POST":                 (401,  204,   204,          204,        204,   204),
        "OPTIONS":              (401,  200,   200,          200,        200,   200),
        OTHER:                  (401,  405,   405,          405,        405,   405),
    },
    "password-reset": {
        "POST":                 each(202),
        "OPTIONS":              each(200),
        OTHER:                  each(405),
    },
    "password-reset-confirm": {
        "POST":                 each(204),
        "OPTIONS":              each(200),
        OTHER:                  each(405),
    },
    # Sessions (API.md section 3): the first API's paths, then the REST routes.
    "session-create": {
        "POST":                 (401,  403,   403,          201,        201,   403),
        "OPTIONS":              (401,  200,   200,          200,        200,   200),
        OTHER:                  (401,  405,   405,          405,        405,   405),
    },
    "session-instructor-list": {
        "GET":                  (401,  403,   403,          200,        200,   403),
        "OPTIONS":              (401,  200,   200,          200,        200,   200),
        OTHER:                  (401,  405,   405,          405,        405,   405),
    },
    "session-update": {
        "PUT":                  (401,  403,   403,          403,        200,   403),
        "PATCH":                (401,  403,   403,          403,        200,   403),
        "OPTIONS":              (401,  200,   200,          200,        200,   200),
        OTHER:                  (401,  405,   405,          405,        405,   405),
    },
    "session-delete": {
        "DELETE":               (401,  403,   403,          403,        204,   403),
        "OPTIONS":              (401,  200,   200,          200,        200,   200),
        OTHER:                  (401,  405,   405,          405,        405,   405),
    },
    "session-list": {
        "GET":                  (401,  403,   403,          200,        200,   403),
        "POST":                 (401,  403,   403,          201,        201,   403),
        "OPTIONS":              (401,  200,   200,          200,        200,   200),
        OTHER:                  (401,  405,   405,          405,        405,   405),
    },
    "session-detail": {
        "GET":                  (401,  403,   403,          403,        200,   403),
        "PUT":                  (401,  403,   403,          403,        200,   403),
        "PATCH":                (401,  403,   403,          403,        200,   403),
        "DELETE":               (401,  403,   403,          403,        204,   403),
        "OPTIONS":              (401,  200,   200,          200,        200,   200),
        OTHER:                  (401,  405,   405,          405,        405,   405),
    },
    # The owner's operations on a slot (API.md section 7): like the session's detail routes.
    "session-time-slot-cancel": {
        "POST":                 (401,  403,   403,          403,        200,   403),
        "OPTIONS":              (401,  200,   200,          200,        200,   200),
        OTHER:                  (401,  405,   405,          405,        405,   405),
    },
    "session-time-slot-attendance": {
        "POST":                 (401,  403,   403,          403,        200,   403),
        "OPTIONS":              (401,  200,   200,          200,        200,   200),
        OTHER:                  (401,  405,   405,          405,        405,   405),
    },
    "public-session-list": {
        "GET":                  each(200),
        "OPTIONS":              each(200),
        OTHER:                  each(405),
    },
    "public-session-detail": {
        "GET":                  each(200),
        "OPTIONS":              each(200),
        OTHER:                  each(405),
    },
    # Bookings (API.md section 4): clients only; another's booking is not found.
    "booking-list": {
        "GET":                  (401,  200,   200,          403,        403,   200),
        "POST":                 (401,  201,   201,          403,        403,   201),
        "OPTIONS":              (401,  200,   200,          403,        403,   200),
        OTHER:                  (401,  405,   405,          403,        403,   405),
    },
    "booking-detail": {
        "GET":                  (401,  200,   404,          403,        403,   404),
        "DELETE":               (401,  200,   404,          403,        403,   404),
        "OPTIONS":              (401,  200,   200,          403,        403,   200),
        OTHER:                  (401,  405,   405,          403,        403,   405),
    },
    "booking-cancel": {
        "POST":                 (401,  200,   404,          403,        403,   404),
        "OPTIONS":              (401,  200,   200,          403,        403,   200),
        OTHER:                  (401,  405,   405,          403,        403,   405),
    },
    # Notifications (API.md section 8): each signed-in user reads their own.
    "notification-list": {
        "GET":                  (401,  200,   200,          200,        200,   200),
        "OPTIONS":              (401,  200,   200,          200,        200,   200),
        OTHER:                  (401,  405,   405,          405,        405,   405),
    },
    # Calendar feeds (API.md section 10): each signed-in user's own feed address;
    # the feeds need no sign-in (the client's feed address is its secret).
    "calendar-url": {
        "GET":                  (401,  200,   200,          200,        200,   200),
        "POST":                 (401,  200,   200,          200,        200,   200),
        "OPTIONS":              (401,  200,   200,          200,        200,   200),
        OTHER:                  (401,  405,   405,          405,        405,   405),
    },
    "calendar-feed": {
        "GET":                  each(200),
        OTHER:                  each(405),
    },
    "public-session-calendar": {
        "GET":                  each(200),
        OTHER:                  each(405),
    },
}
# fmt: on

# The problem code of each refusal (API.md section 1).
CODES = {
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
}


def db_state() -> tuple:
    """Everything a request could change, to compare before and after a refusal."""
    return (
        list(
            User.objects.order_by("pk").values_list(
                "pk",
                "email",
                "name",
                "role",
                "timezone",
                "email_reminders",
                "password",
                "is_active",
                "is_staff",
            )
        ),
        list(
            Session.objects.order_by("pk").values_list(
                "pk", "title", "description", "category", "updated_at"
            )
        ),
        list(
            TimeSlot.objects.order_by("pk").values_list(
                "pk", "start", "end", "capacity", "booked", "waitlisted", "is_cancelled"
            )
        ),
        list(
            Booking.objects.order_by("pk").values_list(
                "pk", "status", "cancelled_at", "late", "attendance"
            )
        ),
        BlacklistedToken.objects.count(),  # revoked refresh tokens
        Notification.objects.count(),  # mail to send
        list(CalendarFeed.objects.order_by("pk").values_list("pk", "user_id", "token_hash")),
    )


class Route(NamedTuple):
    key: str  # its URL name, or its pattern
    pattern: str  # the full pattern, for messages
    callback: object  # the view; None for the admin site
    params: tuple[str, ...]  # the names of its path parameters


def routes(patterns=None, prefix: str = "", params: tuple[str, ...] = ()) -> list[Route]:
    """Every route of the URL configuration; the admin site is one route."""
    found = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        pattern = prefix + str(entry.pattern).removeprefix("^").removesuffix("$")
        names = params + tuple(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            if entry.namespace == admin.site.name:
                found.append(Route(pattern, pattern, None, ()))
            else:
                found.extend(routes(entry.url_patterns, pattern, names))
        elif isinstance(entry, URLPattern):
            found.append(Route(entry.name or pattern, pattern, entry.callback, names))
    return found


def answered_methods(callback) -> set[str] | None:
    """The methods a view answers itself; None for a plain Django view, which
    sees every method."""
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is None:
        return None
    actions = getattr(callback, "actions", None)
    if actions is None:  # an APIView: the handlers it defines
        handlers = {
            method for method in view_class.http_method_names if hasattr(view_class, method)
        }
    else:  # a DRF viewset: the actions mapped on this route, and OPTIONS
        handlers = {method for method, action in actions.items() if hasattr(view_class, action)}
        handlers |= {"options"} if hasattr(view_class, "options") else set()
    initkwargs = getattr(callback, "view_initkwargs", None) or {}
    methods = handlers & set(initkwargs.get("http_method_names", view_class.http_method_names))
    if "get" in methods:
        methods.add("head")
    return {method.upper() for method in methods}


def expected(key: str, method: str) -> tuple[int, ...]:
    row = MATRIX[key]
    if method == "HEAD":
        method = "GET"
    return row.get(method, row.get(OTHER))


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


class AdminOnlyForStaffTests(TestCase):
    """The admin index and the changelist of every model registered in the admin
    site (read from the site, so a new ModelAdmin is covered): staff only."""

    @classmethod
    def setUpTestData(cls):
        cls.staff = User.objects.create_superuser(
            email="staff@example.com", password=PASSWORD, name="Staff"
        )
        cls.non_staff = {
            "client": ClientFactory(),
            "instructor": InstructorFactory(),
            "superuser flag without staff": UserFactory(is_superuser=True),
        }
        cls.staff_without_permissions = UserFactory(is_staff=True)
        book(make_slot(), ClientFactory())  # a row in every changelist

    def pages(self) -> list[str]:
        changelists = [
            reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            for model in admin.site._registry
        ]
        return [reverse("admin:index"), *changelists]

    def assert_sent_to_login(self, response, page: str) -> None:
        self.assertEqual(response.status_code, 302, page)
        self.assertEqual(response["Location"], f"{reverse('admin:login')}?next={page}", page)

    def test_the_studio_models_are_in_the_admin(self):
        self.assertTrue({User, Session, TimeSlot, Booking} <= set(admin.site._registry))

    def test_anonymous_is_sent_to_the_login(self):
        for page in self.pages():
            with self.subTest(page=page):
                self.assert_sent_to_login(self.client.get(page), page)

    def test_signed_in_users_who_are_not_staff_are_sent_to_the_login(self):
        for who, user in self.non_staff.items():
            self.client.force_login(user)
            for page in self.pages():
                with self.subTest(who=who, page=page):
                    self.assert_sent_to_login(self.client.get(page), page)

    def test_an_api_token_does_not_open_the_admin(self):
        access = account_services.tokens_for(self.staff)["access"]
        for page in self.pages():
            with self.subTest(page=page):
                response = self.client.get(page, headers={"Authorization": f"Bearer {access}"})

                self.assert_sent_to_login(response, page)

    def test_staff_see_the_index_and_every_changelist(self):
        self.client.force_login(self.staff)
        for page in self.pages():
            with self.subTest(page=page):
                self.assertEqual(self.client.get(page).status_code, 200, page)

    def test_staff_see_only_the_changelists_they_have_permission_for(self):
        self.client.force_login(self.staff_without_permissions)
        index, *changelists = self.pages()

        self.assertEqual(self.client.get(index).status_code, 200)
        for page in changelists:
            with self.subTest(page=page):
                self.assertEqual(self.client.get(page).status_code, 403, page)
