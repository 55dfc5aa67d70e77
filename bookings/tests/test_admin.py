import re
from datetime import timedelta
from itertools import count

from django.utils.timezone import now
from rest_framework import status

from accounts.tests.factories import ClientFactory
from bookings import services
from bookings.models import Attendance, Booking, BookingStatus
from bookings.tests.factories import book, make_slot, wait
from testing.admin import AdminTestCase, column, shown
from testing.timetable import ist

CHANGELIST = "/admin/bookings/booking/"


class BookingAdminTests(AdminTestCase):
    def setUp(self):
        super().setUp()
        self.ana = ClientFactory(email="ana.lopez@example.com")
        self.bob = ClientFactory(email="bob.stone@example.com")
        self.kept = book(make_slot(title="Power Spin"), self.ana)
        self.dropped = services.booking_cancel(
            booking=book(make_slot(title="Zumba"), self.bob), by=None
        )

    def test_changelist_loads_for_a_superuser_with_every_booking(self):
        response = self.client.get(CHANGELIST)

        self.assertEqual(self.listed(response), {self.kept.pk, self.dropped.pk})
        self.assertContains(response, "ana.lopez@example.com")
        self.assertContains(response, "Power Spin")

    def test_changelist_filters_by_status(self):
        cancelled = self.client.get(CHANGELIST, {"status__exact": BookingStatus.CANCELLED})
        confirmed = self.client.get(CHANGELIST, {"status__exact": BookingStatus.CONFIRMED})

        self.assertEqual(self.listed(cancelled), {self.dropped.pk})
        self.assertEqual(self.listed(confirmed), {self.kept.pk})

    def test_changelist_searches_by_client_email(self):
        response = self.client.get(CHANGELIST, {"q": "ana.lopez"})

        self.assertEqual(self.listed(response), {self.kept.pk})
        self.assertNotContains(response, "bob.stone@example.com")

    def test_changelist_searches_by_session_title(self):
        response = self.client.get(CHANGELIST, {"q": "zumba"})

        self.assertEqual(self.listed(response), {self.dropped.pk})

    def test_changelist_offers_no_add_and_no_delete_action(self):
        response = self.client.get(CHANGELIST)

        self.assertFalse(response.context["has_add_permission"])
        action_form = response.context["action_form"]
        actions = (
            [value for value, _ in action_form.fields["action"].choices] if action_form else []
        )
        self.assertNotIn("delete_selected", actions)
        self.assertNotContains(response, f"{CHANGELIST}add/")

    def test_add_view_is_forbidden(self):
        response = self.client.get(f"{CHANGELIST}add/")

        self.assertEqual(response.status_code, status.HTTP_403_FORBIDDEN)

    def test_change_view_is_read_only_and_refuses_a_post(self):
        url = f"{CHANGELIST}{self.kept.pk}/change/"

        page = self.client.get(url)
        response = self.client.post(url, {"status": BookingStatus.CANCELLED})

        self.assertEqual(page.status_code, status.HTTP_200_OK)
        self.assertFalse(page.context["has_change_permission"])
        self.assertEqual(response.status_code, status.HTTP_403_FORBIDDEN)
        self.kept.refresh_from_db()
        self.assertEqual(self.kept.status, BookingStatus.CONFIRMED)

    def test_delete_view_is_forbidden_and_keeps_the_booking(self):
        url = f"{CHANGELIST}{self.kept.pk}/delete/"

        page = self.client.get(url)
        response = self.client.post(url, {"post": "yes"})

        self.assertEqual(page.status_code, status.HTTP_403_FORBIDDEN)
        self.assertEqual(response.status_code, status.HTTP_403_FORBIDDEN)
        self.assertTrue(Booking.objects.filter(pk=self.kept.pk).exists())

    def test_changelist_redirects_a_client_to_the_admin_login(self):
        self.client.force_login(self.ana)

        response = self.client.get(CHANGELIST)

        self.assertEqual(response.status_code, status.HTTP_302_FOUND)
        self.assertTrue(response["Location"].startswith("/admin/login/"))


class BookingChangelistTests(AdminTestCase):
    def test_changelist_shows_client_session_slot_start_status_and_created(self):
        slot = make_slot(title="Power Spin", start=ist(2, 7, 30))
        booking = book(slot, ClientFactory(email="ana.lopez@example.com"))

        response = self.client.get(CHANGELIST)

        self.assertEqual(column(response, "client"), ["ana.lopez@example.com"])
        self.assertEqual(column(response, "session"), ["Power Spin"])
        self.assertEqual(column(response, "slot_start"), [shown(ist(2, 7, 30))])
        self.assertEqual(column(response, "status"), ["Confirmed"])
        self.assertEqual(column(response, "created_at"), [shown(booking.created_at)])

    def test_changelist_queries_do_not_grow_with_its_rows(self):
        hours = count(24, 2)

        def add_booking():
            slot = make_slot(start=now() + timedelta(hours=next(hours)))
            book(slot, ClientFactory())

        self.assert_queries_do_not_grow(CHANGELIST, add_booking)

    def test_filtered_changelist_queries_do_not_grow_with_its_rows(self):
        hours = count(24, 2)

        def add_booking():
            slot = make_slot(title="Power Spin", start=now() + timedelta(hours=next(hours)))
            services.booking_cancel(booking=book(slot, ClientFactory()), by=None)

        self.assert_queries_do_not_grow(f"{CHANGELIST}?status__exact=cancelled&q=spin", add_booking)


class BookingLateAndAttendanceTests(AdminTestCase):
    def setUp(self):
        super().setUp()
        self.plain = book(make_slot(title="Plain"))
        self.late = services.booking_cancel(booking=book(make_slot(title="Late")), by=None)
        Booking.objects.filter(pk=self.late.pk).update(late=True)
        self.attended = book(make_slot(title="Came"))
        self.no_show = book(make_slot(title="Stayed away"))
        Booking.objects.filter(pk=self.attended.pk).update(attendance=Attendance.ATTENDED)
        Booking.objects.filter(pk=self.no_show.pk).update(attendance=Attendance.NO_SHOW)

    def test_changelist_shows_late_and_attendance_columns(self):
        response = self.client.get(CHANGELIST)

        late_cells = re.findall(
            r'<td class="field-late">(.*?)</td>', response.content.decode(), re.S
        )
        rows = zip(
            column(response, "session"),
            ['alt="True"' in cell for cell in late_cells],
            column(response, "attendance"),
            strict=True,
        )
        self.assertEqual(
            sorted(rows),
            [
                ("Came", False, "Attended"),
                ("Late", True, "-"),
                ("Plain", False, "-"),
                ("Stayed away", False, "No show"),
            ],
        )

    def test_changelist_filters_by_late(self):
        late = self.client.get(CHANGELIST, {"late__exact": "1"})
        on_time = self.client.get(CHANGELIST, {"late__exact": "0"})

        self.assertEqual(self.listed(late), {self.late.pk})
        self.assertEqual(self.listed(on_time), {self.plain.pk, self.attended.pk, self.no_show.pk})

    def test_changelist_filters_by_attendance_including_not_marked(self):
        cases = {
            "attended": {self.attended.pk},
            "no_show": {self.no_show.pk},
            "none": {self.plain.pk, self.late.pk},
        }
        for value, expected in cases.items():
            with self.subTest(attendance=value):
                response = self.client.get(CHANGELIST, {"attendance": value})

                self.assertEqual(self.listed(response), expected)

    def test_changelist_filters_by_status_including_waitlisted(self):
        waiting = wait(make_slot(title="Queue"))

        response = self.client.get(CHANGELIST, {"status__exact": BookingStatus.WAITLISTED})

        self.assertEqual(self.listed(response), {waiting.pk})
