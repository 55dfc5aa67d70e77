from django.http import HttpRequest, HttpResponse

from core import timezones
from core.errors import InvalidTimezoneError, UriTooLongError
from core.exception_handler import problem_response

# The longest query string an API request may carry, in characters as sent
# (percent-encoded). Every filter of the API fits in a small fraction of it.
QUERY_STRING_LIMIT = 4096


def checks_viewing_zone(path: str) -> bool:
    """Whether ViewingTimezoneMiddleware refuses a request to `path` that
    names an unknown zone: any API request, whether or not its answer shows
    times (the schema declares `tz` and `X-Timezone` wherever this holds)."""
    return path.startswith("/api/")


class QueryStringLimitMiddleware:
    """Refuses an API request whose query string is over QUERY_STRING_LIMIT
    with a 414 problem, before anything parses the query or a view runs.

    No middleware above it in MIDDLEWARE parses the query string (a redirect
    to HTTPS copies it as it is), and placed there the refusal still carries
    the CORS and security headers of every answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.path.startswith("/api/")
            and len(request.META.get("QUERY_STRING", "")) > QUERY_STRING_LIMIT
        ):
            return problem_response(UriTooLongError.for_query_string(QUERY_STRING_LIMIT))
        return self.get_response(request)


class ViewingTimezoneMiddleware:
    """Refuses an API request that names an unknown time zone before any view
    runs, so a bad `tz` or `X-Timezone` never lets a write through."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if checks_viewing_zone(request.path):
            name = timezones.requested_zone_name(request)
            if name is not None:
                try:
                    timezones.get_zone(name)
                except InvalidTimezoneError as error:
                    return problem_response(error)
        return self.get_response(request)
