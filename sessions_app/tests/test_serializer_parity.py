"""The time slots' hand-built answers (built directly for speed) are exactly
what DRF's own field-by-field serialization of the declared fields gives, for
every kind of slot and every viewing zone."""

import json
from datetime import timedelta

from django.test import RequestFactory, TestCase
from django.utils.timezone import now
from rest_framework import serializers
from rest_framework.request import Request

from accounts.tests.factories import ClientFactory
from bookings.tests.factories import make_slot, move_to_past
from core import timezones
from sessions_app.models import Session, TimeSlot
from sessions_app.selectors import (
    PublicTimetable,
    public_slots,
    session_detail_queryset,
    session_detail_rows,
    session_list_public,
)
from sessions_app.serializers import (
    OwnerTimeSlotSerializer,
    SessionDetailSerializer,
    SessionSerializer,
    TimeSlotSerializer,
    owner_session,
    timetable_session,
)
from testing.bookings import book, cancel_slot, wait


def request_in(zone: str | None) -> Request:
    query = {"tz": zone} if zone else {}
    return Request(RequestFactory().get("/api/public/sessions/", query))


def drf_fields(serializer_class, slot: TimeSlot, context: dict) -> dict:
    """The slot as DRF serializes the declared fields one by one."""
    serializer = serializer_class(context=context)
    return dict(serializers.ModelSerializer.to_representation(serializer, slot))


class SlotSerializerParityTests(TestCase):
    def slots(self) -> list[TimeSlot]:
        open_slot = make_slot(capacity=3)
        book(open_slot)
        full = make_slot(capacity=1, start=now() + timedelta(days=2))
        book(full)
        wait(full, ClientFactory())
        cancelled = make_slot(start=now() + timedelta(days=3))
        book(cancelled)
        cancel_slot(cancelled)
        past = make_slot(start=now() + timedelta(days=4))
        book(past)
        waiter = make_slot(capacity=1, start=now() + timedelta(days=5))
        book(waiter)
        wait(waiter, ClientFactory())
        move_to_past(past)
        move_to_past(waiter, ago=timedelta(minutes=10))
        pks = [open_slot.pk, full.pk, cancelled.pk, past.pk, waiter.pk]
        return pks

    def test_public_slots_match_drf_in_every_zone(self):
        pks = self.slots()
        statuses = set()
        for zone in [None, "America/New_York", "Asia/Kolkata", "UTC"]:
            context = {"request": request_in(zone)}
            for slot in TimeSlot.objects.filter(pk__in=pks).select_related("session"):
                with self.subTest(zone=zone, slot=slot.status):
                    fast = TimeSlotSerializer(slot, context=context).data
                    self.assertEqual(dict(fast), drf_fields(TimeSlotSerializer, slot, context))
                    statuses.add(slot.status)
        self.assertEqual(statuses, {"open", "full", "cancelled", "past"})

    def test_the_owner_detail_read_as_rows_matches_the_detail_serializer(self):
        pks = self.slots()
        sessions = session_detail_queryset().filter(time_slots__pk__in=pks).distinct()
        compared = 0
        for zone in [None, "America/New_York"]:
            request = request_in(zone)
            for session in sessions:
                with self.subTest(zone=zone, session=session.pk):
                    rows = session_detail_rows(Session.objects.get(pk=session.pk))
                    fast = owner_session(rows, timezones.viewing_zone(request), now())
                    drf = SessionDetailSerializer(session, context={"request": request}).data
                    self.assertEqual(json.loads(json.dumps(fast)), json.loads(json.dumps(drf)))
                    self.assertTrue(any(slot["bookings"] for slot in fast["time_slots"]))
                    compared += 1
        self.assertEqual(compared, 2 * len(pks))

    def test_owner_slots_with_their_bookings_match_drf(self):
        pks = self.slots()
        sessions = session_detail_queryset().filter(time_slots__pk__in=pks).distinct()
        compared = 0
        for zone in [None, "America/New_York"]:
            context = {"request": request_in(zone)}
            for session in sessions:
                for slot in session.time_slots.all():
                    with self.subTest(zone=zone, slot=slot.status):
                        fast = OwnerTimeSlotSerializer(slot, context=context).data
                        expected = drf_fields(OwnerTimeSlotSerializer, slot, context)
                        self.assertEqual(
                            json.loads(json.dumps(fast)), json.loads(json.dumps(expected))
                        )
                        self.assertTrue(fast["bookings"])
                        compared += 1
        self.assertEqual(compared, 2 * len(pks))


class TimetableRowParityTests(TestCase):
    """The public list's rows (read without model instances) show each session
    exactly as SessionSerializer shows the same session with the same slots."""

    def test_timetable_rows_match_the_session_serializer(self):
        open_slot = make_slot(capacity=3, title="Open")
        book(open_slot)
        full = make_slot(capacity=1, start=now() + timedelta(days=2), title="Full")
        book(full)
        wait(full, ClientFactory())
        session = open_slot.session
        session.rrule = "FREQ=WEEKLY;BYDAY=MO"
        session.rrule_start = now() + timedelta(days=7)
        session.rrule_minutes = 45
        session.rrule_capacity = 8
        session.save()
        compared = 0
        for zone in [None, "America/New_York", "UTC"]:
            request = request_in(zone)
            at = now()
            slots = public_slots(zone=timezones.viewing_zone(request))
            rows = PublicTimetable(Session.objects.all(), slots=slots, narrowed=False)[0:20]
            expected = session_list_public(Session.objects.all(), slots=slots)
            self.assertEqual([row["id"] for row in rows], [s.pk for s in expected])
            for row, session in zip(rows, expected, strict=True):
                with self.subTest(zone=zone, session=session.title):
                    fast = timetable_session(row, timezones.viewing_zone(request), at)
                    drf = SessionSerializer(session, context={"request": request}).data
                    self.assertEqual(json.loads(json.dumps(fast)), json.loads(json.dumps(drf)))
                    compared += 1
        self.assertEqual(compared, 6)
