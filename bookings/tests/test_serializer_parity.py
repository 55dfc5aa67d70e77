"""The bookings app's resources each have one rendering, on rows: a booking
(`booking_render`) and the owner's view of a session, every slot with its
bookings (`session_detail_render`). Shown from the rows the selectors read, or
from a model instance through its serializer, each is exactly what DRF's own
serialization of the serializer's declared fields (what the schema describes)
gives, for every kind of booking and slot and every viewing zone."""

from datetime import timedelta

from django.test import TestCase
from django.utils.timezone import now

from accounts.tests.factories import ClientFactory
from bookings.models import Attendance, Booking
from bookings.selectors import (
    booking_list,
    session_detail_get,
    session_detail_queryset,
    with_waitlist_positions,
)
from bookings.serializers import (
    BookingSerializer,
    OwnerTimeSlotSerializer,
    SessionDetailSerializer,
    SlotBookingSerializer,
    session_detail_render,
)
from bookings.services import booking_cancel
from bookings.tests.factories import book, make_slot, move_to_past, slots_of_every_kind, wait
from core import timezones
from sessions_app.models import Session
from testing.rendering import as_json, declared_representation, request_in


class BookingParityTests(TestCase):
    def test_a_booking_from_its_serializer_is_what_drf_makes_of_the_fields(self):
        client = ClientFactory()
        book(make_slot(capacity=3), client)
        full = make_slot(capacity=1, start=now() + timedelta(days=2))
        book(full)
        wait(full, client)
        late = make_slot(start=now() + timedelta(hours=2))
        booking_cancel(booking=book(late, client), by=client)
        started = make_slot(capacity=1, start=now() + timedelta(days=3))
        book(started)
        wait(started, client)
        move_to_past(started)
        attended = make_slot(start=now() + timedelta(days=4))
        marked = book(attended, client)
        move_to_past(attended)
        Booking.objects.filter(pk=marked.pk).update(attendance=Attendance.ATTENDED)

        statuses = set()
        for zone in [None, "America/New_York", "UTC"]:
            context = {"request": request_in(zone, "/api/bookings/")}
            for booking in with_waitlist_positions(list(booking_list(client=client))):
                with self.subTest(zone=zone, booking=booking.pk):
                    shown = BookingSerializer(booking, context=context).data
                    drf = declared_representation(BookingSerializer, booking, context)
                    self.assertEqual(as_json(shown), as_json(drf))
                    statuses.add((shown["status"], shown["waitlist_position"], shown["late"]))
        self.assertEqual(
            statuses,
            {
                ("confirmed", None, False),
                ("waitlisted", 1, False),
                ("cancelled", None, True),
                ("expired", None, False),
                ("confirmed", None, False),
            },
        )


class SessionDetailParityTests(TestCase):
    """The owner's detail read as rows (`session_detail_get`), and a session
    of `session_detail_queryset` through SessionDetailSerializer, its slots
    through OwnerTimeSlotSerializer and their bookings through
    SlotBookingSerializer, are each what DRF makes of the declared fields."""

    def test_the_owner_detail_from_its_rows_or_its_serializers_is_what_drf_makes_of_the_fields(
        self,
    ):
        pks = slots_of_every_kind()
        sessions = session_detail_queryset().filter(time_slots__pk__in=pks).distinct()
        compared = slots_compared = bookings_compared = 0
        for zone in [None, "America/New_York"]:
            request = request_in(zone)
            context = {"request": request}
            for session in sessions:
                with self.subTest(zone=zone, session=session.pk):
                    rows = session_detail_get(session=Session.objects.get(pk=session.pk))
                    from_rows = session_detail_render(rows, timezones.viewing_zone(request), now())
                    shown = SessionDetailSerializer(session, context=context).data
                    drf = declared_representation(SessionDetailSerializer, session, context)
                    self.assertEqual(as_json(from_rows), as_json(drf))
                    self.assertEqual(as_json(shown), as_json(drf))
                    self.assertTrue(any(slot["bookings"] for slot in from_rows["time_slots"]))
                    compared += 1
                for slot in session.time_slots.all():
                    with self.subTest(zone=zone, slot=slot.status):
                        shown = OwnerTimeSlotSerializer(slot, context=context).data
                        drf = declared_representation(OwnerTimeSlotSerializer, slot, context)
                        self.assertEqual(as_json(shown), as_json(drf))
                        self.assertTrue(shown["bookings"])
                        slots_compared += 1
                    for booking in slot.bookings.all():
                        shown = SlotBookingSerializer(booking, context=context).data
                        drf = declared_representation(SlotBookingSerializer, booking, context)
                        self.assertEqual(as_json(shown), as_json(drf))
                        bookings_compared += 1
        self.assertEqual(compared, 2 * len(pks))
        self.assertEqual(slots_compared, 2 * len(pks))
        self.assertEqual(bookings_compared, 2 * 7)
