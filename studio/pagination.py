from rest_framework.pagination import PageNumberPagination


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
        return envelope
