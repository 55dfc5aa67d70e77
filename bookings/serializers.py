from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from bookings import selectors
from bookings.models import Attendance, Booking
from sessions_app.models import Session
from sessions_app.serializers import InstructorSerializer, TimeSlotSerializer
from studio.serializers import ZonedDateTimeField


class BookedSessionSerializer(serializers.ModelSerializer):
    instructor = InstructorSerializer()

    class Meta:
        model = Session
        fields = ["id", "title", "category", "instructor"]


class BookingSerializer(serializers.ModelSerializer):
    created_at = ZonedDateTimeField()
    cancelled_at = ZonedDateTimeField(allow_null=True)
    time_slot = TimeSlotSerializer()
    session = BookedSessionSerializer(source="time_slot.session")

    class Meta:
        model = Booking
        fields = ["id", "status", "created_at", "cancelled_at", "time_slot", "session"]
        read_only_fields = fields


class BookingCreateSerializer(serializers.Serializer):
    time_slot = serializers.IntegerField(min_value=1, help_text="The id of the time slot to book.")


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
