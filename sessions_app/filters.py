from urllib.parse import urlencode

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from core import timezones
from sessions_app import cache, selectors
from sessions_app.models import Category, Session, TimeSlot

# Ids are 64-bit: a larger number cannot name a row, and the database would
# refuse to compare with it.
MAX_ID = 2**63 - 1
SEARCH_MAX_LENGTH = 100


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.NumberFilter):
    """A whole-number id from 1 to the largest the database holds."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "boolean"})
class TrueFalseFilter(filters.ChoiceFilter):
    """A flag given as `true` or `false`, as a boolean query parameter is sent."""

    def __init__(self, *args, **kwargs):
        kwargs["choices"] = [("true", "true"), ("false", "false")]
        super().__init__(*args, **kwargs)


@extend_schema_field({"$ref": "#/components/schemas/CategoryEnum"})
class CategoryFilter(filters.ChoiceFilter):
    """A category, documented as the session's own category enum."""


@extend_schema_field({"type": "string", "maxLength": SEARCH_MAX_LENGTH})
class SearchFilter(filters.CharFilter):
    """Free text, documented with its length limit."""


# The parameters that narrow the sessions themselves, not their slots.
SESSION_FILTERS = ("category", "instructor", "search")


class PublicSessionFilter(filters.FilterSet):
    """The public timetable's query parameters.

    Besides narrowing the sessions, the slot parameters (`date_from`,
    `date_to`, `available`) narrow the slots each session shows; with none
    given, every upcoming slot shows.
    """

    category = CategoryFilter(choices=Category.choices)
    instructor = IdFilter(field_name="instructor_id", help_text=_("Instructor id."))
    date_from = filters.DateFilter(
        method="filter_by_slots", help_text=_("First day, in the viewing time zone.")
    )
    date_to = filters.DateFilter(
        method="filter_by_slots", help_text=_("Last day (inclusive), in the viewing time zone.")
    )
    available = TrueFalseFilter(
        method="filter_by_slots",
        help_text=_("true: only slots with a free seat."),
    )
    search = SearchFilter(
        method="filter_search",
        max_length=SEARCH_MAX_LENGTH,
        help_text=_("Words of the title or description; at most 100 characters."),
    )

    class Meta:
        model = Session
        fields = ["category", "instructor", "date_from", "date_to", "available", "search"]

    def filter_search(self, queryset, name, value):
        return selectors.session_search(queryset, value) if value else queryset

    def filter_by_slots(self, queryset, name, value):
        # Applied once for all three in filter_queryset.
        return queryset

    def slots(self) -> QuerySet[TimeSlot]:
        """The slots the query lets show."""
        data = self.form.cleaned_data
        return selectors.public_slots(
            zone=timezones.viewing_zone(self.request),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            available=data.get("available") == "true",
        )

    def filter_queryset(self, queryset):
        return selectors.session_list_public(super().filter_queryset(queryset), slots=self.slots())

    def timetable(self) -> selectors.PublicTimetable:
        """The list's sessions, read a page at a time (see PublicTimetable),
        its count kept while the schedule (and, with `available`, the seats)
        stays as it is."""
        data = self.form.cleaned_data
        read = sorted((name, str(value)) for name, value in data.items() if value)
        identity = f"{urlencode(read)}|{timezones.viewing_zone(self.request).key}"
        return selectors.PublicTimetable(
            super().filter_queryset(self.queryset),
            slots=self.slots(),
            narrowed=any(data.get(name) for name in SESSION_FILTERS),
            remember=cache.remembered_count(identity, seats=data.get("available") == "true"),
        )
