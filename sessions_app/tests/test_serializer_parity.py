"""The timetable's resources each have one rendering, on rows: a time slot
(`slot_render`) and a session (`session_render`). Shown from the rows the
selectors read, or from a model instance through its serializer, each is
exactly what DRF's own serialization of the serializer's declared fields (what
the schema describes) gives, for every kind of slot and every viewing zone."""

from datetime import timedelta

from django.test import TestCase
from django.utils.timezone import now

from accounts.tests.factories import ClientFactory
from bookings.tests.factories import book, make_slot, slots_of_every_kind, wait
from core import timezones
from sessions_app.models import Session, TimeSlot
from sessions_app.selectors import (
    SLOT_COLUMNS,
    PublicTimetable,
    public_slots,
    session_list_public,
)
from sessions_app.serializers import (
    SessionSerializer,
    TimeSlotSerializer,
    session_render,
    slot_render,
)
from testing.rendering import as_json, declared_representation, request_in


class TimeSlotParityTests(TestCase):
    def test_a_slot_from_its_row_or_its_serializer_is_what_drf_makes_of_the_fields(self):
        pks = slots_of_every_kind()
        rows = {row["id"]: row for row in TimeSlot.objects.filter(pk__in=pks).values(*SLOT_COLUMNS)}
        statuses = set()
        for zone in [None, "America/New_York", "Asia/Kolkata", "UTC"]:
            request = request_in(zone)
            context = {"request": request}
            for slot in TimeSlot.objects.filter(pk__in=pks).select_related("session"):
                with self.subTest(zone=zone, slot=slot.status):
                    expected = declared_representation(TimeSlotSerializer, slot, context)
                    shown = TimeSlotSerializer(slot, context=context).data
                    self.assertEqual(dict(shown), expected)
                    from_row = slot_render(rows[slot.pk], timezones.viewing_zone(request), now())
                    self.assertEqual(from_row, expected)
                    statuses.add(slot.status)
        self.assertEqual(statuses, {"open", "full", "cancelled", "past"})


class SessionParityTests(TestCase):
    """The public list's rows (read without model instances) show each session
    exactly as SessionSerializer shows the same session with the same slots,
    and that is what DRF makes of SessionSerializer's fields."""

    def test_a_session_from_its_rows_or_its_serializer_is_what_drf_makes_of_the_fields(self):
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
            context = {"request": request}
            at = now()
            slots = public_slots(zone=timezones.viewing_zone(request))
            rows = PublicTimetable(Session.objects.all(), slots=slots, narrowed=False)[0:20]
            expected = session_list_public(Session.objects.all(), slots=slots)
            self.assertEqual([row["id"] for row in rows], [s.pk for s in expected])
            for row, session in zip(rows, expected, strict=True):
                with self.subTest(zone=zone, session=session.title):
                    drf = declared_representation(SessionSerializer, session, context)
                    shown = SessionSerializer(session, context=context).data
                    from_rows = session_render(row, timezones.viewing_zone(request), at)
                    self.assertEqual(as_json(shown), as_json(drf))
                    self.assertEqual(as_json(from_rows), as_json(drf))
                    compared += 1
        self.assertEqual(compared, 6)
