"""The Django admin of sessions and time slots, used by a superuser."""

import re
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from html import unescape
from itertools import count

from django.db import connection
from django.test import Client, TestCase, TransactionTestCase
from django.test.utils import CaptureQueriesContext
from django.utils.formats import date_format
from django.utils.timezone import now

from accounts.models import User
from accounts.tests.factories import PASSWORD, ClientFactory, InstructorFactory
from bookings import services as booking_services
from bookings.models import Booking, BookingStatus
from bookings.tests.test_concurrency import race
from sessions_app import services
from sessions_app.models import Session, TimeSlot
from sessions_app.tests.factories import SessionFactory, TimeSlotFactory
from sessions_app.tests.test_services import book, book_and_cancel, db_state, move_into_the_past
from sessions_app.tests.test_views import IST, ist

SESSIONS_URL = "/admin/sessions_app/session/"
SLOTS_URL = "/admin/sessions_app/timeslot/"
# The change forms' read-only action log, posted as the page holds it: an empty formset.
ACTION_LOG_FORMS = {
    "studio-actionlogentry-content_type-object_id-TOTAL_FORMS": "0",
    "studio-actionlogentry-content_type-object_id-INITIAL_FORMS": "0",
}


def split(value: datetime, prefix: str) -> dict[str, str]:
    """The admin's date and time inputs for `value`, on the studio's clocks."""
    local = value.astimezone(IST)
    return {f"{prefix}_0": local.date().isoformat(), f"{prefix}_1": local.strftime("%H:%M:%S")}


def column(response, name: str) -> list[str]:
    """The text of changelist column `name`, row by row."""
    cells = re.findall(
        rf'<t[dh] class="field-{name}(?: [^"]*)?">(.*?)</t[dh]>', response.content.decode(), re.S
    )
    return [unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]


def shown(value: datetime) -> str:
    """How the admin writes the instant `value` on the studio's clocks."""
    return date_format(value.astimezone(IST), "DATETIME_FORMAT")


class AdminTestCase(TestCase):
    def setUp(self):
        self.superuser = User.objects.create_superuser(
            email="boss@example.com", password=PASSWORD, name="Boss"
        )
        self.client.force_login(self.superuser)

    def listed(self, response) -> set[int]:
        self.assertEqual(response.status_code, 200)
        return {obj.pk for obj in response.context["cl"].result_list}

    def assert_queries_do_not_grow(
        self,
        url: str,
        add_row: Callable[[], object],
        rows: Callable[[object], int] = lambda response: response.context["cl"].result_count,
        *,
        few: int = 2,
        many: int = 20,
    ) -> None:
        """The page at `url` costs as many queries with `many` rows as with `few`."""
        for _ in range(few):
            add_row()
        self.client.get(url)  # the first load fills per-process caches
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(rows(response), few)
        for _ in range(many - few):
            add_row()
        with self.assertNumQueries(len(queries)):
            response = self.client.get(url)
        self.assertEqual(rows(response), many)


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
            **split(start, f"{prefix}-start"),
            **split(start + timedelta(hours=1), f"{prefix}-end"),
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
            data.update(split(slot.end, f"time_slots-{index}-end"))
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


class SessionChangelistTests(AdminTestCase):
    def test_session_changelist_loads(self):
        TimeSlotFactory(session__title="Morning Yoga")

        response = self.client.get(SESSIONS_URL)

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Morning Yoga")

    def test_changelist_shows_instructor_category_next_slot_and_upcoming_seats(self):
        instructor = InstructorFactory(email="maya@example.com")
        session = SessionFactory(instructor=instructor, title="Morning Yoga", category="pilates")
        later = TimeSlotFactory(session=session, start=ist(3, 18), capacity=5)
        book(later)
        soon = TimeSlotFactory(session=session, start=ist(2, 7, 30), capacity=10)
        book(soon)
        book(soon)
        past = TimeSlotFactory(session=session, capacity=8)
        book(past)
        move_into_the_past(past)
        cancelled = TimeSlotFactory(session=session, start=ist(1, 7), capacity=20)
        book(cancelled)
        services.time_slot_cancel(time_slot=cancelled)

        response = self.client.get(SESSIONS_URL)

        self.assertEqual(column(response, "instructor"), ["maya@example.com"])
        self.assertEqual(column(response, "category"), ["Pilates"])
        # The earliest upcoming slot, on the studio's clocks (02:00 UTC).
        self.assertEqual(column(response, "next_slot"), [shown(soon.start)])
        self.assertIn("7:30 a.m.", column(response, "next_slot")[0])
        # Booked over offered seats of the upcoming slots only: (2 + 1) / (10 + 5).
        self.assertEqual(column(response, "seats"), ["3/15"])
        self.assertContains(response, "Next slot (studio time)")

    def test_a_session_without_upcoming_slots_shows_no_next_slot_and_no_seats(self):
        move_into_the_past(TimeSlotFactory(session__title="Old Spin"))

        response = self.client.get(SESSIONS_URL)

        self.assertEqual(column(response, "next_slot"), ["-"])
        self.assertEqual(column(response, "seats"), ["0/0"])

    def test_changelist_sorts_by_next_slot(self):
        later = TimeSlotFactory(start=ist(3, 7)).session
        sooner = TimeSlotFactory(start=ist(2, 7)).session

        response = self.client.get(SESSIONS_URL, {"o": "4"})

        self.assertEqual(list(response.context["cl"].result_list), [sooner, later])

    def test_changelist_filters_by_upcoming_and_past(self):
        upcoming = TimeSlotFactory().session
        past = move_into_the_past(TimeSlotFactory()).session
        cancelled = TimeSlotFactory()
        services.time_slot_cancel(time_slot=cancelled)
        empty = SessionFactory()
        both = TimeSlotFactory().session
        move_into_the_past(TimeSlotFactory(session=both, start=ist(5, 7)))

        with_upcoming = self.client.get(SESSIONS_URL, {"when": "upcoming"})
        without = self.client.get(SESSIONS_URL, {"when": "past"})

        self.assertEqual(self.listed(with_upcoming), {upcoming.pk, both.pk})
        self.assertEqual(self.listed(without), {past.pk, cancelled.session_id, empty.pk})
        self.assertContains(with_upcoming, '<a href="?when=past">Past</a>', html=True)

    def test_changelist_filters_by_instructor(self):
        maya = InstructorFactory()
        hers = TimeSlotFactory(session__instructor=maya).session
        TimeSlotFactory()

        page = self.client.get(SESSIONS_URL)
        response = self.client.get(SESSIONS_URL, {"instructor__id__exact": str(maya.pk)})

        self.assertContains(page, f'href="?instructor__id__exact={maya.pk}"')
        self.assertEqual(self.listed(response), {hers.pk})

    def test_changelist_filters_by_category(self):
        yoga = TimeSlotFactory(session__category="yoga").session
        TimeSlotFactory(session__category="spin")

        response = self.client.get(SESSIONS_URL, {"category__exact": "yoga"})

        self.assertEqual(self.listed(response), {yoga.pk})

    def test_changelist_searches_by_title(self):
        yoga = TimeSlotFactory(session__title="Morning Yoga").session
        TimeSlotFactory(session__title="Spin Express", session__description="yoga stretch")

        response = self.client.get(SESSIONS_URL, {"q": "yoga"})

        self.assertEqual(self.listed(response), {yoga.pk})
        self.assertNotContains(response, "Spin Express")

    def test_session_changelist_search_and_filters_load(self):
        TimeSlotFactory(session__title="Morning Yoga", session__category="yoga")
        TimeSlotFactory(session__title="Spin Express", session__category="spin")

        response = self.client.get(SESSIONS_URL, {"q": "yoga", "category": "yoga"})

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Morning Yoga")
        self.assertNotContains(response, "Spin Express")

    def test_changelist_queries_do_not_grow_with_its_rows(self):
        days = count(1)

        def add_session():
            slot = TimeSlotFactory(start=now() + timedelta(days=next(days)))
            book(slot)
            TimeSlotFactory(session=slot.session, start=slot.start + timedelta(hours=3))
            move_into_the_past(TimeSlotFactory(session=slot.session))

        self.assert_queries_do_not_grow(SESSIONS_URL, add_session)

    def test_filtered_changelist_queries_do_not_grow_with_its_rows(self):
        instructor = InstructorFactory()
        days = count(1)

        def add_session():
            book(TimeSlotFactory(session__instructor=instructor, start=ist(next(days), 7)))

        url = f"{SESSIONS_URL}?when=upcoming&instructor__id__exact={instructor.pk}&q=Session"
        self.assert_queries_do_not_grow(url, add_session)


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
        services.time_slot_cancel(time_slot=cancelled)

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
        data.update(split(ist(6, 7, 15), "time_slots-0-start"))
        data.update(split(ist(6, 8, 15), "time_slots-0-end"))

        response = self.client.post(f"{SESSIONS_URL}{slot.session_id}/change/", data)

        self.assertIn("start", self.inline_errors(response)[0])
        self.assertEqual(db_state(), before)

    def test_swapping_two_slots_of_the_session_is_no_overlap(self):
        first = TimeSlotFactory(start=ist(5, 7))
        second = TimeSlotFactory(session=first.session, start=ist(5, 9))
        data = self.session_data(first.session, [first, second])
        for index, start in ((0, ist(5, 9)), (1, ist(5, 7))):
            data.update(split(start, f"time_slots-{index}-start"))
            data.update(split(start + timedelta(hours=1), f"time_slots-{index}-end"))

        response = self.client.post(f"{SESSIONS_URL}{first.session_id}/change/", data)

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        first.refresh_from_db()
        second.refresh_from_db()
        self.assertEqual((first.start, second.start), (ist(5, 9), ist(5, 7)))

    def test_editing_a_session_keeps_its_past_slot_exactly_as_it_was(self):
        upcoming = TimeSlotFactory(start=ist(5, 7))
        past = move_into_the_past(TimeSlotFactory(session=upcoming.session))
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
        data.update(split(slot.end, "time_slots-0-end"))

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


class TimeSlotChangelistTests(AdminTestCase):
    def cancel(self, *slots: TimeSlot):
        return self.client.post(
            SLOTS_URL,
            {"action": "cancel_slots", "_selected_action": [str(slot.pk) for slot in slots]},
            follow=True,
        )

    def test_time_slot_changelist_loads(self):
        TimeSlotFactory(session__title="Morning Yoga")
        past = TimeSlotFactory(session__title="Old Spin", start=now() - timedelta(days=3))

        response = self.client.get(SLOTS_URL)

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Morning Yoga")
        self.assertContains(response, "Old Spin")
        self.assertContains(response, past.get_status_display())

    def test_changelist_shows_session_times_in_studio_time_seats_and_status(self):
        slot = TimeSlotFactory(session__title="Morning Yoga", start=ist(2, 7, 30), capacity=3)
        book(slot)

        response = self.client.get(SLOTS_URL)

        self.assertEqual(column(response, "session"), ["Morning Yoga"])
        self.assertEqual(column(response, "start"), [shown(ist(2, 7, 30))])
        self.assertEqual(column(response, "end"), [shown(ist(2, 8, 30))])
        self.assertEqual(column(response, "capacity"), ["3"])
        self.assertEqual(column(response, "booked"), ["1"])
        self.assertEqual(column(response, "available"), ["2"])
        self.assertEqual(column(response, "status"), ["Open"])

    def test_changelist_filters_by_status(self):
        open_slot = TimeSlotFactory(capacity=2)
        full = TimeSlotFactory(capacity=1)
        book(full)
        past = move_into_the_past(TimeSlotFactory())
        cancelled = TimeSlotFactory()
        services.time_slot_cancel(time_slot=cancelled)
        expected = {
            "open": open_slot,
            "full": full,
            "past": past,
            "cancelled": cancelled,
        }

        for value, slot in expected.items():
            with self.subTest(status=value):
                response = self.client.get(SLOTS_URL, {"status": value})
                self.assertEqual(self.listed(response), {slot.pk})
                label = TimeSlot.objects.get(pk=slot.pk).get_status_display()
                self.assertEqual(column(response, "status"), [label])

    def test_changelist_filters_by_studio_day(self):
        # 00:30 on the studio's clocks is the evening before in UTC.
        early = TimeSlotFactory(start=ist(2, 0, 30))
        TimeSlotFactory(start=ist(1, 22))
        TimeSlotFactory(start=ist(3, 7))
        day = ist(2, 0, 30).date()

        response = self.client.get(
            SLOTS_URL,
            {"start__year": day.year, "start__month": day.month, "start__day": day.day},
        )

        self.assertEqual(self.listed(response), {early.pk})

    def test_changelist_searches_by_session_title(self):
        yoga = TimeSlotFactory(session__title="Morning Yoga")
        TimeSlotFactory(session__title="Spin Express")

        response = self.client.get(SLOTS_URL, {"q": "yoga"})

        self.assertEqual(self.listed(response), {yoga.pk})

    def test_changelist_queries_do_not_grow_with_its_rows(self):
        hours = count(24, 2)

        def add_slot():
            book(TimeSlotFactory(start=now() + timedelta(hours=next(hours))))

        self.assert_queries_do_not_grow(SLOTS_URL, add_slot)

    def test_filtered_changelist_queries_do_not_grow_with_its_rows(self):
        hours = count(24, 2)

        def add_slot():
            book(TimeSlotFactory(start=now() + timedelta(hours=next(hours))))

        self.assert_queries_do_not_grow(f"{SLOTS_URL}?status=open&q=Session", add_slot)

    def test_the_cancel_action_is_offered_by_its_name(self):
        TimeSlotFactory()

        response = self.client.get(SLOTS_URL)

        self.assertContains(response, '<option value="cancel_slots">Cancel selected slots</option>')

    def test_cancel_slots_action_cancels_the_slot_and_its_confirmed_bookings(self):
        slot = TimeSlotFactory()
        confirmed = [book(slot), book(slot)]
        earlier = book_and_cancel(slot)
        other = TimeSlotFactory()
        untouched = book(other)

        response = self.cancel(slot)

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Cancelled 1 slot and 2 bookings.")
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

    def test_cancel_action_counts_slots_and_bookings_and_skips_slots_cancelled_before(self):
        first, second, before = TimeSlotFactory(), TimeSlotFactory(), TimeSlotFactory()
        book(first)
        book(first)
        book(second)
        book(before)
        services.time_slot_cancel(time_slot=before)

        response = self.cancel(first, second, before)

        self.assertContains(response, "Cancelled 2 slots and 3 bookings.")
        self.assertContains(response, "Skipped 1 slot that was already cancelled.")
        self.assertEqual(TimeSlot.objects.get(pk=before.pk).cancelled_at, before.cancelled_at)
        self.assertEqual(TimeSlot.objects.filter(is_cancelled=True).count(), 3)

    def test_cancel_action_on_cancelled_slots_only_reports_that_it_skipped_them(self):
        slot = TimeSlotFactory()
        services.time_slot_cancel(time_slot=slot)

        response = self.cancel(slot)

        self.assertContains(response, "Skipped 1 slot that was already cancelled.")
        self.assertNotContains(response, "Cancelled ")
        self.assertEqual(TimeSlot.objects.get(pk=slot.pk).cancelled_at, slot.cancelled_at)

    def test_cancel_action_moves_the_public_timetable_on(self):
        slot = TimeSlotFactory(session__title="Morning Yoga")
        listed = self.client.get("/api/public/sessions/").json()

        self.cancel(slot)

        self.assertIn("Morning Yoga", str(listed))
        self.assertNotIn("Morning Yoga", str(self.client.get("/api/public/sessions/").json()))


class TimeSlotChangeFormTests(AdminTestCase):
    def change_data(self, slot: TimeSlot, **changes) -> dict[str, str]:
        data = {
            **split(slot.start, "start"),
            **split(slot.end, "end"),
            "capacity": str(slot.capacity),
            **ACTION_LOG_FORMS,
        }
        data.update(changes)
        return data

    def moved(self, slot: TimeSlot, start: datetime, hours: float = 1) -> dict[str, str]:
        return self.change_data(
            slot, **split(start, "start"), **split(start + timedelta(hours=hours), "end")
        )

    def post_change(self, slot: TimeSlot, data: dict):
        return self.client.post(f"{SLOTS_URL}{slot.pk}/change/", data)

    def form_errors(self, response) -> dict:
        self.assertEqual(response.status_code, 200)
        return response.context["adminform"].form.errors

    def test_time_slot_change_page_loads(self):
        slot = TimeSlotFactory()

        response = self.client.get(f"{SLOTS_URL}{slot.pk}/change/")

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'name="capacity"')

    def test_a_slot_stays_with_its_session(self):
        slot = TimeSlotFactory()
        other = SessionFactory(instructor=slot.session.instructor)

        page = self.client.get(f"{SLOTS_URL}{slot.pk}/change/")
        response = self.post_change(slot, self.change_data(slot, session=str(other.pk)))

        self.assertNotContains(page, 'name="session"')
        self.assertEqual(response.status_code, 302)
        self.assertEqual(TimeSlot.objects.get(pk=slot.pk).session_id, slot.session_id)

    def test_moving_a_slot_onto_another_slot_of_the_instructor_is_refused(self):
        slot = TimeSlotFactory(start=ist(5, 7))
        TimeSlotFactory(session__instructor=slot.session.instructor, start=ist(6, 7))
        before = db_state()

        response = self.post_change(slot, self.moved(slot, ist(6, 6, 30)))

        self.assertIn("overlaps", " ".join(self.form_errors(response)["start"]))
        self.assertEqual(db_state(), before)

    def test_stretching_a_slot_over_the_next_slot_of_its_session_is_refused(self):
        slot = TimeSlotFactory(start=ist(5, 7))
        TimeSlotFactory(session=slot.session, start=ist(5, 8))
        before = db_state()

        response = self.post_change(slot, self.moved(slot, ist(5, 7), hours=1.5))

        self.assertIn("start", self.form_errors(response))
        self.assertEqual(db_state(), before)

    def test_moving_a_slot_next_to_another_of_the_instructor_is_saved(self):
        slot = TimeSlotFactory(start=ist(5, 7))
        TimeSlotFactory(session__instructor=slot.session.instructor, start=ist(6, 7))

        response = self.post_change(slot, self.moved(slot, ist(6, 8)))

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        self.assertEqual(TimeSlot.objects.get(pk=slot.pk).start, ist(6, 8))

    def test_moving_a_slot_into_the_past_is_refused(self):
        slot = TimeSlotFactory(start=ist(5, 7))
        before = db_state()

        response = self.post_change(slot, self.moved(slot, ist(-1, 7)))

        self.assertIn("start", self.form_errors(response))
        self.assertEqual(db_state(), before)

    def test_changing_the_capacity_of_a_past_slot_keeps_its_times(self):
        slot = move_into_the_past(TimeSlotFactory(capacity=5))

        response = self.post_change(slot, self.change_data(slot, capacity="6"))

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        saved = TimeSlot.objects.get(pk=slot.pk)
        self.assertEqual((saved.start, saved.end, saved.capacity), (slot.start, slot.end, 6))

    def test_an_end_before_the_start_is_a_form_error(self):
        slot = TimeSlotFactory(start=ist(5, 7))
        before = db_state()

        response = self.post_change(slot, self.change_data(slot, **split(ist(5, 6), "end")))

        self.assertEqual(
            self.form_errors(response)["end"], ["A time slot must end after it starts."]
        )
        self.assertEqual(db_state(), before)

    def test_capacity_below_booked_is_a_form_error_not_a_500(self):
        slot = TimeSlotFactory(capacity=5)
        book(slot)
        book(slot)
        before = db_state()

        response = self.post_change(slot, self.change_data(slot, capacity="1"))

        self.assertIn("capacity", self.form_errors(response))
        self.assertEqual(db_state(), before)

    def test_capacity_equal_to_booked_is_saved(self):
        slot = TimeSlotFactory(capacity=5)
        book(slot)
        book(slot)

        response = self.post_change(slot, self.change_data(slot, capacity="2"))

        self.assertEqual(response.status_code, 302)
        slot.refresh_from_db()
        self.assertEqual((slot.capacity, slot.booked), (2, 2))

    def test_capacity_above_500_is_a_form_error(self):
        slot = TimeSlotFactory()

        response = self.post_change(slot, self.change_data(slot, capacity="501"))

        self.assertIn("capacity", self.form_errors(response))
        self.assertEqual(TimeSlot.objects.get(pk=slot.pk).capacity, 10)

    def test_adding_a_slot_that_overlaps_the_instructors_other_slot_is_refused(self):
        taken = TimeSlotFactory(start=ist(5, 7))
        session = SessionFactory(instructor=taken.session.instructor)
        data = {"session": str(session.pk), **self.moved(taken, ist(5, 7, 30))}

        response = self.client.post(f"{SLOTS_URL}add/", data)

        self.assertIn("start", self.form_errors(response))
        self.assertEqual(TimeSlot.objects.count(), 1)

    def test_adding_a_slot_that_follows_the_rules_is_saved(self):
        taken = TimeSlotFactory(start=ist(5, 7))
        session = SessionFactory(instructor=taken.session.instructor)
        data = {"session": str(session.pk), **self.moved(taken, ist(5, 8))}

        response = self.client.post(f"{SLOTS_URL}add/", data)

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        self.assertEqual(session.time_slots.get().start, ist(5, 8))


class TimeSlotEditRaceTests(TransactionTestCase):
    """Real threads, each with its own connection: staff edit a slot while
    clients book and cancel on it."""

    CLIENTS = 12
    ROUNDS = 4
    EDITS = 8

    def test_editing_a_slot_while_clients_book_and_cancel_keeps_its_counter_true(self):
        superuser = User.objects.create_superuser(
            email="boss@example.com", password=PASSWORD, name="Boss"
        )
        slot = TimeSlotFactory(capacity=self.CLIENTS)
        clients = [ClientFactory() for _ in range(self.CLIENTS)]
        form = {**split(slot.start, "start"), **split(slot.end, "end"), **ACTION_LOG_FORMS}

        def work(index, barrier):
            if index == self.CLIENTS:
                browser = Client()
                browser.force_login(superuser)
                barrier.wait()
                return [
                    browser.post(
                        f"{SLOTS_URL}{slot.pk}/change/",
                        {**form, "capacity": str(self.CLIENTS + edit % 2)},
                    ).status_code
                    for edit in range(self.EDITS)
                ]
            barrier.wait()
            for _ in range(self.ROUNDS):
                booking = booking_services.booking_create(
                    client=clients[index], time_slot_id=slot.pk
                )
                booking_services.booking_cancel(booking=booking)
            return booking_services.booking_create(client=clients[index], time_slot_id=slot.pk)

        results = race(self.CLIENTS + 1, work)

        self.assertEqual(results[-1], [302] * self.EDITS, results[-1])
        # A stale counter saved by the admin shows as a booking refused by the
        # database, or as a counter that no longer matches the bookings.
        outcomes = Counter(type(result).__name__ for result in results[:-1])
        self.assertEqual(outcomes, {"Booking": self.CLIENTS}, str(results[:-1])[:500])
        slot.refresh_from_db()
        confirmed = Booking.objects.filter(time_slot=slot, status=BookingStatus.CONFIRMED)
        self.assertEqual((slot.booked, confirmed.count()), (self.CLIENTS, self.CLIENTS))
        self.assertEqual(slot.capacity, self.CLIENTS + (self.EDITS - 1) % 2)
