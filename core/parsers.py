"""The API's one request parser: JSON, bounded in size and depth."""

import io

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from core.errors import RequestTooLargeError


class JSONParser(parsers.JSONParser):
    """DRF's strict JSON parser that reads at most DATA_UPLOAD_MAX_MEMORY_SIZE
    bytes and refuses nesting too deep to decode."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise RequestTooLargeError()
        try:
            return super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(_("JSON parse error - the body is nested too deeply.")) from exc
