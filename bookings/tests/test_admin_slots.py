"""The time slots' admin: the "Cancel selected slots" action through the
service, and each slot's waitlist."""

from accounts.tests.factories import ClientFactory
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import book, cancel_slot, make_slot, move_to_past, wait
from sessions_app.models import TimeSlot
from testing.admin import SLOTS_URL, AdminTestCase, shown, shown_messages
from testing.timetable import hours_from_now


class CancelSlotsActionTests(AdminTestCase):
    def cancel(self, *slots: TimeSlot):
        return self.client.post(
            SLOTS_URL,
            {"action": "cancel_slots", "_selected_action": [str(slot.pk) for slot in slots]},
            follow=True,
        )

    def test_the_action_cancels_confirmed_and_waitlisted_bookings_and_empties_the_counters(self):
        slot = make_slot(capacity=1)
        seated = book(slot)
        waiting = wait(slot)

        response = self.cancel(slot)

        self.assertEqual(shown_messages(response), ["Cancelled 1 slot and 2 bookings."])
        slot.refresh_from_db()
        self.assertEqual((slot.is_cancelled, slot.booked, slot.waitlisted), (True, 0, 0))
        for booking in (seated, waiting):
            booking.refresh_from_db()
            self.assertEqual(booking.status, BookingStatus.CANCELLED)
            self.assertFalse(booking.late)

    def test_the_action_cancels_upcoming_slots_and_names_the_started_ones_as_an_error(self):
        upcoming = make_slot(title="Evening Yoga", start=hours_from_now(30))
        started = make_slot(title="Morning Spin", start=hours_from_now(50))
        also_upcoming = make_slot(title="Power Hiit", start=hours_from_now(70))
        kept = book(started)
        move_to_past(started)
        cancelled_one = book(upcoming)

        response = self.cancel(upcoming, started, also_upcoming)

        self.assertEqual(response.status_code, 200)
        messages = {m.level_tag: str(m) for m in response.context["messages"]}
        self.assertEqual(messages["success"], "Cancelled 2 slots and 1 booking.")
        self.assertEqual(messages["error"], f"Could not cancel 1 slot that has started: {started}.")
        self.assertIn("Morning Spin", messages["error"])
        statuses = dict(TimeSlot.objects.values_list("pk", "is_cancelled"))
        self.assertEqual(statuses, {upcoming.pk: True, started.pk: False, also_upcoming.pk: True})
        self.assertEqual(Booking.objects.get(pk=kept.pk).status, BookingStatus.CONFIRMED)
        self.assertEqual(Booking.objects.get(pk=cancelled_one.pk).status, BookingStatus.CANCELLED)
        self.assertEqual(TimeSlot.objects.get(pk=started.pk).booked, 1)

    def test_the_action_on_started_slots_only_cancels_nothing_and_says_so(self):
        first = move_to_past(make_slot(start=hours_from_now(30)))
        second = move_to_past(make_slot(start=hours_from_now(50)))

        response = self.cancel(first, second)

        [message] = response.context["messages"]
        self.assertEqual(message.level_tag, "error")
        self.assertTrue(str(message).startswith("Could not cancel 2 slots that have started"))
        self.assertFalse(TimeSlot.objects.filter(is_cancelled=True).exists())

    def test_the_action_skips_slots_cancelled_before_with_a_warning(self):
        before = make_slot(start=hours_from_now(30))
        cancel_slot(before)
        fresh = make_slot(start=hours_from_now(50))

        response = self.cancel(before, fresh)

        messages = {m.level_tag: str(m) for m in response.context["messages"]}
        self.assertEqual(messages["success"], "Cancelled 1 slot and 0 bookings.")
        self.assertEqual(messages["warning"], "Skipped 1 slot that was already cancelled.")


class SlotWaitlistTests(AdminTestCase):
    def test_a_slots_page_lists_its_waitlist_in_order_with_position_client_and_joined_at(self):
        slot = make_slot(capacity=1)
        book(slot, ClientFactory(email="seated@example.com"))
        first = wait(slot, ClientFactory(email="first@example.com"))
        second = wait(slot, ClientFactory(email="second@example.com"))
        gone = wait(slot, ClientFactory(email="gone@example.com"))
        Booking.objects.filter(pk=gone.pk).update(status=BookingStatus.CANCELLED)
        # The same moment for both: the earlier id goes first.
        Booking.objects.filter(pk=second.pk).update(created_at=first.created_at)
        second.refresh_from_db()

        response = self.client.get(f"{SLOTS_URL}{slot.pk}/change/")

        self.assertEqual(response.status_code, 200)
        page = response.content.decode()
        self.assertIn('<table class="waitlist">', page)
        rows = page.split('<table class="waitlist">', 1)[1].split("</table>", 1)[0]
        self.assertLess(rows.index("first@example.com"), rows.index("second@example.com"))
        self.assertIn(f"<td>1</td><td>first@example.com</td><td>{shown(first.created_at)}", rows)
        self.assertIn(f"<td>2</td><td>second@example.com</td><td>{shown(second.created_at)}", rows)
        self.assertNotIn("seated@example.com", rows)
        self.assertNotIn("gone@example.com", rows)

    def test_a_slot_without_waiters_says_nobody_is_waiting(self):
        slot = make_slot()

        response = self.client.get(f"{SLOTS_URL}{slot.pk}/change/")

        self.assertContains(response, "Nobody is waiting.")

    def test_the_waitlist_is_read_only(self):
        slot = make_slot()

        response = self.client.get(f"{SLOTS_URL}{slot.pk}/change/")

        form = response.context["adminform"].form
        self.assertNotIn("waitlist", form.fields)
        self.assertNotIn("waitlisted", form.fields)
