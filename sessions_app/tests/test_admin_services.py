"""The admin writes sessions and slots through the services, as the API
does: each write leaves action-log entries naming who made it."""

from datetime import timedelta

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.test import TestCase

from accounts.models import User
from accounts.tests.factories import PASSWORD, ClientFactory, InstructorFactory, UserFactory
from bookings.tests.factories import book
from core.models import ActionLogEntry
from sessions_app import services
from sessions_app.models import Session, TimeSlot
from sessions_app.tests.factories import TimeSlotFactory
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
from testing.timetable import db_state, ist, log_of


def entry(obj, action: str) -> ActionLogEntry:
    return ActionLogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk, action=action
    )


class AdminWritesThroughServicesTests(TestCase):
    def setUp(self):
        self.staff = User.objects.create_superuser(
            email="desk@studio.example", password=PASSWORD, name="Front Desk"
        )
        self.admin = staff_browser(self.staff)
        self.instructor = InstructorFactory()

    def new_session(self, *starts) -> Session:
        return services.session_create(
            instructor=self.instructor,
            title="Morning Yoga",
            category="yoga",
            time_slots=[
                {"start": start, "end": start + timedelta(hours=1), "capacity": 10}
                for start in starts
            ],
            by=self.instructor,
        )

    def assert_saved(self, response) -> None:
        self.assertEqual(response.status_code, 302, getattr(response, "context", None))

    def test_adding_a_session_records_it_and_its_slots_with_the_staff_member(self):
        response = self.admin.post(
            f"{SESSIONS_URL}add/",
            session_form(
                instructor=self.instructor,
                rows=[
                    inline_row(0, ist(5, 7), ist(5, 8), 12),
                    inline_row(1, ist(6, 7), ist(6, 8), 8),
                ],
            ),
        )

        self.assert_saved(response)
        session = Session.objects.get(title="Admin Yoga")
        self.assertRedirects(response, SESSIONS_URL)
        slots = list(session.time_slots.order_by("start"))
        self.assertEqual([(s.start, s.capacity) for s in slots], [(ist(5, 7), 12), (ist(6, 7), 8)])
        self.assertEqual(log_of(session), [("session.created", self.staff.pk)])
        self.assertEqual(
            entry(session, "session.created").data["time_slots"], [s.pk for s in slots]
        )
        for slot in slots:
            self.assertEqual(log_of(slot), [("time_slot.created", self.staff.pk)])
        admin_log = LogEntry.objects.get(object_id=str(session.pk))
        self.assertEqual((admin_log.action_flag, admin_log.user_id), (ADDITION, self.staff.pk))

    def test_changing_a_session_records_its_fields_and_slots_with_the_staff_member(self):
        session = self.new_session(ist(5, 7), ist(6, 7))
        changed, dropped = session.time_slots.order_by("start")
        rows = existing_rows([changed, dropped])
        rows[0]["time_slots-0-capacity"] = "15"
        rows[1]["time_slots-1-DELETE"] = "on"
        rows.append(inline_row(2, ist(7, 7), ist(7, 8), 6))

        response = self.admin.post(
            f"{SESSIONS_URL}{session.pk}/change/",
            session_form(instructor=self.instructor, title="Evening Yoga", rows=rows, initial=2),
        )

        self.assert_saved(response)
        added = session.time_slots.get(start=ist(7, 7))
        self.assertEqual(
            sorted(session.time_slots.values_list("pk", "capacity")),
            sorted([(changed.pk, 15), (added.pk, 6)]),
        )
        updated = entry(session, "session.updated")
        self.assertEqual(updated.actor, self.staff)
        self.assertEqual(
            updated.data,
            {
                "fields": ["title"],
                "old": {"title": "Morning Yoga"},
                "new": {"title": "Evening Yoga"},
                "time_slots": {
                    "created": [added.pk],
                    "updated": [changed.pk],
                    "deleted": [dropped.pk],
                },
            },
        )
        capacity = entry(changed, "time_slot.updated")
        self.assertEqual(capacity.actor, self.staff)
        self.assertEqual(
            capacity.data,
            {"fields": ["capacity"], "old": {"capacity": 10}, "new": {"capacity": 15}},
        )
        self.assertEqual(entry(dropped, "time_slot.deleted").actor, self.staff)
        self.assertEqual(log_of(added), [("time_slot.created", self.staff.pk)])
        admin_log = LogEntry.objects.get(object_id=str(session.pk))
        self.assertEqual((admin_log.action_flag, admin_log.user_id), (CHANGE, self.staff.pk))

    def test_an_invalid_session_form_writes_nothing_though_its_slots_are_valid(self):
        session = self.new_session(ist(5, 7))
        slot = session.time_slots.get()
        rows = existing_rows([slot])
        rows[0]["time_slots-0-capacity"] = "20"
        before = db_state()

        added = self.admin.post(
            f"{SESSIONS_URL}add/",
            session_form(
                instructor=self.instructor, title="", rows=[inline_row(0, ist(6, 7), ist(6, 8), 5)]
            ),
        )
        changed = self.admin.post(
            f"{SESSIONS_URL}{session.pk}/change/",
            session_form(instructor=self.instructor, title="x" * 201, rows=rows, initial=1),
        )

        for response in (added, changed):
            self.assertEqual(response.status_code, 200)
            self.assertIn("title", response.context["adminform"].form.errors)
        self.assertEqual(db_state(), before)

    def test_a_page_shown_again_with_errors_leaves_no_write_behind(self):
        session = self.new_session(ist(5, 7))
        data = session_form(
            instructor=self.instructor,
            title="Renamed",
            rows=existing_rows(list(session.time_slots.all())),
            initial=1,
        )
        # The action log's formset, validated after the slots, is tampered with.
        data["core-actionlogentry-content_type-object_id-TOTAL_FORMS"] = "x"
        before = db_state()

        response = self.admin.post(f"{SESSIONS_URL}{session.pk}/change/", data)

        self.assertEqual(response.status_code, 200)
        self.assertEqual(db_state(), before)
        self.assertEqual(Session.objects.get(pk=session.pk).title, "Morning Yoga")

    def test_giving_a_session_to_another_instructor_records_both_and_checks_their_timetable(self):
        session = self.new_session(ist(5, 7))
        slot = session.time_slots.get()
        busy, free = InstructorFactory(), InstructorFactory()
        TimeSlotFactory(session__instructor=busy, start=ist(5, 7, 30))
        data = session_form(
            instructor=busy, title=session.title, rows=existing_rows([slot]), initial=1
        )
        before = db_state()

        refused = self.admin.post(f"{SESSIONS_URL}{session.pk}/change/", data)
        after_refusal = db_state()
        data["instructor"] = str(free.pk)
        saved = self.admin.post(f"{SESSIONS_URL}{session.pk}/change/", data)

        formset = refused.context["inline_admin_formsets"][0].formset
        self.assertIn("overlaps your time slot", formset.errors[0]["start"][0])
        self.assertEqual(after_refusal, before)
        self.assert_saved(saved)
        self.assertEqual(Session.objects.get(pk=session.pk).instructor, free)
        self.assertEqual(
            entry(session, "session.updated").data,
            {
                "fields": ["instructor"],
                "old": {"instructor": self.instructor.pk},
                "new": {"instructor": free.pk},
            },
        )

    def test_deleting_a_session_records_it_with_the_staff_member(self):
        session = self.new_session(ist(5, 7))
        slot = session.time_slots.get()

        response = self.admin.post(f"{SESSIONS_URL}{session.pk}/delete/", {"post": "yes"})

        self.assertRedirects(response, SESSIONS_URL)
        self.assertFalse(Session.objects.filter(pk=session.pk).exists())
        deleted = log_of(Session, session.pk)[-1]
        self.assertEqual(deleted, ("session.deleted", self.staff.pk))
        data = ActionLogEntry.objects.get(action="session.deleted").data
        self.assertEqual(data["title"], "Morning Yoga")
        self.assertEqual([item["id"] for item in data["time_slots"]], [slot.pk])
        admin_log = LogEntry.objects.get(object_id=str(session.pk), action_flag=DELETION)
        self.assertEqual(admin_log.user_id, self.staff.pk)

    def test_the_delete_page_of_a_session_with_bookings_asks_instead_of_showing_a_dead_end(self):
        slot = TimeSlotFactory()
        book(slot, ClientFactory())

        response = self.admin.get(f"{SESSIONS_URL}{slot.session_id}/delete/")

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'name="post"')
        self.assertNotContains(response, "Cannot delete")

    def test_deleting_sessions_with_the_action_goes_through_the_service_for_each(self):
        first, second = self.new_session(ist(5, 7)), self.new_session(ist(6, 7))

        response = self.admin.post(
            SESSIONS_URL,
            {
                "action": "delete_selected",
                "_selected_action": [str(first.pk), str(second.pk)],
                "post": "yes",
            },
            follow=True,
        )

        self.assertEqual(shown_messages(response), ["Successfully deleted 2 sessions."])
        self.assertFalse(Session.objects.exists())
        self.assertEqual(
            ActionLogEntry.objects.filter(action="session.deleted", actor=self.staff).count(), 2
        )

    def test_the_action_deletes_none_when_the_service_refuses_one(self):
        free = self.new_session(ist(5, 7))
        held = TimeSlotFactory(start=ist(6, 7))
        book(held, ClientFactory())
        before = db_state()

        response = self.admin.post(
            SESSIONS_URL,
            {
                "action": "delete_selected",
                "_selected_action": [str(free.pk), str(held.session_id)],
                "post": "yes",
            },
            follow=True,
        )

        self.assertEqual(
            shown_messages(response),
            ["This session holds bookings and cannot be deleted; booking history is kept."],
        )
        self.assertEqual(db_state(), before)

    def test_the_change_page_shows_the_action_log_read_only(self):
        session = self.new_session(ist(5, 7))
        slot = session.time_slots.get()

        session_page = self.admin.get(f"{SESSIONS_URL}{session.pk}/change/")
        slot_page = self.admin.get(f"{SLOTS_URL}{slot.pk}/change/")

        prefix = "core-actionlogentry-content_type-object_id-0"
        for page in (session_page, slot_page):
            self.assertEqual(page.status_code, 200)
            for field in ("created_at", "actor", "action", "data"):
                self.assertNotContains(page, f'name="{prefix}-{field}')
        self.assertContains(session_page, "session.created")
        self.assertContains(slot_page, "time_slot.created")

    def test_saving_a_change_page_with_its_action_log_leaves_the_log_as_it_was(self):
        session = self.new_session(ist(5, 7))
        slot = session.time_slots.get()
        [created] = ActionLogEntry.objects.filter(action="session.created")
        data = session_form(
            instructor=self.instructor, title="Renamed", rows=existing_rows([slot]), initial=1
        )
        # As the page posts it: the log's existing row, by id only.
        prefix = "core-actionlogentry-content_type-object_id"
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "1",
                f"{prefix}-INITIAL_FORMS": "1",
                f"{prefix}-0-id": str(created.pk),
            }
        )

        response = self.admin.post(f"{SESSIONS_URL}{session.pk}/change/", data)

        self.assert_saved(response)
        self.assertEqual(ActionLogEntry.objects.get(pk=created.pk).data, created.data)
        self.assertEqual(log_of(session)[-1], ("session.updated", self.staff.pk))

    def test_adding_changing_and_deleting_one_slot_records_the_staff_member(self):
        session = self.new_session(ist(5, 7))

        added = self.admin.post(
            f"{SLOTS_URL}add/", slot_form(ist(6, 7), ist(6, 8), 9, session=session)
        )
        slot = session.time_slots.get(start=ist(6, 7))
        changed = self.admin.post(
            f"{SLOTS_URL}{slot.pk}/change/", slot_form(ist(6, 9), ist(6, 10), 9)
        )
        deleted = self.admin.post(f"{SLOTS_URL}{slot.pk}/delete/", {"post": "yes"})

        for response in (added, changed, deleted):
            self.assert_saved(response)
        self.assertFalse(TimeSlot.objects.filter(pk=slot.pk).exists())
        self.assertEqual(
            log_of(TimeSlot, slot.pk),
            [
                ("time_slot.created", self.staff.pk),
                ("time_slot.updated", self.staff.pk),
                ("time_slot.deleted", self.staff.pk),
            ],
        )
        moved = entry(slot, "time_slot.updated").data
        self.assertEqual(moved["fields"], ["start", "end"])
        self.assertEqual(LogEntry.objects.filter(object_id=str(slot.pk)).count(), 3)

    def test_a_slot_saved_with_the_admin_keeps_bookings_made_meanwhile(self):
        slot = TimeSlotFactory(capacity=5)
        form = slot_form(slot.start, slot.end, 6)
        book(slot, ClientFactory())  # after the staff member opened the page

        response = self.admin.post(f"{SLOTS_URL}{slot.pk}/change/", form)

        self.assert_saved(response)
        slot.refresh_from_db()
        self.assertEqual((slot.capacity, slot.booked), (6, 1))


class SessionAdminPermissionTests(TestCase):
    """Saving a session writes its slot list, read from the inline: staff
    need to see the slots to change a session, and to add slots to add one."""

    def setUp(self):
        self.slot = TimeSlotFactory(start=ist(5, 7))
        self.session = self.slot.session

    def staff_with(self, *codenames: str) -> User:
        staff = UserFactory(is_staff=True)
        staff.user_permissions.set(
            Permission.objects.filter(
                content_type__app_label="sessions_app", codename__in=codenames
            )
        )
        return staff

    def change_form(self) -> dict:
        return session_form(
            instructor=self.session.instructor,
            title="Renamed",
            rows=existing_rows([self.slot]),
            initial=1,
        )

    def test_staff_who_cannot_see_slots_see_a_session_read_only(self):
        browser = staff_browser(self.staff_with("view_session", "change_session", "add_session"))

        page = browser.get(f"{SESSIONS_URL}{self.session.pk}/change/")
        refused = browser.post(f"{SESSIONS_URL}{self.session.pk}/change/", self.change_form())
        add_page = browser.get(f"{SESSIONS_URL}add/")

        self.assertEqual(page.status_code, 200)
        self.assertNotContains(page, 'name="_save"')
        self.assertEqual(refused.status_code, 403)
        self.assertEqual(add_page.status_code, 403)
        self.assertEqual(Session.objects.get(pk=self.session.pk).title, self.session.title)

    def test_staff_who_may_see_the_slots_change_the_session_and_keep_its_slots(self):
        staff = self.staff_with("change_session", "view_timeslot")
        browser = staff_browser(staff)
        before = list(TimeSlot.objects.values_list("pk", "start", "end", "capacity"))

        response = browser.post(f"{SESSIONS_URL}{self.session.pk}/change/", self.change_form())

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        self.assertEqual(Session.objects.get(pk=self.session.pk).title, "Renamed")
        self.assertEqual(
            list(TimeSlot.objects.values_list("pk", "start", "end", "capacity")), before
        )
        self.assertEqual(log_of(self.session), [("session.updated", staff.pk)])
