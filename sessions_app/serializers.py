from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.timezone import now
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
    slot_started,
    slot_status,
    slot_waiting,
)
from sessions_app.rules import check_schedule_whole
from sessions_app.selectors import session_row, slot_row


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
        # The fields above describe the slot (and the schema); the answer is
        # the slot's row as `slot_render` shows it, the one rendering of a
        # slot (a test holds it equal to DRF's serialization of the fields).
        zone = timezones.viewing_zone(self.context.get("request"))
        return slot_render(slot_row(slot), zone, now())


def slot_render(row: dict, zone: ZoneInfo, at: datetime) -> dict:
    """A slot row (`selectors.SLOT_COLUMNS`) as TimeSlotSerializer describes
    the slot to a viewer in `zone`, `at` being the moment of the answer."""
    capacity, booked = row["capacity"], row["booked"]
    started = slot_started(row["start"], at)
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
        "status": slot_status(
            is_cancelled=row["is_cancelled"], started=started, booked=booked, capacity=capacity
        ),
        "waitlisted": slot_waiting(waitlisted=row["waitlisted"], started=started),
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


def session_render(
    row: dict, zone: ZoneInfo, at: datetime, show_slot: Callable = slot_render
) -> dict:
    """A session row (`selectors.SESSION_COLUMNS`) with its `slots` (rows),
    as SessionSerializer describes the session to a viewer in `zone`, `at`
    being the moment of the answer; each slot shown by `show_slot`."""
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

    def to_representation(self, session: Session) -> dict:
        # The fields above describe the session (and the schema); the answer
        # is the session's row, with its (prefetched) slots, as
        # `session_render` shows it.
        row = {**session_row(session), "slots": [slot_row(s) for s in session.time_slots.all()]}
        return session_render(row, timezones.viewing_zone(self.context.get("request")), now())


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
