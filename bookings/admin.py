from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bookings import services
from bookings.models import Booking
from sessions_app.admin import TimeSlotAdmin as TimetableSlotAdmin
from sessions_app.models import TimeSlot
from studio.actionlog import ActionLogInline
from studio.errors import SlotExpiredError


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    """Bookings are read-only here: they are made and cancelled through the
    booking rules (capacity, duplicates, timing) of the API, or by cancelling
    their slot. Each shows its action log."""

    list_display = ["client", "session", "slot_start", "status", "created_at", "cancelled_at"]
    list_filter = ["status"]
    search_fields = ["client__email", "time_slot__session__title"]
    list_select_related = ["client", "time_slot__session"]
    date_hierarchy = "created_at"
    inlines = [ActionLogInline]

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


@admin.register(TimeSlot)
class TimeSlotAdmin(TimetableSlotAdmin):
    """The timetable's slot admin, with the action that cancels slots and
    their bookings; it lives here because cancelling bookings is this app's."""

    actions = ["cancel_slots"]

    @admin.action(description=_("Cancel selected slots"), permissions=["change"])
    def cancel_slots(self, request, queryset: QuerySet[TimeSlot]) -> None:
        """Cancels each slot with the service, in the name of the staff member,
        each on its own; slots cancelled before are left alone, and slots that
        have started are refused and named."""
        slots = list(queryset.select_related("session").order_by("pk"))
        open_slots = [slot for slot in slots if not slot.is_cancelled]
        skipped = len(slots) - len(open_slots)
        cancelled, started, bookings = 0, [], 0
        for slot in open_slots:
            try:
                bookings += services.time_slot_cancel(time_slot=slot, by=request.user)
            except SlotExpiredError:
                started.append(slot)
            else:
                cancelled += 1
        if cancelled:
            self.message_user(
                request,
                _("Cancelled %(slots)s and %(bookings)s.")
                % {
                    "slots": ngettext("%(count)d slot", "%(count)d slots", cancelled)
                    % {"count": cancelled},
                    "bookings": ngettext("%(count)d booking", "%(count)d bookings", bookings)
                    % {"count": bookings},
                },
                messages.SUCCESS,
            )
        if started:
            self.message_user(
                request,
                ngettext(
                    "Could not cancel %(count)d slot that has started: %(slots)s.",
                    "Could not cancel %(count)d slots that have started: %(slots)s.",
                    len(started),
                )
                % {"count": len(started), "slots": "; ".join(str(slot) for slot in started)},
                messages.ERROR,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "Skipped %(count)d slot that was already cancelled.",
                    "Skipped %(count)d slots that were already cancelled.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )
