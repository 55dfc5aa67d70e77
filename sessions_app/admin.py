"""The staff's admin of sessions, with their time slots inline.

It writes through the same services as the API (`sessions_app.services`),
with `by=request.user`, so the timetable's rules are checked in one place and
a refusal shows the service's own words (`core.admin.show_service_error`): on
the slot's row when it is about one slot, on the formset or form otherwise,
and as an error message for a refused delete. The time slots' own admin is
`bookings.admin`'s, since its cancel action cancels bookings.

How the session's change form writes (see `core.admin` for why the write
happens during validation). For a POST, Django's changeform_view validates
the session's form, then its inline formsets, then saves and logs. Here:

1. `SessionAdmin.save_form` runs only once the session's form is valid, just
   before the formsets are validated; it marks the form's instance (the
   session with its new field values) as ready.
2. The slots' formset `clean()` (TimeSlotInlineFormSet) then calls
   `session_create` or `session_update` for real, inside the transaction of
   `core.admin.ServiceWritesAdminMixin`, so the rules are checked and the
   write made under the same locks. A StudioError becomes form errors. After
   a create, the form's instance carries the new session's id.
3. `save_model` and `save_formset` write nothing more; the admin still
   records its LogEntry and redirects as usual.
4. Should anything on the page still be invalid after the service wrote,
   the mixin rolls the transaction back: a form shown again with errors
   never leaves a write behind.

Deletes (the delete page and the "delete selected" action) call
`session_delete`.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from core.actionlog import ActionLogInline
from core.admin import ServiceWritesAdminMixin, show_service_error
from core.errors import AboutSlot, StudioError, ValidationFailedError
from sessions_app import selectors, services
from sessions_app.models import Session, TimeSlot
from sessions_app.rules import SCHEDULE_PARTS, check_schedule_whole
from sessions_app.schedules import schedule_record
from sessions_app.slots import SLOT_FIELDS

# Set on a session by SessionAdmin.save_form once the session's own form is valid.
SESSION_FORM_VALID = "_admin_session_form_valid"


class SlotShapeForm(forms.ModelForm):
    """A slot's form checks its shape: types, required fields and the
    capacity's range. The timetable's rules are the services', which answer
    with the API's words; the model's check constraint on start and end stays
    the database's last defence and is not run here, so that the service,
    not the constraint, reports a slot that ends before it starts."""

    def _get_validation_exclusions(self):
        return {*super()._get_validation_exclusions(), "start", "end"}

    def slot_values(self) -> dict[str, Any]:
        """The slot's start, end and capacity as entered. The form's inputs drop
        microseconds: a time left as it was is kept exactly as stored, so it is
        neither moved nor rewritten."""
        values = {}
        for name in SLOT_FIELDS:
            value = self.cleaned_data.get(name)
            if self.instance.pk is not None and name not in self.changed_data:
                value = self.initial.get(name, value)
            values[name] = value
        return values


class SessionForm(forms.ModelForm):
    """The session's own fields; a schedule is given whole or not at all
    (its rule itself is the service's to read)."""

    SCHEDULE = ["rrule", "rrule_start", "rrule_minutes", "rrule_capacity"]

    def clean(self):
        cleaned = super().clean()
        # The form's fields, by the parts of a schedule they hold.
        parts = dict(zip(SCHEDULE_PARTS, self.SCHEDULE, strict=True))
        schedule = {part: cleaned.get(name) for part, name in parts.items()}
        if any(value not in (None, "") for value in schedule.values()):
            try:
                check_schedule_whole(
                    schedule,
                    message=_("A schedule needs its rule, first start, minutes and capacity."),
                )
            except ValidationFailedError as error:
                # A field that failed its own validation shows that error only.
                errors = {
                    parts[part]: messages
                    for part, messages in error.errors.items()
                    if parts[part] not in self.errors
                }
                show_service_error(self, error, errors=errors)
        return cleaned


class TimeSlotInlineFormSet(BaseInlineFormSet):
    """Writes the session and its slots through the services (see the
    module's docstring); `by` is the staff member."""

    def __init__(self, *args, by=None, **kwargs):
        self.by = by
        super().__init__(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        session = self.instance
        if not getattr(session, SESSION_FORM_VALID, False):
            return  # the session's form shows its own errors first
        kept = [
            form
            for form in self.forms
            if not self._should_delete_form(form)
            and (form.instance.pk is not None or form.has_changed())
        ]
        if any(form.errors for form in kept):
            return
        items = []
        for form in kept:
            item = form.slot_values()
            if form.instance.pk is not None:
                item["id"] = form.instance.pk
            items.append(item)
        try:
            self.write(session, items)
        except StudioError as error:
            self.show(error, kept)
            return
        self.new_objects = [form.instance for form in kept if form.instance.pk is None]
        self.changed_objects = [
            (form.instance, form.changed_data)
            for form in kept
            if form.instance.pk is not None and form.has_changed()
        ]
        self.deleted_objects = [
            form.instance for form in self.initial_forms if self._should_delete_form(form)
        ]

    def write(self, session: Session, items: list[dict[str, Any]]) -> None:
        fields = {field: getattr(session, field) for field in services.SESSION_FIELDS}
        recurrence = schedule_record(session)
        if session.pk is None:
            created = services.session_create(
                **fields, time_slots=items, recurrence=recurrence, by=self.by
            )
            session.pk = created.pk
            session.created_at, session.updated_at = created.created_at, created.updated_at
            session._state.adding = False
            session._state.db = created._state.db
            return
        stored = Session.objects.select_related("instructor").get(pk=session.pk)
        data = {**fields, "time_slots": items}
        if recurrence != schedule_record(stored):
            # Only a changed schedule replaces the generated slots.
            data["recurrence"] = recurrence
        services.session_update(session=stored, data=data, by=self.by)

    def show(self, error: StudioError, kept: list[forms.Form]) -> None:
        """Puts the service's messages where they belong: on the row of the
        slot they are about, or (raised) on the formset."""
        if isinstance(error, ValidationFailedError) and error.errors:
            nested = error.errors.get("time_slots")
            if isinstance(nested, list) and nested and all(isinstance(i, dict) for i in nested):
                for form, item_errors in zip(kept, nested, strict=False):
                    show_service_error(form, error, errors=item_errors)
                return
        if isinstance(error, AboutSlot):
            row = next((form for form in kept if form.instance.pk == error.time_slot_id), None)
            if row is not None:
                show_service_error(row, error)
                return
        show_service_error(self, error)


class TimeSlotInline(admin.TabularInline):
    model = TimeSlot
    form = SlotShapeForm
    formset = TimeSlotInlineFormSet
    extra = 1
    fields = ["start", "end", "capacity", "booked", "available", "status"]
    readonly_fields = ["booked", "available", "status"]
    ordering = ["start"]

    def get_queryset(self, request):
        # Each row shows its slot by name, which reads the session.
        return super().get_queryset(request).select_related("session")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class SlotRowForm(formset.form):
            def hand_clean_DELETE(self):
                """Whether a slot that holds bookings may be deleted is the
                service's to say, in the API's words, not the foreign key's."""

        formset.form = SlotRowForm
        return formset

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
class SessionAdmin(ServiceWritesAdminMixin, admin.ModelAdmin):
    form = SessionForm
    list_display = ["title", "instructor", "category", "next_slot", "seats", "created_at"]
    list_filter = ["category", "instructor", UpcomingFilter]
    search_fields = ["title"]
    list_select_related = ["instructor"]
    inlines = [TimeSlotInline, ActionLogInline]
    fieldsets = [
        (None, {"fields": ["instructor", "title", "description", "category"]}),
        (
            _("Recurring schedule"),
            {
                "fields": [*SessionForm.SCHEDULE, "generated_until"],
                "description": _(
                    "Slots are generated from the rule in studio time, "
                    "%(days)s days ahead; changing it replaces the upcoming generated "
                    "slots that hold no booking. Leave the rule blank to stop the series."
                ),
            },
        ),
    ]
    readonly_fields = ["generated_until"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        name, options = fieldsets[1]
        days = settings.STUDIO_SCHEDULE_HORIZON_DAYS
        return [
            fieldsets[0],
            (name, {**options, "description": options["description"] % {"days": days}}),
        ]

    def get_queryset(self, request):
        return selectors.session_list_with_upcoming(super().get_queryset(request))

    def _may_slots(self, request, action: str) -> bool:
        opts = TimeSlot._meta
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")

    def has_add_permission(self, request) -> bool:
        # A session is created with its slots, from the inline.
        return super().has_add_permission(request) and self._may_slots(request, "add")

    def has_change_permission(self, request, obj=None) -> bool:
        # Saving a session writes its slot list, read from the inline, which
        # therefore must be on the page.
        return super().has_change_permission(request, obj) and (
            self._may_slots(request, "view") or self._may_slots(request, "change")
        )

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, TimeSlotInline):
            kwargs["by"] = request.user
        return kwargs

    def save_form(self, request, form, change):
        session = super().save_form(request, form, change)
        setattr(session, SESSION_FORM_VALID, True)
        return session

    def save_formset(self, request, form, formset, change):
        if not isinstance(formset, TimeSlotInlineFormSet):
            super().save_formset(request, form, formset, change)

    def delete_model(self, request, obj):
        services.session_delete(session=obj, by=request.user)

    @admin.display(description=_("next slot (studio time)"), ordering="next_start")
    def next_slot(self, session: Session):
        return session.next_start

    @admin.display(description=_("seats booked (upcoming)"), ordering="upcoming_booked")
    def seats(self, session: Session) -> str:
        return f"{session.upcoming_booked}/{session.upcoming_capacity}"
