"""The admin as a superuser or a staff member uses it: the base test case,
what its pages show, and its forms of sessions and time slots as a browser
posts them."""

import re
from collections.abc import Callable
from datetime import datetime
from html import unescape

from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.utils.formats import date_format

from accounts.models import User
from sessions_app.models import Session, TimeSlot
from testing.api import PASSWORD
from testing.timetable import IST

SESSIONS_URL = "/admin/sessions_app/session/"
SLOTS_URL = "/admin/sessions_app/timeslot/"
# Each change form holds the object's read-only action log, an empty formset when posted.
ACTION_LOG_FORMS = {
    "core-actionlogentry-content_type-object_id-TOTAL_FORMS": "0",
    "core-actionlogentry-content_type-object_id-INITIAL_FORMS": "0",
}


def column(response, name: str) -> list[str]:
    """The text of changelist column `name`, row by row."""
    cells = re.findall(
        rf'<t[dh] class="field-{name}(?: [^"]*)?">(.*?)</t[dh]>', response.content.decode(), re.S
    )
    return [unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]


def shown(value: datetime) -> str:
    """How the admin writes the instant `value` on the studio's clocks."""
    return date_format(value.astimezone(IST), "DATETIME_FORMAT")


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


class AdminTestCase(TestCase):
    def setUp(self):
        self.superuser = User.objects.create_superuser(
            email="boss@example.com", password=PASSWORD, name="Boss"
        )
        self.client.force_login(self.superuser)

    def listed(self, response) -> set[int]:
        self.assertEqual(response.status_code, 200)
        return {obj.pk for obj in response.context["cl"].result_list}

    def assert_queries_do_not_grow(
        self,
        url: str,
        add_row: Callable[[], object],
        rows: Callable[[object], int] = lambda response: response.context["cl"].result_count,
        *,
        few: int = 2,
        many: int = 20,
    ) -> None:
        """The page at `url` costs as many queries with `many` rows as with `few`."""
        for _ in range(few):
            add_row()
        self.client.get(url)  # the first load fills per-process caches
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(rows(response), few)
        for _ in range(many - few):
            add_row()
        with self.assertNumQueries(len(queries)):
            response = self.client.get(url)
        self.assertEqual(rows(response), many)


def staff_browser(staff: User) -> Client:
    browser = Client()
    browser.force_login(staff)
    return browser


def admin_inputs(value: datetime, prefix: str) -> dict[str, str]:
    """The admin's date and time inputs for `value`, on the studio's clocks."""
    local = value.astimezone(IST)
    return {f"{prefix}_0": local.date().isoformat(), f"{prefix}_1": local.strftime("%H:%M:%S")}


def inline_row(
    index: int, start: datetime, end: datetime, capacity: int, slot: TimeSlot | None = None
) -> dict[str, str]:
    prefix = f"time_slots-{index}"
    data = {
        **admin_inputs(start, f"{prefix}-start"),
        **admin_inputs(end, f"{prefix}-end"),
        f"{prefix}-capacity": str(capacity),
    }
    if slot is not None:
        data.update({f"{prefix}-id": str(slot.pk), f"{prefix}-session": str(slot.session_id)})
    return data


def existing_rows(slots: list[TimeSlot]) -> list[dict[str, str]]:
    """The inline rows of `slots` as the change page shows them."""
    return [
        inline_row(index, slot.start, slot.end, slot.capacity, slot)
        for index, slot in enumerate(slots)
    ]


def session_form(
    *,
    instructor: User,
    rows: list[dict[str, str]],
    initial: int = 0,
    title: str = "Admin Yoga",
    description: str = "",
    category: str = "yoga",
) -> dict[str, str]:
    """The session's add or change form with `rows` (from `inline_row`) as
    its inline slots, the first `initial` of them existing slots."""
    data = {
        "instructor": str(instructor.pk),
        "title": title,
        "description": description,
        "category": category,
        "time_slots-TOTAL_FORMS": str(len(rows)),
        "time_slots-INITIAL_FORMS": str(initial),
        "time_slots-MIN_NUM_FORMS": "0",
        "time_slots-MAX_NUM_FORMS": "1000",
        **ACTION_LOG_FORMS,
    }
    for row in rows:
        data.update(row)
    return data


def slot_form(
    start: datetime, end: datetime, capacity: int, session: Session | None = None
) -> dict[str, str]:
    """The time slot's own add (with `session`) or change form."""
    data = {**admin_inputs(start, "start"), **admin_inputs(end, "end"), "capacity": str(capacity)}
    if session is not None:
        data["session"] = str(session.pk)
    return {**data, **ACTION_LOG_FORMS}
