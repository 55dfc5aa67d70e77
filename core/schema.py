from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import (
    build_examples_list,
    force_instance,
    get_view_model,
    is_patched_serializer,
)
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from core import errors, timezones
from core.examples import problem_example
from core.exception_handler import PROBLEM_CONTENT_TYPE
from core.middleware import QUERY_STRING_LIMIT, checks_viewing_zone
from core.serializers import ProblemSerializer, ZonedDateTimeField

# The example of each problem answer an operation gives without examples of its own.
PROBLEM_EXAMPLES = {
    "400": problem_example(
        "Invalid fields",
        errors.ValidationFailedError(errors={"field": ["This field is required."]}),
    ),
    "401": problem_example("Not signed in", errors.NotAuthenticatedError()),
    "403": problem_example("Not allowed", errors.ForbiddenError()),
    "404": problem_example("Not found", errors.NotFoundError()),
    "406": problem_example("Not acceptable", errors.NotAcceptableError()),
    "413": problem_example("Body too large", errors.RequestTooLargeError()),
    "414": problem_example(
        "Query string too long", errors.UriTooLongError.for_query_string(QUERY_STRING_LIMIT)
    ),
    "415": problem_example(
        "Not JSON",
        errors.UnsupportedMediaTypeError('Unsupported media type "text/plain" in request.'),
    ),
    "429": problem_example("Too many requests", errors.ThrottledError(42)),
    "503": problem_example("Database unreachable", errors.ServiceUnavailableError()),
}

# A conflict of the timetable: deleting what holds bookings, or editing below them
# (an edit that leaves out a slot with bookings deletes it, so it may meet both).
HAS_BOOKINGS = problem_example("Has bookings", errors.HasBookingsError())
CONFLICT_EXAMPLES = {
    "DELETE": [HAS_BOOKINGS],
    "other": [
        problem_example("Capacity below bookings", errors.CapacityBelowBookedError()),
        HAS_BOOKINGS,
    ],
}


def _unknown_zone() -> errors.InvalidTimezoneError:
    """The error of `?tz=Mars/Base`, as the API raises it."""
    try:
        timezones.get_zone("Mars/Base")
    except errors.InvalidTimezoneError as error:
        return error
    raise AssertionError("Mars/Base is not a time zone")


UNKNOWN_TIMEZONE = problem_example("Unknown time zone", _unknown_zone())

_ZONE_RULE = (
    "An IANA time zone name (e.g. `America/New_York`) in which every datetime of the "
    "answer is shown, with that zone's offset, and in which date filters are read. "
    "Without it: the `X-Timezone` header, then the signed-in user's profile zone, then "
    "the studio's. An unknown name is 400 `invalid_timezone`."
)
# What `tz` means where an answer shows no datetimes: it is still checked.
_ZONE_RULE_WITHOUT_DATETIMES = (
    "An IANA time zone name (e.g. `America/New_York`), the viewing zone; this answer "
    "shows no datetimes, but an unknown name is 400 `invalid_timezone`, as on every "
    "operation."
)
# The viewing zone of a request (API.md section 1), on every operation: an
# unknown zone is refused on any API request (core.middleware).
TIMEZONE_PARAMETERS = [
    {
        "in": "query",
        "name": timezones.QUERY_PARAM,
        "required": False,
        "schema": {"type": "string", "minLength": 1, "example": "America/New_York"},
        "description": _ZONE_RULE,
    },
    {
        "in": "header",
        "name": timezones.HEADER,
        "required": False,
        # No minLength: with `tz` given the header is not read at all.
        "schema": {"type": "string", "example": "America/New_York"},
        "description": "The viewing time zone when the `tz` query parameter is not given; "
        "an IANA name. An unknown name (an empty one too) is 400 `invalid_timezone`.",
    },
]

# What an input datetime without an offset means.
NAIVE_INPUT_RULE = (
    "ISO 8601; without an offset it is read in the studio's time zone "
    "(e.g. `2031-01-10T07:00` or `2031-01-10T07:00:00+05:30`)."
)

RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 1},
        "description": "Seconds to wait before trying again.",
    }
}
WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "schema": {"type": "string"},
        "description": 'The scheme to sign in with: `Bearer realm="api"`.',
    }
}
RESPONSE_HEADERS = {"401": WWW_AUTHENTICATE, "429": RETRY_AFTER, "503": RETRY_AFTER}


def _has_datetimes(target, seen: set[int] | None = None) -> bool:
    """Whether a response (serializer, OpenApiResponse or a dict of them)
    renders a datetime anywhere."""
    seen = set() if seen is None else seen
    if isinstance(target, OpenApiResponse):
        target = target.response
    if isinstance(target, dict):
        return any(_has_datetimes(value, seen) for value in target.values())
    if isinstance(target, tuple):
        return any(_has_datetimes(value, seen) for value in target)
    if not (isinstance(target, type) and issubclass(target, serializers.BaseSerializer)) and (
        not isinstance(target, serializers.Field)
    ):
        return False
    field = force_instance(target)
    if id(field) in seen:
        return False
    seen.add(id(field))
    if isinstance(field, serializers.DateTimeField):
        return True
    if isinstance(field, serializers.ListSerializer | serializers.ListField):
        return _has_datetimes(field.child, seen)
    if isinstance(field, serializers.Serializer):
        return any(_has_datetimes(child, seen) for child in field.fields.values())
    return False


class StudioAutoSchema(AutoSchema):
    """Documents, beside each operation's own answers, the problem bodies it can give."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        alias_of = getattr(self.view, "alias_of", None)
        if operation is not None and alias_of:
            # A path of the first API, kept working: the same operation under
            # its own id, marked deprecated.
            operation["operationId"] = f"{operation['operationId']}_legacy"
            operation["deprecated"] = True
            operation["description"] = (
                f"Deprecated: an older path of `{method.upper()} {alias_of}`, kept working; "
                f"use that one.\n\n{operation.get('description', '')}"
            ).strip()
        return operation

    def _resolve_path_parameters(self, variables):
        parameters = super()._resolve_path_parameters(variables)
        model = get_view_model(self.view, emit_warnings=False)
        for parameter in parameters:
            if parameter["name"] == "id" and model is not None and not parameter.get("description"):
                parameter["description"] = f"The {model._meta.verbose_name}'s id."
        return parameters

    def _returns_datetimes(self) -> bool:
        return _has_datetimes(self.get_response_serializers())

    def _timezone_parameters(self) -> list[dict]:
        if not checks_viewing_zone(self.path):
            return []
        query, header = (dict(parameter) for parameter in TIMEZONE_PARAMETERS)
        if not self._returns_datetimes():
            query["description"] = _ZONE_RULE_WITHOUT_DATETIMES
        return [query, header]

    def _get_parameters(self):
        # An optional query parameter given empty (`?status=`) counts as not given.
        parameters = super()._get_parameters()
        for parameter in parameters:
            if parameter["in"] == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        parameters.extend(self._timezone_parameters())
        return parameters

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and isinstance(field, ZonedDateTimeField) and schema:
            # Studio wall-clock time is accepted too, which `date-time` forbids.
            schema.pop("format", None)
            description = schema.get("description", "")
            schema["description"] = f"{description} {NAIVE_INPUT_RULE}".strip()
        return schema

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        properties = schema.get("properties", {})
        if is_patched_serializer(serializer, direction):
            # A field left out of a PATCH is left as it is: no default applies,
            # and a client generated from the schema must not send one.
            for field in properties.values():
                field.pop("default", None)
        elif direction == "response":
            # An answer always carries every field (null where it has no value),
            # but those the serializer names optional.
            optional = set(getattr(force_instance(serializer), "optional_in_response", ()))
            required = [name for name in properties if name not in optional]
            if required:
                schema["required"] = required
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        view = self.view
        # 406: an Accept header that rules out JSON, on any operation; 414: a
        # query string over the limit, on any operation.
        codes = ["400", "406", "414", "503"]
        if getattr(view, "authentication_classes", None):
            codes.append("401")
        if any(not issubclass(p, AllowAny) for p in getattr(view, "permission_classes", [])):
            codes.append("403")
        # An unknown id, or a page past the last of a list.
        if "{" in self.path or (self._is_list_view() and self._get_paginator() is not None):
            codes.append("404")
        # A body too large, or in a media type other than JSON.
        if self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None:
            codes.extend(["413", "415"])
        if getattr(view, "throttle_classes", None):
            codes.append("429")
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    ProblemSerializer, code, media_types=["application/json"]
                )
        fallbacks = {code: [example] for code, example in PROBLEM_EXAMPLES.items() if code != "400"}
        fallbacks["400"] = [PROBLEM_EXAMPLES["400"]]
        fallbacks["409"] = CONFLICT_EXAMPLES.get(self.method, CONFLICT_EXAMPLES["other"])
        for code, response in responses.items():
            if code < "400":
                continue
            content = response.get("content", {})
            media = content.pop("application/json", None)
            if media is None:
                continue
            # Problems are served as application/problem+json whatever the
            # operation answers on success.
            content[PROBLEM_CONTENT_TYPE] = media
            if code in fallbacks and not media.get("examples"):
                media["examples"] = build_examples_list(fallbacks[code])
            if code == "400" and checks_viewing_zone(self.path):
                media["examples"].update(build_examples_list([UNKNOWN_TIMEZONE]))
            if code in RESPONSE_HEADERS:
                response["headers"] = {**RESPONSE_HEADERS[code], **response.get("headers", {})}
        return dict(sorted(responses.items()))


class Tags:
    """The groups of operations in the schema, by what a client does. The
    document lists them in this order, each with its description."""

    AUTHENTICATION = "Authentication"
    PROFILE = "Profile"
    TIMETABLE = "Timetable"
    INSTRUCTOR_SESSIONS = "Instructor sessions"
    BOOKINGS = "Bookings"
    CALENDAR_FEEDS = "Calendar feeds"
    SERVICE = "Service"

    DESCRIPTIONS = {
        AUTHENTICATION: "Registering, signing in and out, refreshing tokens, and changing or "
        "resetting a password. Register, login, refresh and password reset ignore any "
        "Authorization header.",
        PROFILE: "The signed-in user: their profile (time zone, reminders) and the "
        "notifications mailed to them.",
        TIMETABLE: "The public timetable: sessions with upcoming time slots, no sign-in needed.",
        INSTRUCTOR_SESSIONS: "An instructor's own sessions and their time slots: create, "
        "change, delete, cancel a slot, mark attendance.",
        BOOKINGS: "A client's bookings: book a time slot (or join its waitlist), list, cancel.",
        CALENDAR_FEEDS: "iCalendar feeds to subscribe to: your own secret feed and each "
        "session's public one.",
        SERVICE: "Health of the service, for monitors.",
    }


def declare_tags(result, **kwargs):
    """A postprocessing hook of drf-spectacular (SPECTACULAR_SETTINGS): the
    document's list of tags, from `Tags`. Settings cannot import this module,
    which needs the apps loaded."""
    result["tags"] = [
        {"name": name, "description": description}
        for name, description in Tags.DESCRIPTIONS.items()
    ]
    return result
