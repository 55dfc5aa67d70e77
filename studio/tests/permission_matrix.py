"""The table of who may call what, for `test_permission_matrix`: MATRIX (route ×
method → the status each actor gets), the problem code of each refusal, the
routes as the URL configuration has them, and a snapshot of what a refused
write must leave as it was.
"""

from typing import NamedTuple

from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.models import User
from bookings.models import Booking
from calendars.models import CalendarFeed
from notifications.models import Notification
from sessions_app.models import Session, TimeSlot

ACTORS = ("anonymous", "client", "other client", "instructor", "owner", "staff")
# HEAD is checked too, always with the status of GET.
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}  # a refused one must change nothing
OTHER = "any other method"  # every method of METHODS that the row does not name

ADMIN = "admin/"  # the whole admin site, checked here on its index; see test_admin_staff_only
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
