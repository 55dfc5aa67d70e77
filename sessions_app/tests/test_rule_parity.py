"""Each rule of the timetable, driven once through the API and once through
the admin: both refuse in the same words, and neither writes anything."""

from django.test import TestCase

from accounts.models import User
from accounts.tests.factories import PASSWORD, ClientFactory, InstructorFactory
from bookings.tests.factories import book, book_and_cancel
from sessions_app.models import Session
from sessions_app.tests.factories import SessionFactory, TimeSlotFactory
from testing.admin import (
    SESSIONS_URL,
    SLOTS_URL,
    existing_rows,
    inline_row,
    session_form,
    shown_messages,
    slot_form,
    staff_browser,
)
from testing.api import SESSIONS, api_client, listed, slot_body
from testing.timetable import db_state, ist


class RuleParityTests(TestCase):
    def setUp(self):
        staff = User.objects.create_superuser(
            email="desk@studio.example", password=PASSWORD, name="Front Desk"
        )
        self.admin = staff_browser(staff)
        self.instructor = InstructorFactory(name="Priya")
        self.api = api_client(self.instructor)

    # The API --------------------------------------------------------------

    def api_refuses(self, method: str, url: str, body: dict | None, status: int, code: str):
        before = db_state()
        response = getattr(self.api, method)(url, body, format="json")
        self.assertEqual(response.status_code, status, response.content)
        problem = response.json()
        self.assertEqual(problem["code"], code, problem)
        self.assertEqual(db_state(), before)
        return problem

    def api_create_refused(self, *slots: dict) -> dict:
        body = {"title": "Morning Yoga", "category": "yoga", "time_slots": list(slots)}
        return self.api_refuses("post", SESSIONS, body, 400, "invalid")["errors"]

    def api_conflict(self, method: str, url: str, body: dict | None, code: str) -> str:
        return self.api_refuses(method, url, body, 409, code)["detail"]

    # The admin ------------------------------------------------------------

    def admin_refuses(self, url: str, data: dict):
        """A form shown again with errors, and nothing written."""
        before = db_state()
        response = self.admin.post(url, data)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(db_state(), before)
        return response

    def inline_errors(self, url: str, data: dict):
        formset = self.admin_refuses(url, data).context["inline_admin_formsets"][0].formset
        return formset.errors, formset.non_form_errors()

    def slot_form_errors(self, url: str, data: dict) -> dict:
        return self.admin_refuses(url, data).context["adminform"].form.errors

    def admin_delete_refused(self, url: str, data: dict, back_to: str) -> list[str]:
        """A delete refused with a message on the object's page, nothing written."""
        before = db_state()
        response = self.admin.post(url, data, follow=True)
        self.assertRedirects(response, back_to)
        self.assertEqual(db_state(), before)
        return shown_messages(response)

    # The rules ------------------------------------------------------------

    def test_a_slot_that_starts_in_the_past_is_refused_in_the_same_words(self):
        past = ist(-1, 7)
        session = TimeSlotFactory(session__instructor=self.instructor).session

        api = self.api_create_refused(slot_body(past))["time_slots"][0]["start"]
        inline, _ = self.inline_errors(
            f"{SESSIONS_URL}add/",
            session_form(instructor=self.instructor, rows=[inline_row(0, past, ist(-1, 8), 10)]),
        )
        own = self.slot_form_errors(
            f"{SLOTS_URL}add/", slot_form(past, ist(-1, 8), 10, session=session)
        )

        self.assertEqual(api, ["A time slot must start in the future."])
        self.assertEqual(inline[0]["start"], api)
        self.assertEqual(own["start"], api)

    def test_a_slot_that_ends_before_it_starts_is_refused_in_the_same_words(self):
        start, end = ist(5, 7), ist(5, 6)
        slot = TimeSlotFactory(session__instructor=self.instructor, start=ist(6, 7))

        api = self.api_create_refused(slot_body(start, end))["time_slots"][0]["end"]
        inline, _ = self.inline_errors(
            f"{SESSIONS_URL}add/",
            session_form(instructor=self.instructor, rows=[inline_row(0, start, end, 10)]),
        )
        own = self.slot_form_errors(
            f"{SLOTS_URL}{slot.pk}/change/", slot_form(start, end, slot.capacity)
        )

        self.assertEqual(api, ["A time slot must end after it starts."])
        self.assertEqual(inline[0]["end"], api)
        self.assertEqual(own["end"], api)

    def test_two_slots_of_one_request_that_overlap_are_refused_in_the_same_words(self):
        first, second = ist(5, 7), ist(5, 7, 30)

        api = self.api_create_refused(slot_body(first), slot_body(second))["time_slots"]
        inline, _ = self.inline_errors(
            f"{SESSIONS_URL}add/",
            session_form(
                instructor=self.instructor,
                rows=[
                    inline_row(0, first, ist(5, 8), 10),
                    inline_row(1, second, ist(5, 8, 30), 10),
                ],
            ),
        )

        self.assertEqual(api[0], {})
        self.assertEqual(api[1]["start"], ["This time slot overlaps time slot 1 of this request."])
        self.assertEqual(inline[1]["start"], api[1]["start"])
        self.assertNotIn("start", inline[0])

    def test_a_slot_over_another_slot_of_the_instructor_is_refused_in_the_same_words(self):
        taken = TimeSlotFactory(
            session__instructor=self.instructor, session__title="Pilates", start=ist(5, 7)
        )
        other_session = SessionFactory(instructor=self.instructor)
        clash, clash_end = ist(5, 7, 30), ist(5, 8, 30)

        api = self.api_create_refused(slot_body(clash))["time_slots"][0]["start"]
        inline, _ = self.inline_errors(
            f"{SESSIONS_URL}add/",
            session_form(instructor=self.instructor, rows=[inline_row(0, clash, clash_end, 10)]),
        )
        own = self.slot_form_errors(
            f"{SLOTS_URL}add/", slot_form(clash, clash_end, 10, session=other_session)
        )

        self.assertEqual(api, [f"This time slot overlaps your time slot {taken.pk} of Pilates."])
        self.assertEqual(inline[0]["start"], api)
        self.assertEqual(own["start"], api)

    def test_a_session_without_slots_is_refused_in_the_same_words(self):
        only = TimeSlotFactory(session__instructor=self.instructor)

        api = self.api_create_refused()["time_slots"]
        update = self.api_refuses(
            "patch", f"{SESSIONS}{only.session_id}/", {"time_slots": []}, 400, "invalid"
        )["errors"]["time_slots"]
        inline, whole = self.inline_errors(
            f"{SESSIONS_URL}add/", session_form(instructor=self.instructor, rows=[])
        )
        refused_delete = self.admin_delete_refused(
            f"{SLOTS_URL}{only.pk}/delete/", {"post": "yes"}, f"{SLOTS_URL}{only.pk}/change/"
        )

        self.assertEqual(api, ["A session needs at least one time slot."])
        self.assertEqual(update, api)
        self.assertEqual((inline, whole), ([], api))
        self.assertEqual(refused_delete, api)

    def test_a_capacity_below_the_confirmed_bookings_is_refused_in_the_same_words(self):
        slot = TimeSlotFactory(session__instructor=self.instructor, capacity=5)
        book(slot, ClientFactory())
        book(slot, ClientFactory())
        session = slot.session

        api = self.api_conflict(
            "patch",
            f"{SESSIONS}{session.pk}/",
            {"time_slots": [listed(slot, capacity=1)]},
            "capacity_below_booked",
        )
        inline, whole = self.inline_errors(
            f"{SESSIONS_URL}{session.pk}/change/",
            session_form(
                instructor=self.instructor,
                title=session.title,
                rows=[inline_row(0, slot.start, slot.end, 1, slot)],
                initial=1,
            ),
        )
        own = self.slot_form_errors(
            f"{SLOTS_URL}{slot.pk}/change/", slot_form(slot.start, slot.end, 1)
        )

        self.assertEqual(
            api, f"Time slot {slot.pk} has 2 confirmed bookings; its capacity cannot be lower."
        )
        self.assertEqual(inline[0]["capacity"], [api])
        self.assertEqual(list(whole), [])
        self.assertEqual(own["capacity"], [api])

    def test_removing_a_slot_that_holds_bookings_is_refused_in_the_same_words(self):
        held = TimeSlotFactory(session__instructor=self.instructor, start=ist(5, 7))
        other = TimeSlotFactory(session=held.session, start=ist(6, 7))
        book_and_cancel(held, ClientFactory())
        session = held.session
        rows = existing_rows([held, other])
        rows[0]["time_slots-0-DELETE"] = "on"

        api = self.api_conflict(
            "patch",
            f"{SESSIONS}{session.pk}/",
            {"time_slots": [listed(other)]},
            "has_bookings",
        )
        _, whole = self.inline_errors(
            f"{SESSIONS_URL}{session.pk}/change/",
            session_form(instructor=self.instructor, title=session.title, rows=rows, initial=2),
        )
        refused_delete = self.admin_delete_refused(
            f"{SLOTS_URL}{held.pk}/delete/", {"post": "yes"}, f"{SLOTS_URL}{held.pk}/change/"
        )

        self.assertEqual(
            api, "A time slot that holds bookings cannot be removed; cancel it instead."
        )
        self.assertEqual(list(whole), [api])
        self.assertEqual(refused_delete, [api])

    def test_deleting_a_session_that_holds_bookings_is_refused_in_the_same_words(self):
        slot = TimeSlotFactory(session__instructor=self.instructor)
        book(slot, ClientFactory())
        session = slot.session
        change_page = f"{SESSIONS_URL}{session.pk}/change/"

        api = self.api_conflict("delete", f"{SESSIONS}{session.pk}/", None, "has_bookings")
        refused_delete = self.admin_delete_refused(
            f"{SESSIONS_URL}{session.pk}/delete/", {"post": "yes"}, change_page
        )
        before = db_state()
        action = self.admin.post(
            SESSIONS_URL,
            {"action": "delete_selected", "_selected_action": [str(session.pk)], "post": "yes"},
            follow=True,
        )

        self.assertEqual(
            api, "This session holds bookings and cannot be deleted; booking history is kept."
        )
        self.assertEqual(refused_delete, [api])
        self.assertEqual(shown_messages(action), [api])
        self.assertEqual(db_state(), before)
        self.assertTrue(Session.objects.filter(pk=session.pk).exists())
