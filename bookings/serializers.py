from rest_framework import serializers

from bookings.models import Booking
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
