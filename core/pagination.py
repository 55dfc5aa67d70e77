import re

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

WHOLE_NUMBER = re.compile(r"[0-9]+")


class StudioPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_paginated_response_schema(self, schema: dict) -> dict:
        """DRF's envelope, with example values of a one-page answer."""
        envelope = super().get_paginated_response_schema(schema)
        fields = envelope["properties"]
        fields["count"]["example"] = 1
        fields["next"]["example"] = None
        fields["previous"]["example"] = None
        # Every page carries all four; `next` and `previous` are null at the ends.
        envelope["required"] = ["count", "next", "previous", "results"]
        return envelope

    def get_page_size(self, request) -> int:
        """`page_size` is a whole number from 1; above the maximum it is the
        maximum, and left empty it is the default. Anything else is a 400."""
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        if not WHOLE_NUMBER.fullmatch(raw) or int(raw) < 1:
            raise ValidationError(
                {self.page_size_query_param: [_("Give a whole number from 1 to 100.")]}
            )
        return min(int(raw), self.max_page_size)

    def get_page_number(self, request, paginator) -> int:
        """`page` is a whole number from 1 (or `last`); left empty it is the
        first page. Anything else is a 400; a page past the last stays a 404."""
        raw = request.query_params.get(self.page_query_param, "")
        if raw == "":
            return 1
        if raw in self.last_page_strings:
            return paginator.num_pages
        if not WHOLE_NUMBER.fullmatch(raw) or int(raw) < 1:
            raise ValidationError(
                {self.page_query_param: [_("Give a whole number from 1, or `last`.")]}
            )
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = _(
                    "A page number from 1; a number past the last page is 404."
                )
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = _(
                    "Number of results per page: at most 100 (a larger number gives 100)."
                )
        return parameters
