from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import IsClient
from bookings import examples, selectors, services
from bookings.filters import BookingFilter
from bookings.models import Booking
from bookings.serializers import BookingCreateSerializer, BookingSerializer
from studio.serializers import ProblemSerializer

CONFLICT = OpenApiResponse(ProblemSerializer, description="A booking rule refuses the request.")


@extend_schema_view(
    list=extend_schema(examples=examples.BOOKING_LIST),
    retrieve=extend_schema(examples=examples.BOOKING_DETAIL),
)
class BookingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A client's bookings. Other people's bookings are not found (404)."""

    permission_classes = [IsClient]
    serializer_class = BookingSerializer
    filterset_class = BookingFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator
            return Booking.objects.none()
        return selectors.booking_list(client=self.request.user)

    def _render(self, booking, status_code=status.HTTP_200_OK) -> Response:
        booking = selectors.booking_list(client=self.request.user).get(pk=booking.pk)
        return Response(self.get_serializer(booking).data, status=status_code)

    @extend_schema(
        request=BookingCreateSerializer,
        responses={201: BookingSerializer, 409: CONFLICT},
        examples=examples.BOOKING_CREATE,
    )
    def create(self, request: Request) -> Response:
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
        request=None,
        responses={200: BookingSerializer, 409: CONFLICT},
        examples=examples.BOOKING_CANCEL,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None) -> Response:
        booking = services.booking_cancel(booking=self.get_object(), by=request.user)
        return self._render(booking)

    @extend_schema(
        responses={200: BookingSerializer, 409: CONFLICT}, examples=examples.BOOKING_CANCEL
    )
    def destroy(self, request: Request, pk=None) -> Response:
        return self.cancel(request, pk=pk)
