"""The Django admin of sessions and time slots, used by a superuser."""

from datetime import datetime, timedelta

from django.test import TestCase
from django.utils.timezone import now

from accounts.models import User
from accounts.tests.factories import PASSWORD, InstructorFactory
from bookings.models import BookingStatus
from sessions_app.models import Session, TimeSlot
from sessions_app.tests.factories import TimeSlotFactory
from sessions_app.tests.test_services import book, book_and_cancel, db_state
from sessions_app.tests.test_views import IST, ist

SESSIONS_URL = "/admin/sessions_app/session/"
SLOTS_URL = "/admin/sessions_app/timeslot/"


def split(value: datetime, prefix: str) -> dict[str, str]:
    """The admin's date and time inputs for `value`, on the studio's clocks."""
    local = value.astimezone(IST)
    return {f"{prefix}_0": local.date().isoformat(), f"{prefix}_1": local.strftime("%H:%M:%S")}


class AdminTestCase(TestCase):
    def setUp(self):
        self.superuser = User.objects.create_superuser(
            email="boss@example.com", password=PASSWORD, name="Boss"
        )
        self.client.force_login(self.superuser)


class SessionAdminTests(AdminTestCase):
    def inline_management(self, total: int, initial: int = 0) -> dict[str, str]:
        return {
            "time_slots-TOTAL_FORMS": str(total),
            "time_slots-INITIAL_FORMS": str(initial),
            "time_slots-MIN_NUM_FORMS": "0",
            "time_slots-MAX_NUM_FORMS": "1000",
        }

    def inline_slot(self, index: int, start: datetime, capacity: int, **extra) -> dict:
        prefix = f"time_slots-{index}"
        data = {
            **split(start, f"{prefix}-start"),
            **split(start + timedelta(hours=1), f"{prefix}-end"),
            f"{prefix}-capacity": str(capacity),
        }
        data.update({f"{prefix}-{key}": value for key, value in extra.items()})
        return data

    def test_session_changelist_loads(self):
        TimeSlotFactory(session__title="Morning Yoga")

        response = self.client.get(SESSIONS_URL)

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Morning Yoga")

    def test_session_changelist_search_and_filters_load(self):
        TimeSlotFactory(session__title="Morning Yoga", session__category="yoga")
        TimeSlotFactory(session__title="Spin Express", session__category="spin")

        response = self.client.get(SESSIONS_URL, {"q": "yoga", "category": "yoga"})

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Morning Yoga")
        self.assertNotContains(response, "Spin Express")

    def test_session_change_page_loads_with_its_slots_inline(self):
        slot = TimeSlotFactory(session__title="Morning Yoga", capacity=12)
        book(slot)

        response = self.client.get(f"{SESSIONS_URL}{slot.session_id}/change/")

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Morning Yoga")
        self.assertContains(response, 'name="time_slots-0-capacity"')
        self.assertContains(response, 'value="12"')

    def test_adding_a_session_with_two_inline_slots_creates_them(self):
        instructor = InstructorFactory()
        first, second = ist(5, 7), ist(6, 18, 30)
        data = {
            "instructor": str(instructor.pk),
            "title": "Admin Yoga",
            "description": "",
            "category": "yoga",
            **self.inline_management(2),
            **self.inline_slot(0, first, 12),
            **self.inline_slot(1, second, 20),
        }

        response = self.client.post(f"{SESSIONS_URL}add/", data)

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        session = Session.objects.get(title="Admin Yoga")
        self.assertEqual(session.instructor, instructor)
        self.assertEqual(
            list(session.time_slots.order_by("start").values_list("start", "end", "capacity")),
            [
                (first, first + timedelta(hours=1), 12),
                (second, second + timedelta(hours=1), 20),
            ],
        )

    def test_adding_an_inline_slot_that_ends_before_it_starts_is_a_form_error(self):
        instructor = InstructorFactory()
        start = ist(5, 7)
        slot = self.inline_slot(0, start, 12)
        slot.update(split(start - timedelta(hours=1), "time_slots-0-end"))
        data = {
            "instructor": str(instructor.pk),
            "title": "Admin Yoga",
            "description": "",
            "category": "yoga",
            **self.inline_management(1),
            **slot,
        }

        response = self.client.post(f"{SESSIONS_URL}add/", data)

        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.context["inline_admin_formsets"][0].formset.errors[0])
        self.assertFalse(Session.objects.exists())

    def test_inline_capacity_below_booked_is_a_form_error(self):
        slot = TimeSlotFactory(capacity=5)
        book(slot)
        book(slot)
        session = slot.session
        before = db_state()
        data = {
            "instructor": str(session.instructor_id),
            "title": "Renamed",
            "description": "",
            "category": session.category,
            **self.inline_management(1, initial=1),
            **self.inline_slot(0, slot.start, 1, id=str(slot.pk), session=str(session.pk)),
        }
        data.update(split(slot.end, "time_slots-0-end"))

        response = self.client.post(f"{SESSIONS_URL}{session.pk}/change/", data)

        self.assertEqual(response.status_code, 200)
        errors = response.context["inline_admin_formsets"][0].formset.errors
        self.assertIn("capacity", errors[0])
        self.assertEqual(db_state(), before)


class TimeSlotAdminTests(AdminTestCase):
    def change_data(self, slot: TimeSlot, **changes) -> dict[str, str]:
        data = {
            "session": str(slot.session_id),
            **split(slot.start, "start"),
            **split(slot.end, "end"),
            "capacity": str(slot.capacity),
        }
        data.update(changes)
        return data

    def test_time_slot_changelist_loads(self):
        TimeSlotFactory(session__title="Morning Yoga")
        past = TimeSlotFactory(session__title="Old Spin", start=now() - timedelta(days=3))

        response = self.client.get(SLOTS_URL)

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Morning Yoga")
        self.assertContains(response, "Old Spin")
        self.assertContains(response, past.get_status_display())

    def test_time_slot_change_page_loads(self):
        slot = TimeSlotFactory()

        response = self.client.get(f"{SLOTS_URL}{slot.pk}/change/")

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'name="capacity"')

    def test_cancel_slots_action_cancels_the_slot_and_its_confirmed_bookings(self):
        slot = TimeSlotFactory()
        confirmed = [book(slot), book(slot)]
        earlier = book_and_cancel(slot)
        other = TimeSlotFactory()
        untouched = book(other)

        response = self.client.post(
            SLOTS_URL, {"action": "cancel_slots", "_selected_action": [str(slot.pk)]}, follow=True
        )

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Cancelled 1 slot and 2 booking(s).")
        slot.refresh_from_db()
        self.assertTrue(slot.is_cancelled)
        self.assertEqual(slot.booked, 0)
        for booking in confirmed:
            booking.refresh_from_db()
            self.assertEqual(booking.status, BookingStatus.CANCELLED)
        earlier_cancelled_at = earlier.cancelled_at
        earlier.refresh_from_db()
        self.assertEqual(earlier.cancelled_at, earlier_cancelled_at)
        untouched.refresh_from_db()
        self.assertEqual(untouched.status, BookingStatus.CONFIRMED)
        other.refresh_from_db()
        self.assertEqual((other.is_cancelled, other.booked), (False, 1))

    def test_capacity_below_booked_is_a_form_error_not_a_500(self):
        slot = TimeSlotFactory(capacity=5)
        book(slot)
        book(slot)
        before = db_state()

        response = self.client.post(
            f"{SLOTS_URL}{slot.pk}/change/", self.change_data(slot, capacity="1")
        )

        self.assertEqual(response.status_code, 200)
        self.assertIn("capacity", response.context["adminform"].form.errors)
        self.assertEqual(db_state(), before)

    def test_capacity_equal_to_booked_is_saved(self):
        slot = TimeSlotFactory(capacity=5)
        book(slot)
        book(slot)

        response = self.client.post(
            f"{SLOTS_URL}{slot.pk}/change/", self.change_data(slot, capacity="2")
        )

        self.assertEqual(response.status_code, 302)
        slot.refresh_from_db()
        self.assertEqual((slot.capacity, slot.booked), (2, 2))

    def test_capacity_above_500_is_a_form_error(self):
        slot = TimeSlotFactory()

        response = self.client.post(
            f"{SLOTS_URL}{slot.pk}/change/", self.change_data(slot, capacity="501")
        )

        self.assertEqual(response.status_code, 200)
        self.assertIn("capacity", response.context["adminform"].form.errors)
        self.assertEqual(TimeSlot.objects.get(pk=slot.pk).capacity, 10)

    def test_deleting_a_session_with_bookings_in_the_admin_is_refused(self):
        slot = TimeSlotFactory()
        book(slot)
        before = db_state()

        response = self.client.post(f"{SESSIONS_URL}{slot.session_id}/delete/", {"post": "yes"})

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Cannot delete session")
        self.assertEqual(db_state(), before)
