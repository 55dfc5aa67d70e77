"""The staff's admin writes through the services, as the API does.

`show_service_error` shows a service's refusal (a `core.errors` exception) in
the service's own words, wherever the admin shows it: on a form's fields, on
a formset, or as a message on the page. `ServiceWritesAdminMixin` makes a
model admin's saves and deletes go through the services.

How a change form writes through a service. Django's changeform_view
validates the forms, then saves. A service checks its rules and writes
under the same locks, in one step, so the check cannot be separated from the
write; and only a form's validation can show a refusal as form errors. So
the write happens in one place of the form's validation (a formset's
`clean()`, or a form's `_post_clean()`, once everything else on the form is
valid), and `save_model` writes nothing more. The mixin runs the whole POST
in one transaction and rolls it back whenever the page is shown again with
errors, so a refused or half-valid page never leaves a write behind.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.utils import NestedObjects
from django.db import router, transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from core.errors import AboutSlot, StudioError


def error_messages(error: StudioError) -> list[str]:
    """The words the API shows for `error`: the messages of its `errors`, or
    its `detail`."""
    found = _flatten(error.errors) if error.errors else []
    return found or [str(error.message)]


def _flatten(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [message for item in value.values() for message in _flatten(item)]
    if isinstance(value, list):
        return [message for item in value for message in _flatten(item)]
    return [str(value)]


def show_service_error(
    where: forms.BaseForm | forms.BaseFormSet | Any,
    error: StudioError,
    *,
    errors: dict[str, Any] | None = None,
    request=None,
) -> None:
    """Shows `error` where the admin shows it:

    - on a form: each message of `errors` (by default the error's own; given,
      only those, even none) on the field of its name, or on the form as a
      whole for a name the form lacks; an error without them shows its
      message on the field it declares (`AboutSlot.field`), or on the form as
      a whole;
    - on a formset (from its `clean()`): its messages as the formset's own
      errors, raised;
    - on a model admin's page (`request` given): each message as an error
      message.
    """
    if request is not None:
        for message in error_messages(error):
            where.message_user(request, message, messages.ERROR)
        return
    if isinstance(where, forms.BaseFormSet):
        raise forms.ValidationError(error_messages(error))
    errors = error.errors if errors is None else errors
    if errors is not None:
        for name, value in errors.items():
            for message in _flatten(value):
                where.add_error(name if name in where.fields else None, message)
        return
    field = error.field if isinstance(error, AboutSlot) else None
    where.add_error(field if field in where.fields else None, error.message)


class ServiceWritesAdminMixin:
    """A model admin whose saves and deletes go through the services (see
    the module's docstring); a refused delete shows the service's words."""

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
        # message: the objects that keep one (bookings, say) are neither a
        # page of their own nor a permission the staff member lacks, since
        # they are never deleted.
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
            show_service_error(self, error, request=request)
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
            show_service_error(self, error, request=request)
            return None
