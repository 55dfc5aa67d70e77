"""The Django admin's change list of sessions, used by a superuser: its
columns, filters and searches."""

from datetime import timedelta
from itertools import count

from django.utils.timezone import now

from accounts.tests.factories import InstructorFactory
from bookings.tests.factories import book, cancel_slot, move_to_past
from sessions_app.tests.factories import SessionFactory, TimeSlotFactory
from testing.admin import SESSIONS_URL, AdminTestCase, column, shown
from testing.timetable import ist


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
        move_to_past(past, ago=timedelta(hours=2))
        cancelled = TimeSlotFactory(session=session, start=ist(1, 7), capacity=20)
        book(cancelled)
        cancel_slot(cancelled)

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
        move_to_past(TimeSlotFactory(session__title="Old Spin"), ago=timedelta(hours=2))

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
        past = move_to_past(TimeSlotFactory(), ago=timedelta(hours=2)).session
        cancelled = TimeSlotFactory()
        cancel_slot(cancelled)
        empty = SessionFactory()
        both = TimeSlotFactory().session
        move_to_past(TimeSlotFactory(session=both, start=ist(5, 7)), ago=timedelta(hours=2))

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
            move_to_past(TimeSlotFactory(session=slot.session), ago=timedelta(hours=2))

        self.assert_queries_do_not_grow(SESSIONS_URL, add_session)

    def test_filtered_changelist_queries_do_not_grow_with_its_rows(self):
        instructor = InstructorFactory()
        days = count(1)

        def add_session():
            book(TimeSlotFactory(session__instructor=instructor, start=ist(next(days), 7)))

        url = f"{SESSIONS_URL}?when=upcoming&instructor__id__exact={instructor.pk}&q=Session"
        self.assert_queries_do_not_grow(url, add_session)
