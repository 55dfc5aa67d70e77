from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from sessions_app import services
from sessions_app.cache import timetable_changed
from sessions_app.models import Session, TimeSlot


class TimetableAdminMixin:
    """Edits in the admin reach the public timetable's next read at once.

    The revision moves after the object and its inlines are saved: last in
    the admin's transaction, as `timetable_changed` asks.
    """

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        timetable_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        timetable_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        timetable_changed()


class TimeSlotInline(admin.TabularInline):
    model = TimeSlot
    extra = 1
    fields = ["start", "end", "capacity", "booked", "available", "status"]
    readonly_fields = ["booked", "available", "status"]
    ordering = ["start"]

    @admin.display(description=_("available"))
    def available(self, slot: TimeSlot):
        return slot.available if slot.pk else "-"

    @admin.display(description=_("status"))
    def status(self, slot: TimeSlot):
        return slot.get_status_display() if slot.pk else "-"


@admin.register(Session)
class SessionAdmin(TimetableAdminMixin, admin.ModelAdmin):
    list_display = ["title", "instructor", "category", "created_at"]
    list_filter = ["category", "instructor"]
    search_fields = ["title", "description"]
    list_select_related = ["instructor"]
    inlines = [TimeSlotInline]


@admin.register(TimeSlot)
class TimeSlotAdmin(TimetableAdminMixin, admin.ModelAdmin):
    list_display = ["session", "start", "end", "capacity", "booked", "available", "status"]
    list_filter = ["is_cancelled", "start", "session__category"]
    search_fields = ["session__title"]
    list_select_related = ["session"]
    date_hierarchy = "start"
    readonly_fields = ["booked", "is_cancelled", "cancelled_at"]
    actions = ["cancel_slots"]

    @admin.display(description=_("available"))
    def available(self, slot: TimeSlot) -> int:
        return slot.available

    @admin.display(description=_("status"))
    def status(self, slot: TimeSlot) -> str:
        return slot.get_status_display()

    @admin.action(description=_("Cancel selected slots (their bookings are cancelled)"))
    def cancel_slots(self, request, queryset: QuerySet[TimeSlot]) -> None:
        slots = list(queryset.order_by("pk"))
        bookings = sum(services.time_slot_cancel(time_slot=slot) for slot in slots)
        self.message_user(
            request,
            ngettext(
                "Cancelled %(slots)d slot and %(bookings)d booking(s).",
                "Cancelled %(slots)d slots and %(bookings)d booking(s).",
                len(slots),
            )
            % {"slots": len(slots), "bookings": bookings},
            messages.SUCCESS,
        )
