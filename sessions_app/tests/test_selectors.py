"""The reads of sessions cost a fixed number of queries whatever their length,
measured through the HTTP endpoints."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework import status

from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings.tests.factories import book, move_to_past
from core import timezones
from sessions_app import selectors
from sessions_app.models import Session
from sessions_app.tests.factories import SessionFactory, TimeSlotFactory
from testing.api import INSTRUCTOR_LIST, PUBLIC, SESSIONS, SessionApiTestCase, detail_url, sign_in
from testing.timetable import ist

SLOTS_PER_SESSION = 4
PAGE_SIZES = [5, 100]
MANY = 25


@contextmanager
def rolled_back() -> Iterator[None]:
    """Runs the block in a transaction that is rolled back afterwards, so each
    subtest starts from the same data."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


class QueryCountTests(SessionApiTestCase):
    def setUp(self):
        super().setUp()
        self.instructor = InstructorFactory()
        self.clients = ClientFactory.create_batch(2)

    def add_session(self, *, bookings_per_slot: int = 1) -> Session:
        """A session of the instructor with a past slot and upcoming slots
        that hold bookings (one of them cancelled)."""
        # Each session's slots start at their own time of day, so the same
        # clients can book them all.
        offset = timedelta(minutes=40 * Session.objects.count())
        session = SessionFactory(instructor=self.instructor)
        for day in range(3, 3 + SLOTS_PER_SESSION):
            start = ist(day, 0) + offset
            slot = TimeSlotFactory(session=session, start=start, end=start + timedelta(minutes=30))
            for client in self.clients[:bookings_per_slot]:
                book(slot, client)
        start = ist(2, 0) + offset
        past = TimeSlotFactory(session=session, start=start, end=start + timedelta(minutes=30))
        book(past, self.clients[0])
        move_to_past(past, ago=timedelta(hours=2))
        return session

    def count_queries(self, url: str, params: dict) -> tuple[int, dict]:
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(url, params)
        self.assertEqual(response.status_code, status.HTTP_200_OK, response.content)
        return len(queries), response.json()

    def assert_list_cost_is_constant(
        self, url: str, page_size: int, slots: int, **filters: str
    ) -> int:
        """`url` costs as many queries for one session as for MANY sessions
        with `slots` slots each shown; returns that number."""
        params = {"page_size": page_size, **filters}
        self.add_session()
        one, body = self.count_queries(url, params)
        self.assertEqual(len(body["results"]), 1)
        for _ in range(MANY - 1):
            self.add_session()

        with self.assertNumQueries(one):
            response = self.client.get(url, params)

        body = response.json()
        self.assertEqual(body["count"], MANY)
        self.assertEqual(len(body["results"]), min(page_size, MANY))
        self.assertTrue(all(len(s["time_slots"]) == slots for s in body["results"]))
        return one

    def test_public_list_costs_at_most_5_queries_whatever_its_length(self):
        for viewer in [None, self.clients[1]]:
            for page_size in PAGE_SIZES:
                with self.subTest(viewer=viewer, page_size=page_size), rolled_back():
                    sign_in(self.client, viewer)

                    queries = self.assert_list_cost_is_constant(
                        PUBLIC, page_size, slots=SLOTS_PER_SESSION
                    )

                    # count, the walk to the page's sessions, the sessions,
                    # their slots; and the signed-in user
                    self.assertLessEqual(queries, 5 if viewer else 4)

    def test_public_list_with_filters_costs_the_same_whatever_its_length(self):
        sign_in(self.client, None)
        day = ist(4, 0).date().isoformat()
        for page_size in PAGE_SIZES:
            with self.subTest(page_size=page_size), rolled_back():
                queries = self.assert_list_cost_is_constant(
                    PUBLIC,
                    page_size,
                    slots=SLOTS_PER_SESSION - 1,
                    date_from=day,
                    available="true",
                    category="yoga",
                    search="Session",
                )

                self.assertLessEqual(queries, 4)

    def test_instructor_list_costs_the_same_whatever_its_length(self):
        sign_in(self.client, self.instructor)
        for url in [SESSIONS, INSTRUCTOR_LIST]:
            for page_size in PAGE_SIZES:
                with self.subTest(url=url, page_size=page_size), rolled_back():
                    queries = self.assert_list_cost_is_constant(
                        url, page_size, slots=SLOTS_PER_SESSION + 1
                    )

                    # the user, count, sessions, slots
                    self.assertLessEqual(queries, 4)

    def test_owner_detail_costs_the_same_whatever_the_slots_and_bookings(self):
        sign_in(self.client, self.instructor)
        small = SessionFactory(instructor=self.instructor)
        # Midday tomorrow, clear of every slot `add_session` makes (around
        # midnight, from the day after), whatever the time of day now.
        start = ist(1, 12)
        book(
            TimeSlotFactory(session=small, start=start, end=start + timedelta(hours=1)),
            self.clients[0],
        )
        few, body = self.count_queries(detail_url(small.pk), {})
        self.assertEqual(len(body["time_slots"]), 1)
        for _ in range(MANY - 1):
            self.add_session()
        large = self.add_session(bookings_per_slot=2)

        with self.assertNumQueries(few):
            response = self.client.get(detail_url(large.pk))

        slots = response.json()["time_slots"]
        self.assertEqual(len(slots), SLOTS_PER_SESSION + 1)
        self.assertEqual(sum(len(slot["bookings"]) for slot in slots), 2 * SLOTS_PER_SESSION + 1)
        # the user, the session, its slots, their bookings with their clients
        self.assertLessEqual(few, 4)

    def test_public_detail_costs_the_same_whatever_the_slots(self):
        sign_in(self.client, None)
        small = TimeSlotFactory().session
        few, _ = self.count_queries(f"{PUBLIC}{small.pk}/", {})
        large = self.add_session(bookings_per_slot=2)

        with self.assertNumQueries(few):
            response = self.client.get(f"{PUBLIC}{large.pk}/")

        self.assertEqual(len(response.json()["time_slots"]), SLOTS_PER_SESSION)


class TimetableOrderTests(SessionApiTestCase):
    """The public list's walk over the slots orders the sessions exactly as
    ordering every session by its first shown slot would, across batches of
    the walk and with sessions whose first slots start at the same moment."""

    def test_pages_follow_the_first_shown_slot_then_the_session_id(self):
        instructor = InstructorFactory()
        sessions = SessionFactory.create_batch(12, instructor=instructor)
        # Sessions 0-3 share their first start; a busy session has many early
        # slots, so later sessions are met only after several batches.
        for index, session in enumerate(sessions):
            first = ist(3, 0) if index < 4 else ist(3, 0) + timedelta(hours=index)
            for day in range(3):
                start = first + timedelta(days=day)
                TimeSlotFactory(session=session, start=start, end=start + timedelta(minutes=30))
        busy = sessions[5]
        for hour in range(1, 30):
            start = ist(3, 0) + timedelta(minutes=hour * 3)
            TimeSlotFactory(session=busy, start=start, end=start + timedelta(minutes=2))
        slots = selectors.public_slots(zone=timezones.studio_zone())
        expected = [s.pk for s in selectors.session_list_public(Session.objects.all(), slots=slots)]
        self.assertEqual(len(expected), 12)

        with mock.patch.object(selectors, "PAGE_WALK_FIRST", 1):
            timetable = selectors.PublicTimetable(
                Session.objects.all(), slots=slots, narrowed=False
            )
            self.assertEqual(timetable.count(), 12)
            walks = []
            for start, stop in [(0, 5), (5, 10), (10, 15), (0, 12)]:
                with self.subTest(page=(start, stop)):
                    with CaptureQueriesContext(connection) as queries:
                        rows = timetable[start:stop]
                    walks.append(sum("LIMIT" in q["sql"] for q in queries.captured_queries))
                    self.assertEqual([row["id"] for row in rows], expected[start:stop])
                    for row in rows:
                        self.assertEqual(
                            [slot["id"] for slot in row["slots"]],
                            list(slots.filter(session_id=row["id"]).values_list("id", flat=True)),
                        )
            # The busy session's slots made some page walk more than one batch.
            self.assertGreater(max(walks), 1)

    def test_a_narrowed_timetable_counts_and_shows_only_its_sessions(self):
        yoga = SessionFactory(category="yoga")
        SessionFactory(category="spin")
        for session in Session.objects.all():
            TimeSlotFactory(session=session, start=ist(3, 9), end=ist(3, 10))
        slots = selectors.public_slots(zone=timezones.studio_zone())

        timetable = selectors.PublicTimetable(
            Session.objects.filter(category="yoga"), slots=slots, narrowed=True
        )

        self.assertEqual(timetable.count(), 1)
        self.assertEqual([row["id"] for row in timetable[0:20]], [yoga.pk])
