from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from bookings import selectors
from bookings.models import Attendance, Booking, BookingStatus, shown_status
from core import timezones
from core.serializers import StrictBooleanField, ZonedDateTimeField
from sessions_app.models import Session, TimeSlot, slot_started
from sessions_app.selectors import slot_row
from sessions_app.serializers import (
    InstructorSerializer,
    SessionSerializer,
    TimeSlotSerializer,
    session_render,
    slot_render,
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
        # The fields above describe the booking (and the schema); the answer
        # is the booking's row as `booking_render` shows it (a test holds it
        # equal to DRF's serialization of the fields).
        zone = timezones.viewing_zone(self.context.get("request"))
        return booking_render(selectors.booking_row(booking), zone, now())


def booking_render(row: dict, zone: ZoneInfo, at: datetime) -> dict:
    """A booking row (`selectors.booking_row`) as BookingSerializer describes
    the booking to a viewer in `zone`, `at` being the moment of the answer."""
    slot, session = row["time_slot"], row["session"]
    status = shown_status(row["status"], slot_started=slot_started(slot["start"], at))
    return {
        "id": row["id"],
        "status": status,
        "waitlist_position": (
            row["waitlist_position"] if status == BookingStatus.WAITLISTED else None
        ),
        "created_at": timezones.render(row["created_at"], zone),
        "cancelled_at": (
            timezones.render(row["cancelled_at"], zone) if row["cancelled_at"] else None
        ),
        "cancel_before": timezones.render(row["cancel_before"], zone),
        "late": row["late"],
        "attendance": row["attendance"],
        "time_slot": slot_render(slot, zone, at),
        "session": {
            "id": session["id"],
            "title": session["title"],
            "category": session["category"],
            "instructor": {"id": session["instructor_id"], "name": session["instructor__name"]},
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


# The owner's view of a session: every slot with its bookings ----------------


class BookingClientSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "name", "email"]


class SlotBookingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.SerializerMethodField()
    created_at = ZonedDateTimeField()
    client = BookingClientSerializer()
    attendance = serializers.ChoiceField(choices=Attendance.choices, allow_null=True)

    @extend_schema_field(serializers.ChoiceField(choices=BookingStatus.choices))
    def get_status(self, booking: Booking) -> str:
        return booking.current_status

    def to_representation(self, booking: Booking) -> dict:
        zone = timezones.viewing_zone(self.context.get("request"))
        row = selectors.slot_booking_row(booking)
        return slot_booking_render(row, zone, slot_started=booking.time_slot.has_started)


def slot_booking_render(row: dict, zone: ZoneInfo, *, slot_started: bool) -> dict:
    """A row of `selectors.SLOT_BOOKING_COLUMNS` as SlotBookingSerializer
    describes the booking, its slot having started or not."""
    return {
        "id": row["id"],
        "status": shown_status(row["status"], slot_started=slot_started),
        "created_at": timezones.render(row["created_at"], zone),
        "client": {
            "id": row["client_id"],
            "name": row["client__name"],
            "email": row["client__email"],
        },
        "attendance": row["attendance"],
    }


class OwnerTimeSlotSerializer(TimeSlotSerializer):
    bookings = SlotBookingSerializer(many=True)

    class Meta(TimeSlotSerializer.Meta):
        fields = [*TimeSlotSerializer.Meta.fields, "bookings"]
        read_only_fields = fields

    def to_representation(self, slot: TimeSlot) -> dict:
        zone = timezones.viewing_zone(self.context.get("request"))
        row = {
            **slot_row(slot),
            "bookings": [selectors.slot_booking_row(booking) for booking in slot.bookings.all()],
        }
        return owner_slot_render(row, zone, now())


def owner_slot_render(row: dict, zone: ZoneInfo, at: datetime) -> dict:
    """A slot row with its `bookings` (rows of `selectors.SLOT_BOOKING_COLUMNS`)
    as OwnerTimeSlotSerializer describes the slot."""
    started = slot_started(row["start"], at)
    return {
        **slot_render(row, zone, at),
        "bookings": [
            slot_booking_render(booking, zone, slot_started=started) for booking in row["bookings"]
        ],
    }


class SessionDetailSerializer(SessionSerializer):
    """The owning instructor's view: every slot with its bookings."""

    time_slots = OwnerTimeSlotSerializer(many=True)

    def to_representation(self, session: Session) -> dict:
        # A session of `selectors.session_detail_queryset`, shown from the
        # rows of what it loaded by `session_detail_render`.
        zone = timezones.viewing_zone(self.context.get("request"))
        return session_detail_render(selectors.session_detail_row(session), zone, now())


def session_detail_render(row: dict, zone: ZoneInfo, at: datetime) -> dict:
    """`selectors.session_detail_get` (or `session_detail_row`) as
    SessionDetailSerializer describes the session to its owner in `zone`."""
    return session_render(row, zone, at, show_slot=owner_slot_render)
