"""The booking services record who did what in the action log, in the write's
own transaction: an entry exists exactly when its change does."""

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.test import TestCase
from django.utils.timezone import now

from accounts.tests.factories import ClientFactory, InstructorFactory, UserFactory
from bookings import services
from bookings.models import Booking
from core.errors import SlotFullError
from core.models import ActionLogEntry
from sessions_app.models import Category, Session, TimeSlot


def entries_for(obj) -> list[tuple[str, object]]:
    """(action, actor) of the object's entries, oldest first."""
    return [
        (entry.action, entry.actor)
        for entry in ActionLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
        ).order_by("created_at", "id")
    ]


class BookingActionLogTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        session = Session.objects.create(
            instructor=InstructorFactory(), title="Morning Yoga", category=Category.YOGA
        )
        start = now() + timedelta(days=1)
        cls.slot = TimeSlot.objects.create(
            session=session, start=start, end=start + timedelta(hours=1), capacity=1
        )
        cls.alice = ClientFactory()
        cls.bob = ClientFactory()

    def test_booking_create_records_the_booking_by_its_actor(self):
        booking = services.booking_create(
            client=self.alice, time_slot_id=self.slot.pk, by=self.alice
        )
        self.assertEqual(entries_for(booking), [("booking.created", self.alice)])
        entry = ActionLogEntry.objects.get(object_id=booking.pk, action="booking.created")
        self.assertEqual(entry.data, {"time_slot": self.slot.pk})

    def test_a_refused_booking_records_nothing(self):
        services.booking_create(client=self.alice, time_slot_id=self.slot.pk, by=self.alice)
        before = ActionLogEntry.objects.count()
        with self.assertRaises(SlotFullError):
            services.booking_create(client=self.bob, time_slot_id=self.slot.pk, by=self.bob)
        self.assertEqual(ActionLogEntry.objects.count(), before)

    def test_booking_cancel_records_the_cancellation_once(self):
        booking = services.booking_create(
            client=self.alice, time_slot_id=self.slot.pk, by=self.alice
        )
        services.booking_cancel(booking=booking, by=self.alice)
        services.booking_cancel(booking=booking, by=self.alice)  # a no-op the second time
        self.assertEqual(
            entries_for(booking),
            [("booking.created", self.alice), ("booking.cancelled", self.alice)],
        )

    def test_time_slot_cancel_records_the_slot_and_each_booking_by_the_staff_member(self):
        staff = UserFactory(is_staff=True)
        booking = services.booking_create(
            client=self.alice, time_slot_id=self.slot.pk, by=self.alice
        )
        self.assertEqual(services.time_slot_cancel(time_slot=self.slot, by=staff), 1)
        self.assertEqual(entries_for(self.slot), [("time_slot.cancelled", staff)])
        self.assertEqual(entries_for(booking)[-1], ("booking.cancelled", staff))
        self.assertEqual(
            ActionLogEntry.objects.get(action="time_slot.cancelled").data,
            {"bookings_cancelled": 1},
        )

    def test_time_slot_cancel_by_the_system_records_no_actor(self):
        services.time_slot_cancel(time_slot=self.slot, by=None)
        self.assertEqual(entries_for(self.slot), [("time_slot.cancelled", None)])
        # Cancelling again changes nothing and records nothing.
        services.time_slot_cancel(time_slot=self.slot, by=None)
        self.assertEqual(len(entries_for(self.slot)), 1)
        self.assertFalse(Booking.objects.exists())
