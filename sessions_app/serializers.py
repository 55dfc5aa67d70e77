from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import User
from bookings.models import BookingStatus
from sessions_app.models import MAX_CAPACITY, MIN_CAPACITY, Category, Session, SlotStatus, TimeSlot
from studio.serializers import ViewingZoneField, ZonedDateTimeField


class InstructorSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "name"]


class TimeSlotSerializer(serializers.ModelSerializer):
    start = ZonedDateTimeField()
    end = ZonedDateTimeField()
    timezone = ViewingZoneField()
    available = serializers.IntegerField()
    is_full = serializers.BooleanField()
    status = serializers.ChoiceField(choices=SlotStatus.choices)

    class Meta:
        model = TimeSlot
        fields = [
            "id",
            "session",
            "start",
            "end",
            "timezone",
            "capacity",
            "booked",
            "available",
            "is_full",
            "status",
        ]
        read_only_fields = fields


class SessionSerializer(serializers.ModelSerializer):
    instructor = InstructorSerializer()
    time_slots = TimeSlotSerializer(many=True)
    created_at = ZonedDateTimeField()
    updated_at = ZonedDateTimeField()

    class Meta:
        model = Session
        fields = [
            "id",
            "title",
            "description",
            "category",
            "instructor",
            "time_slots",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class BookingClientSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "name", "email"]


class SlotBookingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=BookingStatus.choices)
    created_at = ZonedDateTimeField()
    client = BookingClientSerializer()


class OwnerTimeSlotSerializer(TimeSlotSerializer):
    bookings = SlotBookingSerializer(many=True)

    class Meta(TimeSlotSerializer.Meta):
        fields = [*TimeSlotSerializer.Meta.fields, "bookings"]
        read_only_fields = fields


class SessionDetailSerializer(SessionSerializer):
    """The owning instructor's view: every slot with its bookings."""

    time_slots = OwnerTimeSlotSerializer(many=True)


class TimeSlotInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        required=False, min_value=1, help_text=_("An existing slot to change; omit to add one.")
    )
    start = ZonedDateTimeField()
    end = ZonedDateTimeField()
    capacity = serializers.IntegerField(min_value=MIN_CAPACITY, max_value=MAX_CAPACITY)

    def validate(self, attrs):
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": [_("A time slot must end after it starts.")]})
        return attrs


class SessionCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, allow_blank=True, required=False)
    category = serializers.ChoiceField(choices=Category.choices)
    time_slots = TimeSlotInputSerializer(many=True, allow_empty=False, max_length=200)


class SessionUpdateSerializer(SessionCreateSerializer):
    """PUT takes the whole session, PATCH any part; `time_slots`, when
    present, is the full list of the session's slots."""

    time_slots = TimeSlotInputSerializer(
        many=True, allow_empty=False, max_length=200, required=False
    )
