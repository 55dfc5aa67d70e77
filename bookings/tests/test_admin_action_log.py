"""The admin records who cancelled slots, and shows every booking's and
slot's action log, read-only."""

from django.contrib.contenttypes.models import ContentType

from accounts.tests.factories import ClientFactory
from bookings.models import BookingStatus
from bookings.tests.factories import book
from core.models import ActionLogEntry
from sessions_app.models import TimeSlot
from sessions_app.tests.factories import TimeSlotFactory
from testing.admin import SLOTS_URL, AdminTestCase

BOOKINGS_URL = "/admin/bookings/booking/"


def log_of(obj) -> list[tuple[str, int | None]]:
    """(action, actor id) of the object's entries, oldest first."""
    return list(
        ActionLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
        )
        .order_by("created_at", "id")
        .values_list("action", "actor_id")
    )


class AdminActionLogTests(AdminTestCase):
    def cancel(self, *slots: TimeSlot):
        return self.client.post(
            SLOTS_URL,
            {"action": "cancel_slots", "_selected_action": [str(slot.pk) for slot in slots]},
            follow=True,
        )

    def test_cancelling_slots_in_the_admin_is_recorded_in_the_staff_members_name(self):
        slot = TimeSlotFactory()
        client = ClientFactory()
        booking = book(slot, client)

        response = self.cancel(slot)

        self.assertEqual(response.status_code, 200)
        booking.refresh_from_db()
        self.assertEqual(booking.status, BookingStatus.CANCELLED)
        self.assertEqual(log_of(slot), [("time_slot.cancelled", self.superuser.pk)])
        self.assertEqual(
            log_of(booking),
            [("booking.created", None), ("booking.cancelled", self.superuser.pk)],
        )

    def test_a_booking_shows_its_action_log_read_only(self):
        slot = TimeSlotFactory()
        booking = book(slot, ClientFactory())
        self.cancel(slot)

        response = self.client.get(f"{BOOKINGS_URL}{booking.pk}/change/")

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "booking.cancelled")
        self.assertContains(response, "boss@example.com")
        [formset] = [inline.formset for inline in response.context["inline_admin_formsets"]]
        self.assertEqual(formset.queryset.model, ActionLogEntry)
        self.assertEqual(formset.extra, 0)
        self.assertFalse(formset.can_delete)

    def test_a_time_slot_shows_its_action_log(self):
        slot = TimeSlotFactory()
        self.cancel(slot)

        response = self.client.get(f"{SLOTS_URL}{slot.pk}/change/")

        self.assertContains(response, "time_slot.cancelled")
        self.assertContains(response, "boss@example.com")

    def test_the_action_log_has_no_admin_pages_of_its_own(self):
        self.assertEqual(self.client.get("/admin/core/actionlogentry/").status_code, 404)
