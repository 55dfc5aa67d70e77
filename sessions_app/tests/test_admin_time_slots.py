"""The Django admin of time slots, used by a superuser: the change list, its
cancel action, the change form, and edits racing bookings."""

from collections import Counter
from datetime import datetime, timedelta
from itertools import count

from django.test import Client, TransactionTestCase
from django.utils.timezone import now

from accounts.models import User
from accounts.tests.factories import PASSWORD, ClientFactory
from bookings import services as booking_services
from bookings.models import Booking, BookingStatus
from bookings.tests.factories import book, book_and_cancel, cancel_slot, move_to_past
from sessions_app.models import TimeSlot
from sessions_app.tests.factories import SessionFactory, TimeSlotFactory
from testing.admin import ACTION_LOG_FORMS, SLOTS_URL, AdminTestCase, admin_inputs, column, shown
from testing.races import race
from testing.timetable import db_state, ist


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
        past = move_to_past(TimeSlotFactory(), ago=timedelta(hours=2))
        cancelled = TimeSlotFactory()
        cancel_slot(cancelled)
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
        cancel_slot(before)

        response = self.cancel(first, second, before)

        self.assertContains(response, "Cancelled 2 slots and 3 bookings.")
        self.assertContains(response, "Skipped 1 slot that was already cancelled.")
        self.assertEqual(TimeSlot.objects.get(pk=before.pk).cancelled_at, before.cancelled_at)
        self.assertEqual(TimeSlot.objects.filter(is_cancelled=True).count(), 3)

    def test_cancel_action_on_cancelled_slots_only_reports_that_it_skipped_them(self):
        slot = TimeSlotFactory()
        cancel_slot(slot)

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
            **admin_inputs(slot.start, "start"),
            **admin_inputs(slot.end, "end"),
            "capacity": str(slot.capacity),
            **ACTION_LOG_FORMS,
        }
        data.update(changes)
        return data

    def moved(self, slot: TimeSlot, start: datetime, hours: float = 1) -> dict[str, str]:
        return self.change_data(
            slot,
            **admin_inputs(start, "start"),
            **admin_inputs(start + timedelta(hours=hours), "end"),
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
        slot = move_to_past(TimeSlotFactory(capacity=5), ago=timedelta(hours=2))

        response = self.post_change(slot, self.change_data(slot, capacity="6"))

        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        saved = TimeSlot.objects.get(pk=slot.pk)
        self.assertEqual((saved.start, saved.end, saved.capacity), (slot.start, slot.end, 6))

    def test_an_end_before_the_start_is_a_form_error(self):
        slot = TimeSlotFactory(start=ist(5, 7))
        before = db_state()

        response = self.post_change(slot, self.change_data(slot, **admin_inputs(ist(5, 6), "end")))

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
        form = {
            **admin_inputs(slot.start, "start"),
            **admin_inputs(slot.end, "end"),
            **ACTION_LOG_FORMS,
        }

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
                    client=clients[index], time_slot_id=slot.pk, by=None
                )
                booking_services.booking_cancel(booking=booking, by=None)
            return booking_services.booking_create(
                client=clients[index], time_slot_id=slot.pk, by=None
            )

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
