from django_filters import rest_framework as filters

from bookings import selectors
from bookings.models import Booking, BookingStatus


class BookingFilter(filters.FilterSet):
    when = filters.ChoiceFilter(
        choices=[("upcoming", "upcoming"), ("past", "past")],
        method="filter_noop",
        help_text="upcoming: slots that start in the future, soonest first; "
        "past: slots that have started, latest first.",
    )
    status = filters.ChoiceFilter(choices=BookingStatus.choices, method="filter_noop")

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
