from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.settings import api_settings

from accounts.models import User
from core import timezones
from core.errors import ValidationFailedError
from core.serializers import StrictCharField, ViewingZoneField, ZonedDateTimeField
from sessions_app.models import (
    MAX_CAPACITY,
    MAX_DURATION_MINUTES,
    MIN_CAPACITY,
    Category,
    Session,
    SlotStatus,
    TimeSlot,
    slot_status,
)
from sessions_app.rules import check_schedule_whole


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
    waitlisted = serializers.IntegerField(
        source="waiting",
        help_text="How many bookings wait for a seat; 0 once the slot has started.",
    )

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
            "waitlisted",
        ]
        read_only_fields = fields

    def to_representation(self, slot: TimeSlot) -> dict:
        # The fields above describe the object (and the schema); the dict is
        # built directly because timetables hold many slots and DRF's
        # field-by-field path costs most of a list page's time.
        return slot_representation(slot, timezones.viewing_zone(self.context.get("request")))


def slot_representation(slot: TimeSlot, zone: ZoneInfo) -> dict:
    """`slot` as TimeSlotSerializer shows it to a viewer in `zone`."""
    return {
        "id": slot.pk,
        "session": slot.session_id,
        "start": timezones.render(slot.start, zone),
        "end": timezones.render(slot.end, zone),
        "timezone": zone.key,
        "capacity": slot.capacity,
        "booked": slot.booked,
        "available": slot.available,
        "is_full": slot.is_full,
        "status": slot.status,
        "waitlisted": slot.waiting,
    }


# A session's repeating schedule (API.md section 9). (A docstring here would
# show in the schema.)
class RecurrenceSerializer(serializers.Serializer):
    rrule = StrictCharField(
        max_length=500,
        help_text=_(
            "An RFC 5545 rule: FREQ=DAILY or FREQ=WEEKLY, with BYDAY, INTERVAL, COUNT or "
            "UNTIL; e.g. FREQ=WEEKLY;BYDAY=MO,WE. UNTIL without Z is studio time."
        ),
    )
    start = ZonedDateTimeField(
        help_text=_(
            "The first start, in the future; without an offset, studio time. Every "
            "occurrence starts at this wall-clock time in the studio's zone."
        )
    )
    duration_minutes = serializers.IntegerField(min_value=1, max_value=MAX_DURATION_MINUTES)
    capacity = serializers.IntegerField(min_value=MIN_CAPACITY, max_value=MAX_CAPACITY)

    def validate(self, attrs):
        # Under PATCH, DRF skips missing fields in nested objects too; a
        # schedule is always whole.
        try:
            check_schedule_whole(attrs, message=self.fields["rrule"].error_messages["required"])
        except ValidationFailedError as error:
            raise serializers.ValidationError(error.errors, code="required") from None
        return attrs


def recurrence_of(rrule: str, start, minutes, capacity, zone: ZoneInfo) -> dict | None:
    """A session's schedule as the API shows it; None without a rule."""
    if not rrule:
        return None
    return {
        "rrule": rrule,
        "start": timezones.render(start, zone),
        "duration_minutes": minutes,
        "capacity": capacity,
    }


def _shown_booking_status(status: str, started: bool) -> str:
    """A booking still waiting when its slot has started shows as expired
    (the bookings app's rule, read here without importing it)."""
    if status == "waitlisted" and started:
        return "expired"
    return status


def timetable_slot(row: dict, zone: ZoneInfo, at: datetime) -> dict:
    """A slot row of `selectors.PublicTimetable` as TimeSlotSerializer shows
    the slot, `at` being the moment of the answer."""
    capacity, booked = row["capacity"], row["booked"]
    started = row["start"] <= at
    status = slot_status(
        is_cancelled=row["is_cancelled"], started=started, booked=booked, capacity=capacity
    )
    return {
        "id": row["id"],
        "session": row["session_id"],
        "start": timezones.render(row["start"], zone),
        "end": timezones.render(row["end"], zone),
        "timezone": zone.key,
        "capacity": capacity,
        "booked": booked,
        "available": max(capacity - booked, 0),
        "is_full": booked >= capacity,
        "status": status,
        "waitlisted": 0 if started else row["waitlisted"],
    }


def timetable_session(
    row: dict, zone: ZoneInfo, at: datetime, show_slot: Callable = timetable_slot
) -> dict:
    """A session row of `selectors.PublicTimetable`, with its slots, as
    SessionSerializer shows the session; each slot shown by `show_slot`."""
    return {
        "id": row["id"],
        "title": row["title"],
        "description": row["description"],
        "category": row["category"],
        "instructor": {"id": row["instructor_id"], "name": row["instructor__name"]},
        "time_slots": [show_slot(slot, zone, at) for slot in row["slots"]],
        "recurrence": recurrence_of(
            row["rrule"], row["rrule_start"], row["rrule_minutes"], row["rrule_capacity"], zone
        ),
        "created_at": timezones.render(row["created_at"], zone),
        "updated_at": timezones.render(row["updated_at"], zone),
    }


def owner_slot(row: dict, zone: ZoneInfo, at: datetime) -> dict:
    """A slot row of `selectors.session_detail_rows`, with its bookings, as
    OwnerTimeSlotSerializer shows the slot."""
    started = row["start"] <= at
    return {
        **timetable_slot(row, zone, at),
        "bookings": [
            {
                "id": booking["id"],
                "status": _shown_booking_status(booking["status"], started),
                "created_at": timezones.render(booking["created_at"], zone),
                "client": {
                    "id": booking["client_id"],
                    "name": booking["client__name"],
                    "email": booking["client__email"],
                },
                "attendance": booking["attendance"],
            }
            for booking in row["bookings"]
        ],
    }


def owner_session(row: dict, zone: ZoneInfo, at: datetime) -> dict:
    """`selectors.session_detail_rows` as SessionDetailSerializer shows the session."""
    return timetable_session(row, zone, at, show_slot=owner_slot)


class SessionSerializer(serializers.ModelSerializer):
    instructor = InstructorSerializer()
    time_slots = TimeSlotSerializer(many=True)
    recurrence = serializers.SerializerMethodField()
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
            "recurrence",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(RecurrenceSerializer(allow_null=True))
    def get_recurrence(self, session: Session) -> dict | None:
        return recurrence_of(
            session.rrule,
            session.rrule_start,
            session.rrule_minutes,
            session.rrule_capacity,
            timezones.viewing_zone(self.context.get("request")),
        )


class BookingClientSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "name", "email"]


def _booking_choices(field: str) -> list[tuple[str, str]]:
    """The choices of a booking model's field, read through the slot's reverse
    relation: the timetable sits below the bookings app and never imports it."""
    return TimeSlot.bookings.rel.related_model._meta.get_field(field).choices


class SlotBookingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.SerializerMethodField()
    created_at = ZonedDateTimeField()
    client = BookingClientSerializer()
    attendance = serializers.ChoiceField(choices=_booking_choices("attendance"), allow_null=True)

    @extend_schema_field(serializers.ChoiceField(choices=_booking_choices("status")))
    def get_status(self, booking) -> str:
        return _shown_booking_status(booking.status, booking.time_slot.has_started)


class OwnerTimeSlotSerializer(TimeSlotSerializer):
    bookings = SlotBookingSerializer(many=True)

    class Meta(TimeSlotSerializer.Meta):
        fields = [*TimeSlotSerializer.Meta.fields, "bookings"]
        read_only_fields = fields

    def to_representation(self, slot: TimeSlot) -> dict:
        zone = timezones.viewing_zone(self.context.get("request"))
        return {
            **super().to_representation(slot),
            "bookings": [
                {
                    "id": booking.pk,
                    "status": _shown_booking_status(booking.status, slot.has_started),
                    "created_at": timezones.render(booking.created_at, zone),
                    "client": {
                        "id": booking.client.pk,
                        "name": booking.client.name,
                        "email": booking.client.email,
                    },
                    "attendance": booking.attendance,
                }
                for booking in slot.bookings.all()
            ],
        }


class SessionDetailSerializer(SessionSerializer):
    """The owning instructor's view: every slot with its bookings."""

    time_slots = OwnerTimeSlotSerializer(many=True)


class TimeSlotListSerializer(serializers.ListSerializer):
    """Errors nested the way the request body is, as the services nest theirs:
    an error of the list itself (not a list, empty, too long) is a list of
    messages, not DRF's `{"non_field_errors": [...]}`, and item errors are a
    list with one entry per item (`{}` for a valid one), not a dict by index."""

    def run_validation(self, data=empty):
        try:
            return super().run_validation(data)
        except serializers.ValidationError as exc:
            detail, key = exc.detail, api_settings.NON_FIELD_ERRORS_KEY
            if isinstance(detail, dict) and set(detail) == {key}:
                raise serializers.ValidationError(detail[key]) from None
            if isinstance(detail, dict) and isinstance(data, list):
                items = [detail.get(index, {}) for index in range(len(data))]
                raise serializers.ValidationError(items) from None
            raise


# One slot's shape only: the timetable's rules on slots (times, overlaps, at
# least one slot) are the services'. (A docstring here would show in the schema.)
class TimeSlotInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        required=False, min_value=1, help_text=_("An existing slot to change; omit to add one.")
    )
    start = ZonedDateTimeField()
    end = ZonedDateTimeField()
    capacity = serializers.IntegerField(min_value=MIN_CAPACITY, max_value=MAX_CAPACITY)

    class Meta:
        list_serializer_class = TimeSlotListSerializer

    def validate(self, attrs):
        # Under PATCH, DRF skips missing fields in nested items too; a slot
        # item is always whole.
        missing = [name for name in ("start", "end", "capacity") if name not in attrs]
        if missing:
            raise serializers.ValidationError(
                {name: [self.fields[name].error_messages["required"]] for name in missing},
                code="required",
            )
        return attrs


class SessionCreateSerializer(serializers.Serializer):
    title = StrictCharField(max_length=200)
    # PUT takes the whole session: a description left out is blank. PATCH
    # (partial) applies no default and leaves it as it is.
    description = StrictCharField(max_length=5000, allow_blank=True, required=False, default="")
    category = serializers.ChoiceField(choices=Category.choices)
    time_slots = TimeSlotInputSerializer(
        many=True,
        max_length=200,
        required=False,
        help_text=_("The session's slots; may be left out when `recurrence` is given."),
    )
    recurrence = RecurrenceSerializer(
        required=False,
        allow_null=True,
        help_text=_("A repeating schedule whose slots are generated; null for none."),
    )

    def validate(self, attrs):
        if "time_slots" not in attrs and not attrs.get("recurrence"):
            raise serializers.ValidationError(
                {"time_slots": [self.fields["time_slots"].error_messages["required"]]},
                code="required",
            )
        return attrs


class SessionUpdateSerializer(SessionCreateSerializer):
    """PUT takes the whole session, PATCH any part; `time_slots`, when
    present, is the full list of the session's slots. `recurrence` replaces
    the schedule (null stops it); left out, the schedule stays."""

    def validate(self, attrs):
        return attrs
