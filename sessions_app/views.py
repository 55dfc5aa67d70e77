from django.http.response import HttpResponseBase
from django.utils.timezone import now
from django_filters.utils import translate_validation
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import IsInstructor
from sessions_app import examples, selectors, services
from sessions_app.cache import cached_response
from sessions_app.filters import PublicSessionFilter
from sessions_app.models import Session
from sessions_app.permissions import IsSessionOwner
from sessions_app.serializers import (
    SessionCreateSerializer,
    SessionDetailSerializer,
    SessionSerializer,
    SessionUpdateSerializer,
    timetable_session,
)
from studio import timezones
from studio.routers import public_reads
from studio.serializers import ProblemSerializer


class SessionViewSet(viewsets.ModelViewSet):
    """The instructor's own sessions.

    Listing and creating need the instructor role. The detail routes look the
    session up first (404 when there is none), then let only its owner in (403).
    """

    lookup_value_regex = r"\d+"
    filter_backends = []

    def get_permissions(self):
        if self.action in ("list", "create"):
            return [IsInstructor()]
        return [IsAuthenticated(), IsSessionOwner()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator
            return Session.objects.none()
        if self.action == "list":
            return selectors.session_list_for_instructor(instructor=self.request.user)
        if self.action == "retrieve":
            return selectors.session_detail_queryset()
        # Update and delete only need the session and its owner; the services
        # read (and lock) the slots they change.
        return Session.objects.select_related("instructor")

    def get_serializer_class(self):
        if self.action == "create":
            return SessionCreateSerializer
        if self.action in ("update", "partial_update"):
            return SessionUpdateSerializer
        if self.action == "retrieve":
            return SessionDetailSerializer
        return SessionSerializer

    def _render(self, session: Session, status_code: int = status.HTTP_200_OK) -> Response:
        session = selectors.session_with_slots().get(pk=session.pk)
        serializer = SessionSerializer(session, context=self.get_serializer_context())
        return Response(serializer.data, status=status_code)

    @extend_schema(
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
        request=SessionUpdateSerializer,
        responses={200: SessionSerializer, 409: ProblemSerializer},
    )
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(responses={204: None, 409: ProblemSerializer})
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
    lookup_value_regex = r"\d+"
    queryset = Session.objects.all()

    @extend_schema(examples=examples.PUBLIC_LIST)
    def list(self, request: Request, *args, **kwargs) -> HttpResponseBase:
        with public_reads():
            return cached_response(self, request, lambda: self._timetable_page(request))

    def _timetable_page(self, request: Request) -> Response:
        """A page of the timetable, read as rows and shown as SessionSerializer
        shows each session (a test holds the two equal)."""
        filterset = self.filterset_class(
            request.query_params, queryset=self.get_queryset(), request=request
        )
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        rows = self.paginate_queryset(filterset.timetable())
        zone, at = timezones.viewing_zone(request), now()
        return self.get_paginated_response([timetable_session(row, zone, at) for row in rows])

    @extend_schema(examples=examples.PUBLIC_DETAIL)
    def retrieve(self, request: Request, *args, **kwargs) -> HttpResponseBase:
        build = super().retrieve
        with public_reads():
            return cached_response(self, request, lambda: build(request, *args, **kwargs))
