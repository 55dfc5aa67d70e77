"""`core.admin.show_service_error`: a service's refusal, in its own words,
on a form's fields, on a formset, or as messages on an admin page."""

from django import forms
from django.contrib import messages
from django.test import SimpleTestCase

from core.admin import show_service_error
from core.errors import CapacityBelowBookedError, HasBookingsError, ValidationFailedError


class SlotForm(forms.Form):
    start = forms.CharField(required=False)
    capacity = forms.IntegerField(required=False)


def cleaned_form() -> SlotForm:
    form = SlotForm(data={})
    form.is_valid()
    return form


class ShowServiceErrorTests(SimpleTestCase):
    def test_field_errors_go_on_their_fields_and_the_rest_on_the_form(self):
        form = cleaned_form()
        error = ValidationFailedError(
            errors={"start": ["Too early."], "time_slots": {"nested": ["Too many."]}}
        )

        show_service_error(form, error)

        self.assertEqual(form.errors, {"start": ["Too early."], "__all__": ["Too many."]})

    def test_the_errors_given_replace_the_errors_own_even_when_none(self):
        form = cleaned_form()
        error = ValidationFailedError(errors={"start": ["Too early."]})

        show_service_error(form, error, errors={"capacity": ["Too small."]})
        show_service_error(form, error, errors={})

        self.assertEqual(form.errors, {"capacity": ["Too small."]})

    def test_a_conflict_shows_its_message_on_the_field_it_declares(self):
        form = cleaned_form()

        show_service_error(form, CapacityBelowBookedError("Three booked.", time_slot_id=7))
        show_service_error(form, HasBookingsError("Holds bookings.", time_slot_id=7))

        self.assertEqual(
            form.errors, {"capacity": ["Three booked."], "__all__": ["Holds bookings."]}
        )

    def test_on_a_formset_the_messages_are_raised_as_its_own(self):
        formset = forms.formset_factory(SlotForm)(data={})
        error = ValidationFailedError(errors={"time_slots": ["Needs one.", "Really."]})

        with self.assertRaises(forms.ValidationError) as raised:
            show_service_error(formset, error)

        self.assertEqual(raised.exception.messages, ["Needs one.", "Really."])

    def test_on_an_admin_page_each_message_is_an_error_message(self):
        shown = []

        class Page:
            def message_user(self, request, message, level):
                shown.append((request, message, level))

        show_service_error(Page(), HasBookingsError("Holds bookings."), request="request")

        self.assertEqual(shown, [("request", "Holds bookings.", messages.ERROR)])
