"""Calendar feeds for tests: made through `calendars.services`, as the API
makes them, so the stored hash always belongs to the URL's secret."""

from django.urls import reverse

from accounts.models import User
from calendars import services


def feed_path(user: User) -> str:
    """The path of `user`'s feed (made on first use)."""
    _feed, secret = services.calendar_feed_get(user=user, by=user)
    return path_of(secret)


def path_of(secret: str) -> str:
    return reverse("calendar-feed", kwargs={"secret": secret})


def session_calendar_path(session_id: int) -> str:
    return reverse("public-session-calendar", kwargs={"pk": session_id})
