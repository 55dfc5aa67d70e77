from django.contrib import admin

from bookings.models import Booking


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    """Bookings are read-only here: they are made and cancelled through the
    booking rules (capacity, duplicates, timing) of the API, or by cancelling
    their slot."""

    list_display = ["client", "session", "slot_start", "status", "created_at", "cancelled_at"]
    list_filter = ["status"]
    search_fields = ["client__email", "time_slot__session__title"]
    list_select_related = ["client", "time_slot__session"]
    date_hierarchy = "created_at"

    @admin.display(description="session", ordering="time_slot__session__title")
    def session(self, booking: Booking) -> str:
        return booking.time_slot.session.title

    @admin.display(description="slot start", ordering="time_slot__start")
    def slot_start(self, booking: Booking):
        return booking.time_slot.start

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
