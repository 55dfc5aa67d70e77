from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import AllowAny

from studio.serializers import ProblemSerializer


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
        # 406: an Accept header that rules out JSON, on any operation.
        codes = ["400", "406", "503"]
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
                responses[code] = self._get_response_for_code(ProblemSerializer, code)
        return responses
