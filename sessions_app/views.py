from django.http.response import HttpResponseBase
from django.utils.timezone import now
from django_filters.utils import translate_validation
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import IsInstructor
from core import timezones
from core.routers import public_reads
from core.schema import Tags
from core.serializers import ProblemSerializer
from sessions_app import examples, selectors, services
from sessions_app.cache import cached_response
from sessions_app.filters import PublicSessionFilter
from sessions_app.models import Session
from sessions_app.permissions import IsSessionOwner
from sessions_app.serializers import (
    SessionCreateSerializer,
    SessionSerializer,
    SessionUpdateSerializer,
    session_render,
)


@extend_schema_view(
    list=extend_schema(
        operation_id="sessions_list",
        tags=[Tags.INSTRUCTOR_SESSIONS],
        summary="Your sessions",
        description="The signed-in instructor's own sessions, past slots included.",
    ),
)
class SessionViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The instructor's own sessions.

    Listing and creating need the instructor role. The detail routes look the
    session up first (404 when there is none), then let only its owner in (403).
    """

    # Every route but the detail's GET: the owner's detail lists each slot's
    # bookings, which build on the timetable, so the bookings app completes
    # this viewset with it (`bookings.views.SessionViewSet`) and mounts the
    # whole of it at /api/sessions/.

    lookup_value_converter = "int"
    filter_backends = []
    # Set on the routes of the first API (see urls.py): the path they alias.
    alias_of: str | None = None

    def get_permissions(self):
        if self.action in ("list", "create"):
            return [IsInstructor()]
        return [IsAuthenticated(), IsSessionOwner()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator
            return Session.objects.none()
        if self.action == "list":
            return selectors.session_list_for_instructor(instructor=self.request.user)
        # Update and delete only need the session and its owner: the services
        # read (and lock) the slots they change.
        return Session.objects.select_related("instructor")

    def get_serializer_class(self):
        if self.action == "create":
            return SessionCreateSerializer
        if self.action in ("update", "partial_update"):
            return SessionUpdateSerializer
        return SessionSerializer

    def _render(self, session: Session, status_code: int = status.HTTP_200_OK) -> Response:
        session = selectors.session_with_slots().get(pk=session.pk)
        serializer = SessionSerializer(session, context=self.get_serializer_context())
        return Response(serializer.data, status=status_code)

    @extend_schema(
        operation_id="sessions_create",
        tags=[Tags.INSTRUCTOR_SESSIONS],
        summary="Create a session",
        description="Creates a session of the signed-in instructor with its time slots "
        "(`time_slots`), a repeating schedule (`recurrence`) or both. A slot starts in "
        "the future, ends after it starts, holds 1 to 500 people and overlaps none of "
        "the instructor's other slots.",
        request=SessionCreateSerializer,
        responses={201: SessionSerializer},
        examples=examples.SESSION_CREATE,
    )
    def create(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = services.session_create(
            instructor=request.user, by=request.user, **serializer.validated_data
        )
        return self._render(session, status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="sessions_update",
        tags=[Tags.INSTRUCTOR_SESSIONS],
        summary="Replace a session",
        description="Replaces the session's fields (`title` and `category` required). "
        "`time_slots`, when given, is the full list: an item with `id` changes that slot, "
        "one without adds a slot, and a slot left out is deleted. A slot holding any "
        "booking cannot be deleted (409 `has_bookings`) and no capacity can go below its "
        "confirmed bookings (409 `capacity_below_booked`). Nothing of a refused request "
        "is saved.",
        request=SessionUpdateSerializer,
        responses={200: SessionSerializer, 409: ProblemSerializer},
    )
    def update(self, request: Request, *args, **kwargs) -> Response:
        session = self.get_object()
        serializer = self.get_serializer(data=request.data, partial=kwargs.pop("partial", False))
        serializer.is_valid(raise_exception=True)
        services.session_update(session=session, data=serializer.validated_data, by=request.user)
        return self._render(session)

    @extend_schema(
        operation_id="sessions_partial_update",
        tags=[Tags.INSTRUCTOR_SESSIONS],
        summary="Change some fields of a session",
        description="Changes only the fields given; a field left out stays as it is. "
        "`time_slots`, when given, is the full list, as with PUT (409 `has_bookings` for "
        "a left-out slot that holds bookings, 409 `capacity_below_booked`).",
        request=SessionUpdateSerializer,
        responses={200: SessionSerializer, 409: ProblemSerializer},
    )
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        operation_id="sessions_delete",
        tags=[Tags.INSTRUCTOR_SESSIONS],
        summary="Delete a session",
        description="Deletes the session and its slots; refused with 409 `has_bookings` "
        "while any slot holds a booking (booking history is never destroyed).",
        responses={204: None, 409: ProblemSerializer},
    )
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        services.session_delete(session=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PublicSessionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The public timetable: sessions with upcoming slots, soonest first.

    Which slots show is decided by PublicSessionFilter, for the detail too:
    a session without an upcoming slot is not found.
    """

    permission_classes = [AllowAny]
    serializer_class = SessionSerializer
    filterset_class = PublicSessionFilter
    lookup_value_converter = "int"
    queryset = Session.objects.all()

    @extend_schema(
        operation_id="public_sessions_list",
        tags=[Tags.TIMETABLE],
        summary="The public timetable",
        description="Sessions with at least one upcoming slot, each with its upcoming "
        "slots only, soonest first. The date filters are days in the viewing time zone, "
        "inclusive.",
        examples=examples.PUBLIC_LIST,
    )
    def list(self, request: Request, *args, **kwargs) -> HttpResponseBase:
        with public_reads():
            return cached_response(self, request, lambda: self._timetable_page(request))

    def _timetable_page(self, request: Request) -> Response:
        """A page of the timetable, read as rows, each session shown by
        `session_render`."""
        filterset = self.filterset_class(
            request.query_params, queryset=self.get_queryset(), request=request
        )
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        rows = self.paginate_queryset(filterset.timetable())
        zone, at = timezones.viewing_zone(request), now()
        return self.get_paginated_response([session_render(row, zone, at) for row in rows])

    @extend_schema(
        operation_id="public_sessions_retrieve",
        tags=[Tags.TIMETABLE],
        summary="A session of the timetable",
        description="A session with its upcoming slots; 404 if it has none.",
        examples=examples.PUBLIC_DETAIL,
    )
    def retrieve(self, request: Request, *args, **kwargs) -> HttpResponseBase:
        build = super().retrieve
        with public_reads():
            return cached_response(self, request, lambda: build(request, *args, **kwargs))
