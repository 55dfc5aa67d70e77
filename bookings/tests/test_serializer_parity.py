"""A booking's hand-built answer (built directly for speed) is exactly what
DRF's own field-by-field serialization of the declared fields gives, for
every kind of booking and every viewing zone."""

import json
from datetime import timedelta

from django.test import RequestFactory, TestCase
from django.utils.timezone import now
from rest_framework import serializers
from rest_framework.request import Request

from accounts.tests.factories import ClientFactory
from bookings.models import Attendance, Booking
from bookings.selectors import booking_list, with_waitlist_positions
from bookings.serializers import BookingSerializer
from bookings.services import booking_cancel
from bookings.tests.factories import make_slot, move_to_past
from testing.bookings import book, wait


def as_json(value) -> object:
    return json.loads(json.dumps(value))


class BookingSerializerParityTests(TestCase):
    def test_bookings_match_drf_in_every_zone(self):
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
            request = Request(RequestFactory().get("/api/bookings/", {"tz": zone} if zone else {}))
            context = {"request": request}
            for booking in with_waitlist_positions(list(booking_list(client=client))):
                with self.subTest(zone=zone, booking=booking.pk):
                    fast = BookingSerializer(booking, context=context).data
                    serializer = BookingSerializer(context=context)
                    drf = serializers.ModelSerializer.to_representation(serializer, booking)
                    self.assertEqual(as_json(fast), as_json(drf))
                    statuses.add((fast["status"], fast["waitlist_position"], fast["late"]))
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
