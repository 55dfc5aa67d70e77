"""The Django admin of sessions, used by a superuser: the change form with its
time slots inline (the change list is test_admin_session_list)."""

from datetime import datetime, timedelta
from itertools import count

from django.utils.timezone import now

from accounts.models import User
from accounts.tests.factories import InstructorFactory
from bookings.tests.factories import book, book_and_cancel, cancel_slot, move_to_past
from sessions_app.models import Session, TimeSlot
from sessions_app.tests.factories import SessionFactory, TimeSlotFactory
from testing.admin import ACTION_LOG_FORMS, SESSIONS_URL, AdminTestCase, admin_inputs
from testing.timetable import db_state, ist


class SessionFormMixin:
    def inline_management(self, total: int, initial: int = 0) -> dict[str, str]:
        return {
            "time_slots-TOTAL_FORMS": str(total),
            "time_slots-INITIAL_FORMS": str(initial),
            "time_slots-MIN_NUM_FORMS": "0",
            "time_slots-MAX_NUM_FORMS": "1000",
            **ACTION_LOG_FORMS,
        }

    def inline_slot(self, index: int, start: datetime, capacity: int, **extra) -> dict:
        prefix = f"time_slots-{index}"
        data = {
            **admin_inputs(start, f"{prefix}-start"),
            **admin_inputs(start + timedelta(hours=1), f"{prefix}-end"),
            f"{prefix}-capacity": str(capacity),
        }
        data.update({f"{prefix}-{key}": value for key, value in extra.items()})
        return data

    def session_data(self, session: Session, slots: list[TimeSlot], **fields) -> dict:
        """The change form of `session` as the admin shows it, `slots` inline."""
        data = {
            "instructor": str(session.instructor_id),
            "title": session.title,
            "description": session.description,
            "category": session.category,
            **self.inline_management(len(slots), initial=len(slots)),
        }
        for index, slot in enumerate(slots):
            data.update(
                self.inline_slot(
                    index, slot.start, slot.capacity, id=str(slot.pk), session=str(session.pk)
                )
            )
            data.update(admin_inputs(slot.end, f"time_slots-{index}-end"))
        data.update(fields)
        return data

    def new_session_data(self, instructor: User, *starts: datetime, title="Admin Yoga") -> dict:
        data = {
            "instructor": str(instructor.pk),
            "title": title,
            "description": "",
            "category": "yoga",
            **self.inline_management(len(starts)),
        }
        for index, start in enumerate(starts):
            data.update(self.inline_slot(index, start, 12))
        return data

    def inline_errors(self, response) -> list[dict]:
        self.assertEqual(response.status_code, 200)
        return response.context["inline_admin_formsets"][0].formset.errors


class SessionChangeFormTests(SessionFormMixin, AdminTestCase):
    def test_session_change_page_loads_with_its_slots_inline(self):
        slot = TimeSlotFactory(session__title="Morning Yoga", capacity=12)
        book(slot)

        response = self.client.get(f"{SESSIONS_URL}{slot.session_id}/change/")

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Morning Yoga")
        self.assertContains(response, 'name="time_slots-0-capacity"')
        self.assertContains(response, 'value="12"')

    def test_inline_shows_booked_and_available_read_only(self):
        slot = TimeSlotFactory(capacity=12)
        book(slot)
        book(slot)

        response = self.client.get(f"{SESSIONS_URL}{slot.session_id}/change/")

        self.assertContains(response, '<td class="field-booked"><p>2</p></td>', html=True)
        self.assertContains(response, '<td class="field-available"><p>10</p></td>', html=True)
        self.assertContains(response, '<td class="field-status"><p>Open</p></td>', html=True)
        self.assertNotContains(response, 'name="time_slots-0-booked"')
        self.assertNotContains(response, 'name="time_slots-0-available"')

    def test_change_page_queries_do_not_grow_with_its_slots(self):
        session = SessionFactory()
        hours = count(24, 2)

        def add_slot():
            book(TimeSlotFactory(session=session, start=now() + timedelta(hours=next(hours))))

        self.assert_queries_do_not_grow(
            f"{SESSIONS_URL}{session.pk}/change/",
            add_slot,
            lambda response: (
                response.context["inline_admin_formsets"][0].formset.total_form_count() - 1
            ),  # the empty form for a new slot
        )

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

    def test_add_page_offers_the_inline_slots(self):
        response = self.client.get(f"{SESSIONS_URL}add/")

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'name="time_slots-0-start_0"')
        self.assertContains(response, 'name="time_slots-TOTAL_FORMS"')

    def test_adding_an_inline_slot_that_ends_before_it_starts_is_a_form_error(self):
        instructor = InstructorFactory()
        start = ist(5, 7)
        slot = self.inline_slot(0, start, 12)
        slot.update(admin_inputs(start - timedelta(hours=1), "time_slots-0-end"))
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

    def test_adding_a_session_whose_slot_overlaps_the_instructors_other_slot_is_refused(self):
        instructor = InstructorFactory()
        TimeSlotFactory(session__instructor=instructor, start=ist(5, 7))
        before = db_state()

        response = self.client.post(
            f"{SESSIONS_URL}add/", self.new_session_data(instructor, ist(6, 7), ist(5, 7, 30))
        )

        errors = self.inline_errors(response)
        self.assertEqual(errors[0], {})
        self.assertIn("overlaps", " ".join(errors[1]["start"]))
        self.assertEqual(db_state(), before)

    def test_adding_a_session_whose_two_slots_overlap_each_other_is_refused(self):
        instructor = InstructorFactory()

        response = self.client.post(
            f"{SESSIONS_URL}add/", self.new_session_data(instructor, ist(5, 7), ist(5, 7, 30))
        )

        errors = self.inline_errors(response)
        self.assertIn("start", errors[1])
        self.assertFalse(Session.objects.exists())

    def test_a_slot_of_another_instructor_at_the_same_time_is_no_overlap(self):
        TimeSlotFactory(start=ist(5, 7))
        instructor = InstructorFactory()

        response = self.client.post(
            f"{SESSIONS_URL}add/", self.new_session_data(instructor, ist(5, 7))
        )

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        self.assertTrue(Session.objects.filter(instructor=instructor).exists())

    def test_a_cancelled_slot_of_the_instructor_blocks_no_time(self):
        instructor = InstructorFactory()
        cancelled = TimeSlotFactory(session__instructor=instructor, start=ist(5, 7))
        cancel_slot(cancelled)

        response = self.client.post(
            f"{SESSIONS_URL}add/", self.new_session_data(instructor, ist(5, 7))
        )

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))

    def test_adding_a_slot_that_starts_in_the_past_is_refused(self):
        instructor = InstructorFactory()

        response = self.client.post(
            f"{SESSIONS_URL}add/", self.new_session_data(instructor, ist(-1, 7))
        )

        self.assertIn("start", self.inline_errors(response)[0])
        self.assertFalse(Session.objects.exists())

    def test_giving_the_session_to_an_instructor_who_is_busy_then_is_refused(self):
        slot = TimeSlotFactory(start=ist(5, 7))
        busy = InstructorFactory()
        TimeSlotFactory(session__instructor=busy, start=ist(5, 7, 30))
        before = db_state()

        response = self.client.post(
            f"{SESSIONS_URL}{slot.session_id}/change/",
            self.session_data(slot.session, [slot], instructor=str(busy.pk)),
        )

        self.assertIn("start", self.inline_errors(response)[0])
        self.assertEqual(db_state(), before)

    def test_moving_an_inline_slot_onto_another_slot_of_the_instructor_is_refused(self):
        slot = TimeSlotFactory(start=ist(5, 7))
        TimeSlotFactory(session__instructor=slot.session.instructor, start=ist(6, 7))
        before = db_state()
        data = self.session_data(slot.session, [slot])
        data.update(admin_inputs(ist(6, 7, 15), "time_slots-0-start"))
        data.update(admin_inputs(ist(6, 8, 15), "time_slots-0-end"))

        response = self.client.post(f"{SESSIONS_URL}{slot.session_id}/change/", data)

        self.assertIn("start", self.inline_errors(response)[0])
        self.assertEqual(db_state(), before)

    def test_swapping_two_slots_of_the_session_is_no_overlap(self):
        first = TimeSlotFactory(start=ist(5, 7))
        second = TimeSlotFactory(session=first.session, start=ist(5, 9))
        data = self.session_data(first.session, [first, second])
        for index, start in ((0, ist(5, 9)), (1, ist(5, 7))):
            data.update(admin_inputs(start, f"time_slots-{index}-start"))
            data.update(admin_inputs(start + timedelta(hours=1), f"time_slots-{index}-end"))

        response = self.client.post(f"{SESSIONS_URL}{first.session_id}/change/", data)

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        first.refresh_from_db()
        second.refresh_from_db()
        self.assertEqual((first.start, second.start), (ist(5, 9), ist(5, 7)))

    def test_editing_a_session_keeps_its_past_slot_exactly_as_it_was(self):
        upcoming = TimeSlotFactory(start=ist(5, 7))
        past = move_to_past(TimeSlotFactory(session=upcoming.session), ago=timedelta(hours=2))
        book(upcoming)

        response = self.client.post(
            f"{SESSIONS_URL}{upcoming.session_id}/change/",
            self.session_data(upcoming.session, [upcoming, past], title="Renamed"),
        )

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        self.assertEqual(Session.objects.get(pk=upcoming.session_id).title, "Renamed")
        kept = TimeSlot.objects.get(pk=past.pk)
        self.assertEqual((kept.start, kept.end), (past.start, past.end))
        upcoming_now = TimeSlot.objects.get(pk=upcoming.pk)
        self.assertEqual((upcoming_now.start, upcoming_now.booked), (upcoming.start, 1))

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
        data.update(admin_inputs(slot.end, "time_slots-0-end"))

        response = self.client.post(f"{SESSIONS_URL}{session.pk}/change/", data)

        self.assertEqual(response.status_code, 200)
        errors = response.context["inline_admin_formsets"][0].formset.errors
        self.assertIn("capacity", errors[0])
        self.assertEqual(db_state(), before)

    def test_deleting_an_inline_slot_that_holds_a_booking_is_a_form_error(self):
        kept = TimeSlotFactory(start=ist(5, 7))
        booked = TimeSlotFactory(session=kept.session, start=ist(6, 7))
        book_and_cancel(booked)
        before = db_state()
        data = self.session_data(kept.session, [kept, booked])
        data["time_slots-1-DELETE"] = "on"

        response = self.client.post(f"{SESSIONS_URL}{kept.session_id}/change/", data)

        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response.context["inline_admin_formsets"][0].formset.non_form_errors(),
            ["A time slot that holds bookings cannot be removed; cancel it instead."],
        )
        self.assertEqual(db_state(), before)

    def test_deleting_an_inline_slot_without_bookings_frees_its_time(self):
        kept = TimeSlotFactory(start=ist(5, 7))
        dropped = TimeSlotFactory(session=kept.session, start=ist(6, 7))
        data = self.session_data(kept.session, [kept, dropped])
        data["time_slots-1-DELETE"] = "on"
        # A new slot at the deleted one's time is no overlap.
        data.update(self.inline_slot(2, ist(6, 7), 8))
        data.update(self.inline_management(3, initial=2))

        response = self.client.post(f"{SESSIONS_URL}{kept.session_id}/change/", data)

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        starts = TimeSlot.objects.filter(session=kept.session).values_list("start", "capacity")
        self.assertEqual(sorted(starts), [(ist(5, 7), 10), (ist(6, 7), 8)])
        self.assertFalse(TimeSlot.objects.filter(pk=dropped.pk).exists())

    def test_deleting_a_session_with_bookings_in_the_admin_is_refused(self):
        slot = TimeSlotFactory()
        book(slot)
        before = db_state()

        response = self.client.post(
            f"{SESSIONS_URL}{slot.session_id}/delete/", {"post": "yes"}, follow=True
        )

        self.assertRedirects(response, f"{SESSIONS_URL}{slot.session_id}/change/")
        self.assertContains(
            response, "This session holds bookings and cannot be deleted; booking history is kept."
        )
        self.assertEqual(db_state(), before)
