from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bookings import selectors
from bookings.models import Attendance, Booking, BookingStatus
from core import timezones
from core.serializers import StrictBooleanField, ZonedDateTimeField
from sessions_app.models import Session
from sessions_app.serializers import (
    InstructorSerializer,
    TimeSlotSerializer,
    slot_representation,
)


class BookedSessionSerializer(serializers.ModelSerializer):
    instructor = InstructorSerializer()

    class Meta:
        model = Session
        fields = ["id", "title", "category", "instructor"]


class BookingSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    waitlist_position = serializers.SerializerMethodField()
    created_at = ZonedDateTimeField()
    cancelled_at = ZonedDateTimeField(allow_null=True)
    cancel_before = ZonedDateTimeField(
        help_text="Cancelling after this moment (and before the start) marks the booking late."
    )
    late = serializers.BooleanField(help_text="Cancelled after `cancel_before`.")
    attendance = serializers.ChoiceField(choices=Attendance.choices, allow_null=True)
    time_slot = TimeSlotSerializer()
    session = BookedSessionSerializer(source="time_slot.session")

    class Meta:
        model = Booking
        fields = [
            "id",
            "status",
            "waitlist_position",
            "created_at",
            "cancelled_at",
            "cancel_before",
            "late",
            "attendance",
            "time_slot",
            "session",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=BookingStatus.choices))
    def get_status(self, booking: Booking) -> str:
        return booking.current_status

    @extend_schema_field(
        serializers.IntegerField(
            min_value=1,
            allow_null=True,
            help_text="The booking's place in the slot's waitlist (1 is promoted next) "
            "while it is waitlisted; else null.",
        )
    )
    def get_waitlist_position(self, booking: Booking) -> int | None:
        # Annotated by the selectors (and set by booking_create).
        if booking.current_status != BookingStatus.WAITLISTED:
            return None
        return getattr(booking, "waitlist_position", None)

    def to_representation(self, booking: Booking) -> dict:
        # The fields above describe the object (and the schema); the dict is
        # built directly, as the slots' are, because a booking history is a
        # page of them (a test holds the two paths equal).
        zone = timezones.viewing_zone(self.context.get("request"))
        slot = booking.time_slot
        session = slot.session
        return {
            "id": booking.pk,
            "status": self.get_status(booking),
            "waitlist_position": self.get_waitlist_position(booking),
            "created_at": timezones.render(booking.created_at, zone),
            "cancelled_at": (
                timezones.render(booking.cancelled_at, zone) if booking.cancelled_at else None
            ),
            "cancel_before": timezones.render(booking.cancel_before, zone),
            "late": booking.late,
            "attendance": booking.attendance,
            "time_slot": slot_representation(slot, zone),
            "session": {
                "id": session.pk,
                "title": session.title,
                "category": session.category,
                "instructor": {"id": session.instructor_id, "name": session.instructor.name},
            },
        }


class BookingCreateSerializer(serializers.Serializer):
    time_slot = serializers.IntegerField(min_value=1, help_text="The id of the time slot to book.")
    waitlist = StrictBooleanField(
        required=False,
        default=False,
        help_text="On a full slot, join its waitlist instead of being refused.",
    )


# A booking of the time slot in the URL (`context["time_slot"]`) and its mark.
# (A docstring here would show in the schema.)
class AttendanceMarkSerializer(serializers.Serializer):
    booking = serializers.IntegerField(
        min_value=1, help_text=_("The id of a confirmed booking on this time slot.")
    )
    attendance = serializers.ChoiceField(choices=Attendance.choices)

    def validate_booking(self, value: int) -> Booking:
        booking = selectors.booking_on_slot(time_slot=self.context["time_slot"], booking_id=value)
        if booking is None:
            raise serializers.ValidationError(_("This time slot holds no booking with this id."))
        return booking
