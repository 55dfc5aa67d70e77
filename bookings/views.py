from typing import Any

from django.utils.timezone import now
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import IsClient
from bookings import examples, idempotency, selectors, services
from bookings.filters import BookingFilter
from bookings.models import Booking
from bookings.serializers import (
    AttendanceMarkSerializer,
    BookingCreateSerializer,
    BookingSerializer,
    SessionDetailSerializer,
    session_detail_render,
)
from core import timezones
from core.exception_handler import PROBLEM_CONTENT_TYPE
from core.schema import Tags
from core.serializers import ProblemSerializer
from sessions_app import views as session_views
from sessions_app.models import Session, TimeSlot
from sessions_app.permissions import IsSessionOwner

CONFLICT = OpenApiResponse(
    ProblemSerializer,
    description="A booking rule refuses the request, or a request with the same "
    "Idempotency-Key is still running.",
)
KEY_REUSED = OpenApiResponse(
    ProblemSerializer, description="The Idempotency-Key was used before with another body."
)
IDEMPOTENCY_KEY = OpenApiParameter(
    idempotency.KEY_HEADER,
    {
        "type": "string",
        "minLength": 1,
        "maxLength": idempotency.KEY_MAX_LENGTH,
        "pattern": idempotency.KEY_PATTERN,
    },
    OpenApiParameter.HEADER,
    description=(
        "Makes a retry safe: a retry with the same key and the same JSON body within "
        "24 hours books nothing more and gets the first answer again (any answer below "
        "500), with `Idempotent-Replayed: true`. The same key with another body is 422 "
        "`idempotency_key_reused`; while the first request runs, 409 "
        "`idempotency_key_in_use`. Keys are your own: another client's key never matches."
    ),
)
IDEMPOTENT_REPLAYED = OpenApiParameter(
    idempotency.REPLAYED_HEADER,
    {"type": "string", "enum": ["true"]},
    OpenApiParameter.HEADER,
    description="Present, as `true`, only on an answer given again to a retry "
    "with the same Idempotency-Key.",
    response=[201, 400, 409],
)


@extend_schema_view(
    list=extend_schema(
        operation_id="bookings_list",
        tags=[Tags.BOOKINGS],
        summary="Your bookings",
        description="The signed-in client's bookings: `when=upcoming` (slot starts in the "
        "future, soonest first) or `when=past` (slot has started, latest first), and by "
        "`status`.",
        examples=examples.BOOKING_LIST,
    ),
    retrieve=extend_schema(
        operation_id="bookings_retrieve",
        tags=[Tags.BOOKINGS],
        summary="One of your bookings",
        description="A booking of the signed-in client; anyone else's is 404.",
        examples=examples.BOOKING_DETAIL,
    ),
)
class BookingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A client's bookings. Other people's bookings are not found (404)."""

    permission_classes = [IsClient]
    serializer_class = BookingSerializer
    filterset_class = BookingFilter
    lookup_value_converter = "int"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator
            return Booking.objects.none()
        return selectors.booking_list(client=self.request.user)

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        selectors.with_waitlist_positions(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        booking = self.get_object()
        selectors.with_waitlist_positions([booking])
        return Response(self.get_serializer(booking).data)

    def _render(self, booking, status_code=status.HTTP_200_OK) -> Response:
        booking = selectors.booking_list(client=self.request.user).get(pk=booking.pk)
        selectors.with_waitlist_positions([booking])
        return Response(self.get_serializer(booking).data, status=status_code)

    @extend_schema(
        operation_id="bookings_create",
        tags=[Tags.BOOKINGS],
        summary="Book a time slot",
        description="Books a seat on a time slot for the signed-in client, or, with "
        "`waitlist: true` on a full slot, joins its waitlist. Checked in this order: "
        "409 `slot_cancelled`, `slot_expired`, `already_booked`, `time_conflict`, then "
        "`slot_full` (or `waitlist_full` when joining a full waitlist).",
        request=BookingCreateSerializer,
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
        responses={201: BookingSerializer, 409: CONFLICT, 422: KEY_REUSED},
        examples=examples.BOOKING_CREATE,
    )
    def create(self, request: Request) -> Response:
        key = idempotency.idempotency_key_read(request.headers.get(idempotency.KEY_HEADER))
        if key is None:
            return self._book(request)

        def run() -> tuple[int, Any]:
            response = self._book(request)
            return response.status_code, response.data

        answer = idempotency.idempotent_answer(
            client=request.user, key=key, body=request.data, run=run
        )
        # A stored refusal is given again as the problem it was.
        content_type = PROBLEM_CONTENT_TYPE if answer.status >= 400 else None
        return Response(
            answer.body, status=answer.status, headers=answer.headers, content_type=content_type
        )

    def _book(self, request: Request) -> Response:
        serializer = BookingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = services.booking_create(
            client=request.user,
            time_slot_id=serializer.validated_data["time_slot"],
            waitlist=serializer.validated_data["waitlist"],
            by=request.user,
        )
        # The service hands back the booking with its slot, session,
        # instructor and waitlist position loaded: nothing to read again.
        return Response(self.get_serializer(booking).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="bookings_cancel",
        tags=[Tags.BOOKINGS],
        summary="Cancel a booking",
        description="Cancels a booking of the signed-in client; its seat goes to the "
        "waitlist or is free again. Cancelling twice changes nothing. After "
        "`cancel_before` the booking is marked `late`; once the slot has started, 409 "
        "`cancellation_closed`.",
        request=None,
        responses={200: BookingSerializer, 409: CONFLICT},
        examples=examples.BOOKING_CANCEL,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None) -> Response:
        booking = services.booking_cancel(booking=self.get_object(), by=request.user)
        return self._render(booking)

    @extend_schema(
        operation_id="bookings_cancel_legacy",
        tags=[Tags.BOOKINGS],
        summary="Cancel a booking (deprecated path)",
        description="Deprecated: an older way to `POST /api/bookings/{id}/cancel/`, kept "
        "working; use that one. The booking is cancelled, not deleted.",
        deprecated=True,
        responses={200: BookingSerializer, 409: CONFLICT},
        examples=examples.BOOKING_CANCEL,
    )
    def destroy(self, request: Request, pk=None) -> Response:
        return self.cancel(request, pk=pk)


class SessionViewSet(session_views.SessionViewSet):
    # The timetable's viewset of the instructor's own sessions, completed
    # with the detail's GET: the owner's view, which lists each slot's
    # bookings. bookings/urls.py mounts it at /api/sessions/. OPTIONS
    # describes it as the timetable's viewset.
    __doc__ = session_views.SessionViewSet.__doc__

    def get_serializer_class(self):
        if self.action == "retrieve":
            return SessionDetailSerializer
        return super().get_serializer_class()

    @extend_schema(
        operation_id="sessions_retrieve",
        tags=[Tags.INSTRUCTOR_SESSIONS],
        summary="One of your sessions, with its bookings",
        description="A session as its owner sees it: every slot, each listing its bookings "
        "with the client's name and email.",
    )
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        # Read as rows (the session's slots and their bookings), shown by
        # the detail's one rendering.
        rows = selectors.session_detail_get(session=self.get_object())
        return Response(session_detail_render(rows, timezones.viewing_zone(request), now()))


SLOT_PARAMETER = OpenApiParameter(
    "slot_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="A time slot of the session."
)


class SessionTimeSlotViewSet(viewsets.GenericViewSet):
    """The owning instructor's operations on one slot of a session, under
    /api/sessions/{id}/time-slots/{slot_id}/. Like the session's own detail
    routes, the session is looked up first (404 when there is none), then
    only its owner is let in (403); a slot that is not the session's is not
    found (404)."""

    permission_classes = [IsAuthenticated, IsSessionOwner]
    queryset = Session.objects.select_related("instructor")
    lookup_value_converter = "int"
    filter_backends = []

    def get_serializer_class(self):
        # Also what OPTIONS describes, for the POST of the route asked about.
        if self.action_map.get("post") == "attendance":
            return AttendanceMarkSerializer
        return serializers.Serializer

    def get_time_slot(self) -> TimeSlot:
        session = self.get_object()
        slots = TimeSlot.objects.filter(session=session)
        return get_object_or_404(slots, pk=self.kwargs["slot_id"])

    @extend_schema(
        operation_id="time_slots_cancel",
        tags=[Tags.INSTRUCTOR_SESSIONS],
        summary="Cancel a time slot of your session",
        description=(
            "The studio cancels an upcoming time slot: it takes no more bookings and "
            "every confirmed and waitlisted booking on it is cancelled. Answers the "
            "session as its owner sees it. Cancelling a cancelled slot changes nothing; "
            "a slot that has started is 409 `slot_expired`."
        ),
        request=None,
        responses={200: SessionDetailSerializer, 409: CONFLICT},
        parameters=[SLOT_PARAMETER],
        examples=examples.SLOT_CANCEL,
    )
    def cancel(self, request: Request, pk=None, slot_id=None) -> Response:
        slot = self.get_time_slot()
        services.time_slot_cancel(time_slot=slot, by=request.user)
        session = selectors.session_detail_queryset().get(pk=slot.session_id)
        serializer = SessionDetailSerializer(session, context=self.get_serializer_context())
        return Response(serializer.data)

    @extend_schema(
        operation_id="time_slots_attendance",
        tags=[Tags.INSTRUCTOR_SESSIONS],
        summary="Mark a booking's attendance",
        description=(
            "Marks a confirmed booking of the slot `attended` or `no_show`, from "
            f"{services.ATTENDANCE_OPENS_MINUTES_BEFORE_START} minutes before the slot starts "
            f"until {services.ATTENDANCE_CLOSES_DAYS_AFTER_END} days after it ends (else 409 "
            "`attendance_closed`); the mark may be changed within that window."
        ),
        request=AttendanceMarkSerializer,
        responses={200: BookingSerializer, 409: CONFLICT},
        parameters=[SLOT_PARAMETER],
        examples=examples.ATTENDANCE_MARK,
    )
    def attendance(self, request: Request, pk=None, slot_id=None) -> Response:
        slot = self.get_time_slot()
        context = {**self.get_serializer_context(), "time_slot": slot}
        serializer = self.get_serializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        booking = services.booking_mark_attendance(by=request.user, **serializer.validated_data)
        return Response(BookingSerializer(booking, context=context).data)
