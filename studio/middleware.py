from django.http import HttpRequest, HttpResponse

from studio import timezones
from studio.errors import InvalidTimezoneError
from studio.exception_handler import problem_response


class ViewingTimezoneMiddleware:
    """Refuses an API request that names an unknown time zone before any view
    runs, so a bad `tz` or `X-Timezone` never lets a write through."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            name = timezones.requested_zone_name(request)
            if name is not None:
                try:
                    timezones.get_zone(name)
                except InvalidTimezoneError as error:
                    return problem_response(error)
        return self.get_response(request)
