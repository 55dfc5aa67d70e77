"""The staff's admin of bookings (read-only) and of time slots."""

from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_value
from django.db.models import QuerySet
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bookings import selectors, services
from bookings.models import Attendance, Booking
from core.actionlog import ActionLogInline
from core.admin import ServiceWritesAdminMixin, show_service_error
from core.errors import SlotExpiredError, StudioError
from sessions_app import selectors as session_selectors
from sessions_app import services as session_services
from sessions_app.admin import SlotShapeForm
from sessions_app.models import SlotStatus, TimeSlot


class AttendanceFilter(admin.SimpleListFilter):
    """Attended, no show, or not marked (yet)."""

    title = _("attendance")
    parameter_name = "attendance"
    NOT_MARKED = "none"

    def lookups(self, request, model_admin):
        return [*Attendance.choices, (self.NOT_MARKED, _("Not marked"))]

    def queryset(self, request, queryset):
        if self.value() == self.NOT_MARKED:
            return queryset.filter(attendance__isnull=True)
        if self.value() in Attendance.values:
            return queryset.filter(attendance=self.value())
        return queryset


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    """Bookings are read-only here: they are made and cancelled through the
    booking rules (capacity, duplicates, timing) of the API, or by cancelling
    their slot. Each shows its action log."""

    list_display = [
        "client",
        "session",
        "slot_start",
        "status",
        "late",
        "attendance",
        "created_at",
        "cancelled_at",
    ]
    list_filter = ["status", "late", AttendanceFilter]
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


class TimeSlotForm(SlotShapeForm):
    """One slot, written through `time_slot_create` or `time_slot_update`
    once its shape is valid; `by` is the staff member."""

    by = None

    class Meta:
        model = TimeSlot
        fields = ["session", "start", "end", "capacity"]

    def _post_clean(self) -> None:
        # The write happens here, once the form is otherwise valid: see
        # `core.admin` for why.
        super()._post_clean()
        if self.errors:
            return
        slot = self.instance
        try:
            if slot.pk is None:
                created = session_services.time_slot_create(
                    session=slot.session, **self.slot_values(), by=self.by
                )
                slot.pk = created.pk
                slot._state.adding = False
                slot._state.db = created._state.db
            else:
                stored = TimeSlot.objects.select_related("session__instructor").get(pk=slot.pk)
                session_services.time_slot_update(
                    time_slot=stored, **self.slot_values(), by=self.by
                )
        except StudioError as error:
            # A list's errors are nested per slot; this form is its one slot.
            nested = (error.errors or {}).get("time_slots")
            if isinstance(nested, list) and nested and isinstance(nested[0], dict):
                show_service_error(self, error, errors=nested[0])
            else:
                show_service_error(self, error)


class SlotStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return SlotStatus.choices

    def queryset(self, request, queryset):
        if self.value() in SlotStatus.values:
            return session_selectors.slot_filter_status(queryset, self.value())
        return queryset


@admin.register(TimeSlot)
class TimeSlotAdmin(ServiceWritesAdminMixin, admin.ModelAdmin):
    """The time slots' admin: saves and deletes go through the timetable's
    services, like the sessions' inline (see `sessions_app.admin`); with the
    action that cancels slots and their bookings, and each slot's waitlist.
    It lives here, above the timetable, because bookings are this app's."""

    form = TimeSlotForm
    list_display = ["session", "start", "end", "capacity", "booked", "available", "status"]
    list_filter = [SlotStatusFilter, "start", "session__category"]
    search_fields = ["session__title"]
    list_select_related = ["session"]
    date_hierarchy = "start"
    readonly_fields = ["booked", "is_cancelled", "cancelled_at"]
    actions = ["cancel_slots"]
    inlines = [ActionLogInline]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # A slot stays with its session, as in the API.
        return [*fields, "session", "waitlisted", "waitlist"] if obj is not None else fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"by": request.user})

    def delete_model(self, request, obj):
        session_services.time_slot_delete(time_slot=obj, by=request.user)

    @admin.display(description=_("available"))
    def available(self, slot: TimeSlot) -> int:
        return slot.available

    @admin.display(description=_("status"))
    def status(self, slot: TimeSlot) -> str:
        return slot.get_status_display()

    @admin.display(description=_("waitlist"))
    def waitlist(self, slot: TimeSlot) -> str:
        """The bookings waiting for a seat, next to be promoted first."""
        waiting = list(selectors.waitlist(time_slot=slot))
        if not waiting:
            return _("Nobody is waiting.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (position, booking.client, display_for_value(booking.created_at, "-"))
                for position, booking in enumerate(waiting, start=1)
            ),
        )
        return format_html(
            '<table class="waitlist"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            _("position"),
            _("client"),
            _("joined at"),
            rows,
        )

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
