from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User
from sessions_app import selectors, services
from sessions_app.cache import timetable_changed
from sessions_app.models import Session, SlotStatus, TimeSlot
from studio.errors import ValidationFailedError


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


def check_slot_forms(
    slot_forms: list[forms.ModelForm], *, instructor: User, replaced: list[int]
) -> None:
    """Applies the API's slot rules to valid slot forms, whose instances hold
    the slots as they are to be saved; each error goes to its form's field.

    The slots of `replaced` stay locked until the admin's transaction ends,
    and the forms' instances take their current counters and cancellation,
    so saving them cannot undo a booking or a cancellation made meanwhile.
    """
    items = []
    for form in slot_forms:
        slot = form.instance
        for name in ("start", "end"):
            # The form's inputs drop microseconds: a time left as it was is
            # kept exactly as stored, so it is neither moved nor rewritten.
            if slot.pk is not None and name in form.fields and name not in form.changed_data:
                setattr(slot, name, form.initial[name])
        item = {"start": slot.start, "end": slot.end, "capacity": slot.capacity}
        if slot.pk is not None:
            item["id"] = slot.pk
        items.append(item)
    try:
        locked = services.time_slots_check(instructor=instructor, items=items, replaced=replaced)
    except ValidationFailedError as error:
        for form, item_errors in zip(slot_forms, error.errors["time_slots"], strict=False):
            if not isinstance(item_errors, dict):
                continue
            for field, field_messages in item_errors.items():
                for message in field_messages:
                    form.add_error(field if field in form.fields else None, message)
        return
    for form in slot_forms:
        current = locked.get(form.instance.pk)
        if current is not None:
            form.instance.booked = current.booked
            form.instance.is_cancelled = current.is_cancelled
            form.instance.cancelled_at = current.cancelled_at


class TimeSlotInlineFormSet(BaseInlineFormSet):
    """The session's slots as a whole obey the API's rules: no overlap with
    each other or the instructor's other slots, capacity not below booked."""

    def clean(self) -> None:
        super().clean()
        session = self.instance
        if session.instructor_id is None:
            return  # the session's own form reports the missing instructor
        kept = [
            form
            for form in self.forms
            if not self._should_delete_form(form)
            and (form.instance.pk is not None or form.has_changed())
        ]
        if not kept or any(form.errors for form in kept):
            return
        replaced = [form.instance.pk for form in self.forms if form.instance.pk is not None]
        check_slot_forms(kept, instructor=session.instructor, replaced=replaced)


class TimeSlotInline(admin.TabularInline):
    model = TimeSlot
    formset = TimeSlotInlineFormSet
    extra = 1
    fields = ["start", "end", "capacity", "booked", "available", "status"]
    readonly_fields = ["booked", "available", "status"]
    ordering = ["start"]

    def get_queryset(self, request):
        # Each row shows its slot by name, which reads the session.
        return super().get_queryset(request).select_related("session")

    @admin.display(description=_("available"))
    def available(self, slot: TimeSlot):
        return slot.available if slot.pk else "-"

    @admin.display(description=_("status"))
    def status(self, slot: TimeSlot):
        return slot.get_status_display() if slot.pk else "-"


class UpcomingFilter(admin.SimpleListFilter):
    """Upcoming: the session has a slot to come. Past: it has none left
    (every slot started or was cancelled, or it has no slot)."""

    title = _("upcoming or past")
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("upcoming", _("Upcoming")), ("past", _("Past"))]

    def queryset(self, request, queryset):
        if self.value() in ("upcoming", "past"):
            return selectors.session_filter_upcoming(queryset, upcoming=self.value() == "upcoming")
        return queryset


@admin.register(Session)
class SessionAdmin(TimetableAdminMixin, admin.ModelAdmin):
    list_display = ["title", "instructor", "category", "next_slot", "seats", "created_at"]
    list_filter = ["category", "instructor", UpcomingFilter]
    search_fields = ["title"]
    list_select_related = ["instructor"]
    inlines = [TimeSlotInline]

    def get_queryset(self, request):
        return selectors.session_list_with_upcoming(super().get_queryset(request))

    @admin.display(description=_("next slot (studio time)"), ordering="next_start")
    def next_slot(self, session: Session):
        return session.next_start

    @admin.display(description=_("seats booked (upcoming)"), ordering="upcoming_booked")
    def seats(self, session: Session) -> str:
        return f"{session.upcoming_booked}/{session.upcoming_capacity}"


class TimeSlotForm(forms.ModelForm):
    class Meta:
        model = TimeSlot
        fields = ["session", "start", "end", "capacity"]

    def _post_clean(self) -> None:
        # After the model's own checks, so each error is reported once.
        super()._post_clean()
        if self.errors:
            return
        slot = self.instance
        check_slot_forms(
            [self], instructor=slot.session.instructor, replaced=[slot.pk] if slot.pk else []
        )


class SlotStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return SlotStatus.choices

    def queryset(self, request, queryset):
        if self.value() in SlotStatus.values:
            return selectors.slot_filter_status(queryset, self.value())
        return queryset


@admin.register(TimeSlot)
class TimeSlotAdmin(TimetableAdminMixin, admin.ModelAdmin):
    form = TimeSlotForm
    list_display = ["session", "start", "end", "capacity", "booked", "available", "status"]
    list_filter = [SlotStatusFilter, "start", "session__category"]
    search_fields = ["session__title"]
    list_select_related = ["session"]
    date_hierarchy = "start"
    readonly_fields = ["booked", "is_cancelled", "cancelled_at"]
    actions = ["cancel_slots"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # A slot stays with its session, as in the API.
        return [*fields, "session"] if obj is not None else fields

    @admin.display(description=_("available"))
    def available(self, slot: TimeSlot) -> int:
        return slot.available

    @admin.display(description=_("status"))
    def status(self, slot: TimeSlot) -> str:
        return slot.get_status_display()

    @admin.action(description=_("Cancel selected slots"), permissions=["change"])
    def cancel_slots(self, request, queryset: QuerySet[TimeSlot]) -> None:
        """Cancels each slot with the service; slots cancelled before are left alone."""
        slots = list(queryset.order_by("pk"))
        open_slots = [slot for slot in slots if not slot.is_cancelled]
        skipped = len(slots) - len(open_slots)
        bookings = sum(services.time_slot_cancel(time_slot=slot) for slot in open_slots)
        if open_slots:
            self.message_user(
                request,
                _("Cancelled %(slots)s and %(bookings)s.")
                % {
                    "slots": ngettext("%(count)d slot", "%(count)d slots", len(open_slots))
                    % {"count": len(open_slots)},
                    "bookings": ngettext("%(count)d booking", "%(count)d bookings", bookings)
                    % {"count": bookings},
                },
                messages.SUCCESS,
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
