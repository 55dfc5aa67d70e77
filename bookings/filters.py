from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from bookings import selectors
from bookings.models import Booking, BookingStatus


@extend_schema_field({"$ref": "#/components/schemas/BookingStatusEnum"})
class BookingStatusFilter(filters.ChoiceFilter):
    """A booking status, documented as the booking's own status enum."""


class BookingFilter(filters.FilterSet):
    when = filters.ChoiceFilter(
        choices=[("upcoming", "upcoming"), ("past", "past")],
        method="filter_noop",
        help_text="upcoming: slots that start in the future, soonest first; "
        "past: slots that have started, latest first.",
    )
    status = BookingStatusFilter(choices=BookingStatus.choices, method="filter_noop")

    class Meta:
        model = Booking
        fields = ["when", "status"]

    def filter_noop(self, queryset, name, value):
        # Applied together, with their ordering, in filter_queryset.
        return queryset

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        return selectors.booking_filter(
            queryset, when=data.get("when") or None, status=data.get("status") or None
        )
