"""The calendar endpoints (API.md section 10).

`GET`/`POST /api/calendar/` show and replace the signed-in user's secret feed
address. The feeds themselves (`/api/calendar/<secret>.ics` and
`/api/public/sessions/<id>/calendar.ics`) need no sign-in and ignore any
`Authorization` header; they answer `text/calendar` to `Accept:
text/calendar`, `*/*` or no Accept header, and their errors are problem
bodies in JSON like every other error of the API.
"""

from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from calendars import examples, selectors, services
from calendars.renderers import CalendarRenderer, calendar_bytes
from calendars.serializers import CalendarFeedUrlSerializer
from core.errors import PreconditionFailedError
from core.examples import problem_example
from core.schema import Tags
from core.serializers import ProblemSerializer

TAG = Tags.CALENDAR_FEEDS


def feed_url(request: Request, secret: str) -> str:
    return request.build_absolute_uri(reverse("calendar-feed", kwargs={"secret": secret}))


class CalendarFeedUrlView(APIView):
    """The signed-in user's secret calendar feed address: an instructor's
    feed lists their slots, a client's their bookings."""

    permission_classes = [IsAuthenticated]
    serializer_class = CalendarFeedUrlSerializer

    @extend_schema(
        tags=[TAG],
        operation_id="calendar_url_retrieve",
        summary="The address of your calendar feed",
        description="The secret address of the signed-in user's calendar feed: an "
        "instructor's slots or a client's bookings.",
        responses=CalendarFeedUrlSerializer,
        examples=examples.CALENDAR_URL_GET,
    )
    def get(self, request: Request) -> Response:
        _feed, secret = services.calendar_feed_get(user=request.user, by=request.user)
        return Response(CalendarFeedUrlSerializer({"url": feed_url(request, secret)}).data)

    @extend_schema(
        tags=[TAG],
        operation_id="calendar_url_replace",
        summary="Replace the address of your calendar feed",
        description="Makes a new secret address for your calendar feed; the old one "
        "answers 404 from then on.",
        request=None,
        responses=CalendarFeedUrlSerializer,
        examples=examples.CALENDAR_URL_POST,
    )
    def post(self, request: Request) -> Response:
        _feed, secret = services.calendar_feed_rotate(user=request.user, by=request.user)
        return Response(CalendarFeedUrlSerializer({"url": feed_url(request, secret)}).data)


# The headers of a feed's answer, 200 and 304 alike.
_VALIDATORS = [
    OpenApiParameter(
        "ETag",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200, 304],
        description="Send it back in `If-None-Match` to be answered 304 while nothing changed.",
    ),
    OpenApiParameter(
        "Last-Modified",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200, 304],
        description="The newest change of the feed's events; for `If-Modified-Since`.",
    ),
]


def _feed_responses(example_name: str, example: str, not_found: OpenApiExample) -> dict:
    return {
        (200, "text/calendar"): OpenApiResponse(
            OpenApiTypes.STR,
            description="An iCalendar file (RFC 5545), every time in UTC.",
            examples=[
                OpenApiExample(
                    example_name,
                    value=example,
                    media_type="text/calendar",
                    response_only=True,
                    status_codes=["200"],
                )
            ],
        ),
        304: OpenApiResponse(
            description="Not modified: `If-None-Match` names the current ETag, or "
            "`If-Modified-Since` is not older than `Last-Modified`. No body."
        ),
        (404, "application/json"): OpenApiResponse(ProblemSerializer, examples=[not_found]),
        (412, "application/json"): OpenApiResponse(
            ProblemSerializer,
            description="An `If-Match` or `If-Unmodified-Since` that does not hold.",
            examples=[problem_example("Precondition failed", PreconditionFailedError())],
        ),
    }


class CalendarFileView(APIView):
    """A calendar file, answered with its validators (`ETag`, `Last-Modified`)
    and `304 Not Modified` to a conditional GET whose copy is current."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    renderer_classes = [CalendarRenderer]
    http_method_names = ["get", "head"]
    cache_control = "no-cache"

    def calendar(self, feed: selectors.Feed) -> Response | HttpResponse:
        headers = {
            "ETag": feed.etag,
            "Last-Modified": http_date(feed.modified.timestamp()),
            # Kept by a cache, but checked with the server before each use.
            "Cache-Control": self.cache_control,
        }
        # Django's evaluation of the preconditions (RFC 9110 section 13.2.2):
        # it answers 304 or 412, or hands back the headers-only answer given.
        headers_only = HttpResponse(headers=headers)
        answer = get_conditional_response(
            self.request._request,
            etag=feed.etag,
            last_modified=int(feed.modified.timestamp()),
            response=headers_only,
        )
        if answer is not None and answer is not headers_only:
            if answer.status_code == 412:
                raise PreconditionFailedError()
            return answer
        return Response(calendar_bytes(feed), headers=headers)


class CalendarFeedView(CalendarFileView):
    """A user's calendar feed, found by the secret in its address."""

    cache_control = "private, no-cache"

    @extend_schema(
        tags=[TAG],
        operation_id="calendar_feed",
        summary="Your calendar feed",
        description=(
            "No sign-in: the address is the secret. "
            "An instructor's slots, or a client's bookings (confirmed, and cancelled ones as "
            "`STATUS:CANCELLED`), whose slot starts 30 days ago or later; one event each, "
            "its `SEQUENCE` raised on every change. Conditional requests (`If-None-Match`, "
            "`If-Modified-Since`) are answered 304 while nothing changed. An unknown or "
            "replaced address is 404."
        ),
        parameters=[
            OpenApiParameter(
                "secret",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                pattern=r"^[0-9a-f]{64}$",
                description="The secret part of the address `GET /api/calendar/` shows.",
            ),
            *_VALIDATORS,
        ],
        responses=_feed_responses("A client's feed", examples.CLIENT_FEED, examples.UNKNOWN_FEED),
    )
    def get(self, request: Request, secret: str) -> Response | HttpResponse:
        feed = selectors.calendar_feed_by_secret(secret)
        return self.calendar(selectors.personal_feed(feed))


class SessionCalendarView(CalendarFileView):
    """The public calendar of a session's upcoming slots."""

    @extend_schema(
        tags=[TAG],
        operation_id="public_session_calendar",
        summary="A session's upcoming slots as a calendar",
        description=(
            "The session's slots that have not started, one event each (`UID` "
            "`slot-<id>@studio`); a cancelled one stays as `STATUS:CANCELLED` so subscribed "
            "calendars drop it. A session without upcoming slots has an empty calendar. "
            "Conditional requests are answered 304 while nothing changed."
        ),
        parameters=[
            OpenApiParameter(
                "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The session's id."
            ),
            *_VALIDATORS,
        ],
        responses=_feed_responses(
            "Evening Yoga's slots", examples.SESSION_FEED, examples.UNKNOWN_SESSION
        ),
    )
    def get(self, request: Request, pk: int) -> Response | HttpResponse:
        return self.calendar(selectors.session_feed(pk))
