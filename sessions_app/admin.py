"""The staff's admin of sessions and time slots.

It writes through the same services as the API (`sessions_app.services`),
with `by=request.user`, so the timetable's rules are checked in one place and
a refusal shows the service's own words: on the slot's row when it is about
one slot, on the formset or form otherwise, and as an error message for a
refused delete.

How the session's change form writes. For a POST, Django's changeform_view
opens a transaction, validates the session's form, then its inline formsets,
then saves and logs. Here:

1. `SessionAdmin.save_form` runs only once the session's form is valid, just
   before the formsets are validated; it marks the form's instance (the
   session with its new field values) as ready.
2. The slots' formset `clean()` (TimeSlotInlineFormSet) then calls
   `session_create` or `session_update` for real, inside that transaction, so
   the rules are checked and the write made under the same locks. A
   StudioError becomes form errors. After a create, the form's instance
   carries the new session's id.
3. `save_model` and `save_formset` write nothing more; the admin still
   records its LogEntry and redirects as usual.
4. Should anything on the page still be invalid after the service wrote,
   changeform_view rolls the transaction back: a form shown again with errors
   never leaves a write behind.

The time slot's own form writes the same way, from the form's validation,
through `time_slot_create` and `time_slot_update`. Deletes (the delete page
and the "delete selected" action) call `session_delete` and
`time_slot_delete`.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.utils import NestedObjects
from django.contrib.auth import get_permission_codename
from django.db import router, transaction
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.actionlog import ActionLogInline
from core.errors import CapacityBelowBookedError, StudioError, ValidationFailedError
from sessions_app import selectors, services
from sessions_app.models import Session, SlotStatus, TimeSlot

# Set on a session by SessionAdmin.save_form once the session's own form is valid.
SESSION_FORM_VALID = "_admin_session_form_valid"


def error_messages(error: StudioError) -> list[str]:
    """The words the API shows for `error`: the messages of its `errors`, or
    its `detail`."""

    def flatten(value: Any) -> list[str]:
        if isinstance(value, dict):
            return [message for item in value.values() for message in flatten(item)]
        if isinstance(value, list):
            return [message for item in value for message in flatten(item)]
        return [str(value)]

    found = flatten(error.errors) if error.errors else []
    return found or [str(error.message)]


class ServiceWritesAdminMixin:
    """Saves and deletes go through the services; see the module's docstring."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return super().changeform_view(request, object_id, form_url, extra_context)
        with transaction.atomic(using=router.db_for_write(self.model)):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            shown_again = isinstance(response, TemplateResponse) and "adminform" in (
                response.context_data or {}
            )
            if shown_again:
                transaction.set_rollback(True)
        return response

    def save_model(self, request, obj, form, change):
        """The form's validation has written the object through the service."""

    def get_deleted_objects(self, objs, request):
        # Whether a delete may go ahead is the service's to say, with its own
        # message: the bookings that keep a slot are neither a page of their
        # own nor a permission the staff member lacks, since they are never
        # deleted.
        deleted, model_count, perms_needed, _protected = super().get_deleted_objects(objs, request)
        collector = NestedObjects(using=router.db_for_write(self.model))
        collector.collect(objs)
        kept_only = {
            str(obj._meta.verbose_name)
            for obj in collector.protected
            if type(obj) not in collector.model_objs
        }
        perms_needed = {name for name in perms_needed if str(name) not in kept_only}
        return deleted, model_count, perms_needed, []

    def delete_queryset(self, request, queryset):
        for obj in queryset.order_by("pk"):
            self.delete_model(request, obj)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except StudioError as error:
            # The delete view's transaction, its LogEntry included, is rolled back.
            for message in error_messages(error):
                self.message_user(request, message, messages.ERROR)
            opts = self.model._meta
            url = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change",
                args=[object_id],
                current_app=self.admin_site.name,
            )
            return HttpResponseRedirect(url)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            _func, name, description = actions["delete_selected"]
            actions[name] = (ServiceWritesAdminMixin.delete_selected_in_one_go, name, description)
        return actions

    def delete_selected_in_one_go(self, request, queryset):
        """Django's "delete selected" action in one transaction: when the
        service refuses one object, nothing is deleted and its message shows."""
        try:
            with transaction.atomic(using=router.db_for_write(self.model)):
                return delete_selected(self, request, queryset)
        except StudioError as error:
            for message in error_messages(error):
                self.message_user(request, message, messages.ERROR)
            return None


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
        for name in services.SLOT_FIELDS:
            value = self.cleaned_data.get(name)
            if self.instance.pk is not None and name not in self.changed_data:
                value = self.initial.get(name, value)
            values[name] = value
        return values


def schedule_of(session: Session) -> dict[str, Any] | None:
    """The session's recurrence in the services' shape, or None."""
    if not session.rrule:
        return None
    return {
        "rrule": session.rrule,
        "start": session.rrule_start,
        "duration_minutes": session.rrule_minutes,
        "capacity": session.rrule_capacity,
    }


class SessionForm(forms.ModelForm):
    """The session's own fields; a schedule is given whole or not at all
    (its rule itself is the service's to read)."""

    SCHEDULE = ["rrule", "rrule_start", "rrule_minutes", "rrule_capacity"]

    def clean(self):
        cleaned = super().clean()
        given = [name for name in self.SCHEDULE if cleaned.get(name) not in (None, "")]
        if given and len(given) < len(self.SCHEDULE):
            for name in self.SCHEDULE:
                if name not in given and name not in self.errors:
                    self.add_error(
                        name, _("A schedule needs its rule, first start, minutes and capacity.")
                    )
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
        recurrence = schedule_of(session)
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
        if recurrence != schedule_of(stored):
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
                    for field, field_messages in item_errors.items():
                        for message in field_messages:
                            form.add_error(field if field in form.fields else None, message)
                return
        row = next(
            (form for form in kept if form.instance.pk == getattr(error, "time_slot_id", 0)),
            None,
        )
        if row is not None:
            field = "capacity" if isinstance(error, CapacityBelowBookedError) else None
            row.add_error(field, error.message)
            return
        raise forms.ValidationError(error_messages(error))


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


class TimeSlotForm(SlotShapeForm):
    """One slot, written through `time_slot_create` or `time_slot_update`
    once its shape is valid; `by` is the staff member."""

    by = None

    class Meta:
        model = TimeSlot
        fields = ["session", "start", "end", "capacity"]

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        slot = self.instance
        try:
            if slot.pk is None:
                created = services.time_slot_create(
                    session=slot.session, **self.slot_values(), by=self.by
                )
                slot.pk = created.pk
                slot._state.adding = False
                slot._state.db = created._state.db
            else:
                stored = TimeSlot.objects.select_related("session__instructor").get(pk=slot.pk)
                services.time_slot_update(time_slot=stored, **self.slot_values(), by=self.by)
        except ValidationFailedError as error:
            nested = (error.errors or {}).get("time_slots")
            if not (isinstance(nested, list) and nested and isinstance(nested[0], dict)):
                for message in error_messages(error):
                    self.add_error(None, message)
                return
            for field, field_messages in nested[0].items():
                for message in field_messages:
                    self.add_error(field if field in self.fields else None, message)
        except StudioError as error:
            field = "capacity" if isinstance(error, CapacityBelowBookedError) else None
            self.add_error(field, error.message)


class SlotStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return SlotStatus.choices

    def queryset(self, request, queryset):
        if self.value() in SlotStatus.values:
            return selectors.slot_filter_status(queryset, self.value())
        return queryset


class TimeSlotAdmin(ServiceWritesAdminMixin, admin.ModelAdmin):
    """The time slots' admin. `bookings.admin` registers it, with the action
    that cancels slots: cancelling a slot cancels its bookings, which belong
    to the app above this one."""

    form = TimeSlotForm
    list_display = ["session", "start", "end", "capacity", "booked", "available", "status"]
    list_filter = [SlotStatusFilter, "start", "session__category"]
    search_fields = ["session__title"]
    list_select_related = ["session"]
    date_hierarchy = "start"
    readonly_fields = ["booked", "is_cancelled", "cancelled_at"]
    inlines = [ActionLogInline]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # A slot stays with its session, as in the API.
        return [*fields, "session"] if obj is not None else fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"by": request.user})

    def delete_model(self, request, obj):
        services.time_slot_delete(time_slot=obj, by=request.user)

    @admin.display(description=_("available"))
    def available(self, slot: TimeSlot) -> int:
        return slot.available

    @admin.display(description=_("status"))
    def status(self, slot: TimeSlot) -> str:
        return slot.get_status_display()
