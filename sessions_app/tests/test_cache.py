"""The public timetable cache: fast repeated reads, never a stale one after a write."""

from datetime import timedelta
from unittest import mock

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.db import connection, transaction
from django.test import TransactionTestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import localtime, now
from rest_framework.test import APIClient

from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings.services import booking_create
from bookings.tests.factories import cancel_slot
from sessions_app import cache as timetable_cache
from sessions_app.models import Session
from sessions_app.tests.factories import SessionFactory, TimeSlotFactory
from testing.api import PUBLIC, sign_in
from testing.processes import free_port


def signed_in(user) -> APIClient:
    client = APIClient()
    sign_in(client, user)
    return client


def slot_of(body: dict) -> dict:
    return body["results"][0]["time_slots"][0]


@override_settings(STUDIO_TIMETABLE_CACHE_SECONDS=300, STUDIO_TIMETABLE_CACHE_SHARED=True)
class TimetableCacheTests(TransactionTestCase):
    """Real commits (TransactionTestCase), so the version moves after commit
    as it does in production. The suite's cache stands for the one every
    worker shares."""

    def setUp(self):
        cache.clear()
        self.instructor = InstructorFactory(name="Priya")
        self.session = SessionFactory(instructor=self.instructor, title="Morning Yoga")
        self.slot = TimeSlotFactory(session=self.session, capacity=3)
        self.reader = APIClient()
        self.booker = ClientFactory()

    def read(self, path=PUBLIC, **params) -> dict:
        response = self.reader.get(path, params)
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    def test_a_repeated_read_is_served_from_the_cache(self):
        first = self.read()
        with self.assertNumQueries(0):  # two cache lookups: the version and the answer
            second = self.read()
        self.assertEqual(first, second)

    def test_a_cached_read_is_one_round_trip_to_the_cache(self):
        self.read(category=self.session.category)
        calls = []
        real = timetable_cache.cache

        class Counted:
            def __getattr__(self, name):
                calls.append(name)
                return getattr(real, name)

        with mock.patch.object(timetable_cache, "cache", Counted()), self.assertNumQueries(0):
            self.read(category=self.session.category, page="1", page_size="20")

        self.assertEqual(calls, ["get_many"])

    def test_an_answer_kept_at_an_earlier_version_is_not_served(self):
        self.read()
        timetable_cache._bump((timetable_cache.VERSION_KEY,))

        with self.assertNumQueries(4):  # built again (the count is kept)
            self.read()

    def test_a_booking_by_one_client_shows_in_the_next_read_of_another(self):
        self.assertEqual(slot_of(self.read())["booked"], 0)

        response = signed_in(self.booker).post("/api/bookings/", {"time_slot": self.slot.pk})

        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(slot_of(self.read())["booked"], 1)

    def test_a_cancellation_shows_in_the_next_read(self):
        booking = booking_create(client=self.booker, time_slot_id=self.slot.pk, by=None)
        self.assertEqual(slot_of(self.read())["available"], 2)

        response = signed_in(self.booker).post(f"/api/bookings/{booking.pk}/cancel/")

        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(slot_of(self.read())["available"], 3)

    def test_a_slot_change_shows_in_the_next_read(self):
        self.read()
        item = {
            "id": self.slot.pk,
            "start": self.slot.start.isoformat(),
            "end": self.slot.end.isoformat(),
            "capacity": 9,
        }

        response = signed_in(self.instructor).patch(
            f"/api/sessions/{self.session.pk}/", {"time_slots": [item]}, format="json"
        )

        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(slot_of(self.read())["capacity"], 9)

    def test_a_new_session_shows_in_the_next_read(self):
        self.assertEqual(self.read()["count"], 1)
        start = now() + timedelta(days=3)
        body = {
            "title": "Zumba",
            "category": "zumba",
            "time_slots": [
                {
                    "start": start.isoformat(),
                    "end": (start + timedelta(hours=1)).isoformat(),
                    "capacity": 5,
                }
            ],
        }

        response = signed_in(self.instructor).post("/api/sessions/", body, format="json")

        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(self.read()["count"], 2)

    def test_a_deleted_session_leaves_the_next_read(self):
        self.assertEqual(self.read()["count"], 1)

        response = signed_in(self.instructor).delete(f"/api/sessions/{self.session.pk}/")

        self.assertEqual(response.status_code, 204, response.content)
        self.assertEqual(self.read()["count"], 0)

    def test_a_slot_the_studio_cancels_leaves_the_next_read(self):
        self.read(f"{PUBLIC}{self.session.pk}/")

        cancel_slot(self.slot)

        response = self.reader.get(f"{PUBLIC}{self.session.pk}/")
        self.assertEqual(response.status_code, 404)

    def test_an_instructor_renaming_shows_in_the_next_read(self):
        self.assertEqual(self.read()["results"][0]["instructor"]["name"], "Priya")

        response = signed_in(self.instructor).patch("/api/me/", {"name": "Priya S."})

        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(self.read()["results"][0]["instructor"]["name"], "Priya S.")

    def test_a_slot_edited_in_the_admin_shows_in_the_next_read(self):
        self.read()
        staff = get_user_model().objects.create_superuser(
            email="boss@studio.example", password="Very-Strong-99", name="Boss"
        )
        admin = APIClient()
        admin.force_login(staff)
        start, end = localtime(self.slot.start), localtime(self.slot.end)  # the admin's zone
        form = {
            "session": self.session.pk,
            "start_0": start.strftime("%Y-%m-%d"),
            "start_1": start.strftime("%H:%M:%S"),
            "end_0": end.strftime("%Y-%m-%d"),
            "end_1": end.strftime("%H:%M:%S"),
            "capacity": 7,
            # The page's read-only action log, an empty formset.
            "core-actionlogentry-content_type-object_id-TOTAL_FORMS": 0,
            "core-actionlogentry-content_type-object_id-INITIAL_FORMS": 0,
        }
        response = admin.post(
            f"/admin/sessions_app/timeslot/{self.slot.pk}/change/", form, format="multipart"
        )

        self.assertEqual(response.status_code, 302, response.content[:500])
        self.assertEqual(slot_of(self.read())["capacity"], 7)

    def test_each_viewing_zone_gets_its_own_answer(self):
        india = slot_of(self.read())["timezone"]
        new_york = slot_of(self.read(tz="America/New_York"))["timezone"]
        self.assertEqual((india, new_york), ("Asia/Kolkata", "America/New_York"))

    def test_workers_sharing_the_cache_read_a_write_of_another_at_once(self):
        shared = LocMemCache("shared", {})
        worker_one, worker_two = shared, shared
        with mock.patch.object(timetable_cache, "cache", worker_one):
            self.assertEqual(slot_of(self.read())["booked"], 0)
        with mock.patch.object(timetable_cache, "cache", worker_two):
            signed_in(self.booker).post("/api/bookings/", {"time_slot": self.slot.pk})
        with mock.patch.object(timetable_cache, "cache", worker_one):
            self.assertEqual(slot_of(self.read())["booked"], 1)

    @override_settings(STUDIO_TIMETABLE_CACHE_SHARED=False)
    def test_workers_with_caches_of_their_own_cache_nothing_and_never_read_stale(self):
        worker_one, worker_two = LocMemCache("worker-1", {}), LocMemCache("worker-2", {})
        with mock.patch.object(timetable_cache, "cache", worker_one):
            self.assertEqual(slot_of(self.read())["booked"], 0)
        with mock.patch.object(timetable_cache, "cache", worker_two):
            signed_in(self.booker).post("/api/bookings/", {"time_slot": self.slot.pk})
        with mock.patch.object(timetable_cache, "cache", worker_one):
            self.assertEqual(slot_of(self.read())["booked"], 1)
        self.assertFalse(any(key.startswith(":1:timetable:") for key in worker_one._cache))

    def test_an_unreachable_cache_costs_neither_reads_nor_writes(self):
        down = RedisCache(f"redis://127.0.0.1:{free_port()}/0", {})
        with (
            mock.patch.object(timetable_cache, "cache", down),
            self.assertLogs("sessions_app.cache", "WARNING") as logged,
        ):
            self.assertEqual(slot_of(self.read())["booked"], 0)
            response = signed_in(self.booker).post("/api/bookings/", {"time_slot": self.slot.pk})
            self.assertEqual(response.status_code, 201, response.content)
            self.assertEqual(slot_of(self.read())["booked"], 1)
        self.assertTrue(any("unreachable" in line for line in logged.output))
        self.assertTrue(any("not moved" in line for line in logged.output))

    def test_a_write_that_rolls_back_leaves_the_version_as_it_was(self):
        self.read()
        version = timetable_cache.timetable_version()

        with self.assertRaises(RuntimeError), transaction.atomic():
            booking_create(client=self.booker, time_slot_id=self.slot.pk, by=self.booker)
            raise RuntimeError("the write fails after booking")

        self.assertEqual(timetable_cache.timetable_version(), version)
        self.assertEqual(slot_of(self.read())["booked"], 0)

    def count_queries(self, **params) -> tuple[int, int]:
        """The list's count and how many count queries answering it took."""
        with CaptureQueriesContext(connection) as queries:
            body = self.read(**params)
        return body["count"], sum("COUNT(" in q["sql"] for q in queries.captured_queries)

    def test_a_booking_leaves_the_kept_count_of_a_list_that_does_not_depend_on_seats(self):
        SessionFactory.create_batch(2, instructor=self.instructor)
        for session in Session.objects.exclude(pk=self.session.pk):
            TimeSlotFactory(session=session)
        self.assertEqual(self.count_queries(), (3, 1))

        booking_create(client=self.booker, time_slot_id=self.slot.pk, by=None)

        # The answer is built afresh (the booking shows), its count is kept.
        self.assertEqual(self.count_queries(), (3, 0))
        self.assertEqual(slot_of(self.read(page_size=1))["booked"], 1)

    def test_a_booking_that_takes_the_last_seat_moves_the_count_of_free_seats(self):
        full_soon = TimeSlotFactory(capacity=1)
        self.assertEqual(self.count_queries(available="true"), (2, 1))

        booking_create(client=self.booker, time_slot_id=full_soon.pk, by=None)

        self.assertEqual(self.count_queries(available="true"), (1, 1))

    def test_a_schedule_change_moves_every_kept_count(self):
        other = TimeSlotFactory()
        self.assertEqual(self.count_queries(), (2, 1))
        self.assertEqual(self.count_queries(category=self.session.category), (2, 1))

        cancel_slot(other)

        self.assertEqual(self.count_queries(), (1, 1))
        self.assertEqual(self.count_queries(category=self.session.category), (1, 1))

    def test_a_count_is_kept_per_filter_and_viewing_zone(self):
        self.assertEqual(self.count_queries(), (1, 1))
        self.assertEqual(self.count_queries(tz="America/New_York"), (1, 1))
        self.assertEqual(self.count_queries(search="nothing like it"), (0, 1))
        self.assertEqual(self.count_queries(tz="America/New_York", page_size=5), (1, 0))

    def test_a_lost_version_starts_above_every_earlier_one(self):
        self.read()
        before = timetable_cache.timetable_version()
        cache.delete(timetable_cache.VERSION_KEY)

        self.assertGreater(timetable_cache.timetable_version(), before)


class TimeToLiveTests(TransactionTestCase):
    @override_settings(STUDIO_TIMETABLE_CACHE_SECONDS=300)
    def test_an_answer_lives_until_the_earliest_upcoming_slot_starts(self):
        TimeSlotFactory(start=now() + timedelta(seconds=90))
        TimeSlotFactory(start=now() + timedelta(seconds=30), is_cancelled=True)
        self.assertIn(timetable_cache._seconds_to_live(), range(85, 91))

    @override_settings(STUDIO_TIMETABLE_CACHE_SECONDS=300)
    def test_an_answer_lives_at_most_the_setting(self):
        TimeSlotFactory(start=now() + timedelta(days=2))
        self.assertEqual(timetable_cache._seconds_to_live(), 300)

    @override_settings(STUDIO_TIMETABLE_CACHE_SECONDS=0)
    def test_a_zero_setting_turns_the_cache_off(self):
        TimeSlotFactory()
        APIClient().get(PUBLIC)
        # count, the walk to the page's sessions, the sessions, their slots:
        # built afresh
        with self.assertNumQueries(4):
            APIClient().get(PUBLIC)


@override_settings(
    STUDIO_TIMETABLE_CACHE_SECONDS=300,
    STUDIO_TIMETABLE_CACHE_SHARED=True,
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
)
class TimetableCacheKeyTests(TransactionTestCase):
    """The cache holds one answer per query the timetable reads, whatever else the URL says.

    Local memory whatever the suite's cache, so the test can count the keys."""

    def setUp(self):
        cache.clear()
        TimeSlotFactory(session=SessionFactory(title="Morning Yoga"))
        self.reader = APIClient()

    def cached_keys(self) -> int:
        """How many answers the cache holds."""
        return sum(
            1
            for key in cache._cache
            if f":{timetable_cache.KEY_PREFIX}:" in key
            and not key.endswith((timetable_cache.VERSION_KEY, timetable_cache.SCHEDULE_KEY))
            and f":{timetable_cache.KEY_PREFIX}:count:" not in key
        )

    def cached_counts(self) -> int:
        return sum(1 for key in cache._cache if f":{timetable_cache.KEY_PREFIX}:count:" in key)

    def test_the_same_query_written_differently_is_one_entry(self):
        for query in [
            "?category=yoga&page_size=20",
            "?page_size=20&category=yoga",
            "?category=yoga",
            "?category=yoga&page=1",
        ]:
            with self.subTest(query=query):
                self.assertEqual(self.reader.get(PUBLIC + query).status_code, 200)
        self.assertEqual(self.cached_keys(), 1)
        self.assertEqual(self.cached_counts(), 1)

    def test_unknown_or_repeated_parameters_are_answered_without_filling_the_cache(self):
        for query in ["?junk=1", "?junk=2", "?category=yoga&category=pilates", "?Category=yoga"]:
            with self.subTest(query=query):
                self.assertEqual(self.reader.get(PUBLIC + query).status_code, 200)
        self.assertEqual(self.cached_keys(), 0)
        # A count is kept per set of filters as the list reads them: no
        # filter (the junk is not read), and the category the list read.
        self.assertEqual(self.cached_counts(), 2)

    def test_a_refused_query_is_not_cached(self):
        self.assertEqual(self.reader.get(PUBLIC, {"category": "nope"}).status_code, 400)
        self.assertEqual(self.cached_keys(), 0)
