"""Serializer pieces shared by every app."""

from datetime import datetime

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core import timezones
from core.errors import PROBLEM_CODES


class ZonedDateTimeField(serializers.DateTimeField):
    """A datetime shown in the request's viewing zone, read in the studio zone.

    Output carries the offset of the viewer's zone at that instant; input with
    an offset is that instant, input without one is studio wall-clock time.
    """

    default_error_messages = {
        "nonexistent": _(
            "This time does not exist in the studio's time zone (daylight-saving "
            "change); give it with an explicit offset."
        ),
        "ambiguous": _(
            "This time happens twice in the studio's time zone (daylight-saving "
            "change); give it with an explicit offset."
        ),
    }

    def viewing_zone(self):
        return timezones.viewing_zone(self.context.get("request"))

    def enforce_timezone(self, value: datetime) -> datetime:
        try:
            return timezones.read_naive(value)
        except timezones.NonExistentTimeError:
            self.fail("nonexistent")
        except timezones.AmbiguousTimeError:
            self.fail("ambiguous")
        except timezones.OutOfRangeError:
            self.fail("overflow")

    def to_representation(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        return timezones.render(value, self.viewing_zone())


class StrictCharField(serializers.CharField):
    """Text that must come as a JSON string: a number such as 0 is refused,
    not stored as "0"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A flag that must come as JSON true or false: "yes" or 1 is refused."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


@extend_schema_field(OpenApiTypes.STR)
class ViewingZoneField(serializers.Field):
    """The name of the zone the response's times are shown in."""

    def __init__(self, **kwargs):
        kwargs["source"] = "*"
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return timezones.viewing_zone(self.context.get("request")).key


# The `errors` of a 400 `invalid`: each field names a list of messages, or,
# for a nested object or a list in the body, the errors nested the same way:
# `{"time_slots": [{}, {"end": ["..."]}]}`, or `[["..."]]` for an item that is
# not an object at all.
MESSAGES_SCHEMA = {"type": "array", "items": {"type": "string"}}
NESTED_ERRORS_SCHEMA = {"type": "object", "additionalProperties": True}
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "anyOf": [
            MESSAGES_SCHEMA,
            NESTED_ERRORS_SCHEMA,
            {"type": "array", "items": {"anyOf": [NESTED_ERRORS_SCHEMA, MESSAGES_SCHEMA]}},
        ]
    },
}


@extend_schema_field(FIELD_ERRORS_SCHEMA)
class FieldErrorsField(serializers.DictField):
    pass


class ProblemSerializer(serializers.Serializer):
    """The error body of every 4xx and 5xx answer (RFC 9457 problem details)."""

    # Every answer carries all of these but `errors`.
    optional_in_response = ("errors",)

    type = serializers.CharField(help_text="Always `about:blank`.")
    title = serializers.CharField(help_text="The HTTP status's phrase.")
    status = serializers.IntegerField(help_text="The HTTP status.")
    code = serializers.ChoiceField(
        choices=PROBLEM_CODES, help_text="Stable and machine-readable: branch on it."
    )
    detail = serializers.CharField(help_text="One human sentence.")
    errors = FieldErrorsField(
        required=False,
        help_text="For code `invalid` only: field name to its list of messages, nested the "
        "way the request body is.",
    )
