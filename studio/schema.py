from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_examples_list
from rest_framework.permissions import AllowAny

from studio import errors
from studio.examples import problem_example
from studio.middleware import QUERY_STRING_LIMIT
from studio.serializers import ProblemSerializer

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

# A conflict of the timetable: deleting what holds bookings, or editing below them.
CONFLICT_EXAMPLES = {
    "DELETE": problem_example("Has bookings", errors.HasBookingsError()),
    "other": problem_example("Capacity below bookings", errors.CapacityBelowBookedError()),
}


class StudioAutoSchema(AutoSchema):
    """Documents, beside each operation's own answers, the problem bodies it can give."""

    def _get_parameters(self):
        # An optional query parameter given empty (`?status=`) counts as not given.
        parameters = super()._get_parameters()
        for parameter in parameters:
            if parameter["in"] == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        return parameters

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
        # A body in a media type other than JSON.
        if self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None:
            codes.append("415")
        if getattr(view, "throttle_classes", None):
            codes.append("429")
        for code in codes:
            if code not in responses:
                # Problems are JSON whatever the operation answers on success.
                responses[code] = self._get_response_for_code(
                    ProblemSerializer, code, media_types=["application/json"]
                )
        fallbacks = {
            **PROBLEM_EXAMPLES,
            "409": CONFLICT_EXAMPLES.get(self.method, CONFLICT_EXAMPLES["other"]),
        }
        for code, response in responses.items():
            media = response.get("content", {}).get("application/json")
            if media is not None and code in fallbacks and not media.get("examples"):
                media["examples"] = build_examples_list([fallbacks[code]])
        return responses
