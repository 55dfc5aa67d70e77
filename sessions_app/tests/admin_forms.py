"""The admin's session and time-slot forms as a browser posts them, and the
API's answers read the same way, for tests that drive both."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.admin.models import LogEntry
from django.test import Client
from django.utils.timezone import now
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import User
from bookings.models import Booking
from bookings.services import booking_cancel, booking_create
from sessions_app.models import Session, TimeSlot
from studio.models import ActionLogEntry

IST = ZoneInfo("Asia/Kolkata")
SESSIONS_URL = "/admin/sessions_app/session/"
SLOTS_URL = "/admin/sessions_app/timeslot/"
API_SESSIONS = "/api/sessions/"
# Each change form holds the object's read-only action log, an empty formset when posted.
ACTION_LOG_FORMS = {
    "studio-actionlogentry-content_type-object_id-TOTAL_FORMS": "0",
    "studio-actionlogentry-content_type-object_id-INITIAL_FORMS": "0",
}


def ist(days: int, hour: int, minute: int = 0) -> datetime:
    """`hour:minute` on the studio's clocks, `days` after the studio's today."""
    today = now().astimezone(IST).date()
    return datetime.combine(today + timedelta(days=days), time(hour, minute), IST)


def split(value: datetime, prefix: str) -> dict[str, str]:
    """The admin's date and time inputs for `value`, on the studio's clocks."""
    local = value.astimezone(IST)
    return {f"{prefix}_0": local.date().isoformat(), f"{prefix}_1": local.strftime("%H:%M:%S")}


def book(slot: TimeSlot, client: User) -> Booking:
    return booking_create(client=client, time_slot_id=slot.pk)


def book_and_cancel(slot: TimeSlot, client: User) -> Booking:
    return booking_cancel(booking=book(slot, client))


def staff_browser(staff: User) -> Client:
    browser = Client()
    browser.force_login(staff)
    return browser


def api_client(user: User) -> APIClient:
    client = APIClient()
    access = account_services.tokens_for(user)["access"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def slot_json(start: datetime, end: datetime | None = None, capacity: int = 10, **extra) -> dict:
    end = end or start + timedelta(hours=1)
    return {"start": start.isoformat(), "end": end.isoformat(), "capacity": capacity, **extra}


def listed_json(slot: TimeSlot, **changes) -> dict:
    return {**slot_json(slot.start, slot.end, slot.capacity, id=slot.pk), **changes}


def inline_row(
    index: int, start: datetime, end: datetime, capacity: int, slot: TimeSlot | None = None
) -> dict[str, str]:
    prefix = f"time_slots-{index}"
    data = {
        **split(start, f"{prefix}-start"),
        **split(end, f"{prefix}-end"),
        f"{prefix}-capacity": str(capacity),
    }
    if slot is not None:
        data.update({f"{prefix}-id": str(slot.pk), f"{prefix}-session": str(slot.session_id)})
    return data


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


def existing_rows(slots: list[TimeSlot]) -> list[dict[str, str]]:
    """The inline rows of `slots` as the change page shows them."""
    return [
        inline_row(index, slot.start, slot.end, slot.capacity, slot)
        for index, slot in enumerate(slots)
    ]


def slot_form(
    start: datetime, end: datetime, capacity: int, session: Session | None = None
) -> dict[str, str]:
    """The time slot's own add (with `session`) or change form."""
    data = {**split(start, "start"), **split(end, "end"), "capacity": str(capacity)}
    if session is not None:
        data["session"] = str(session.pk)
    return {**data, **ACTION_LOG_FORMS}


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def db_state() -> dict:
    """Everything a timetable write can change, the logs included."""
    return {
        "sessions": list(
            Session.objects.order_by("pk").values_list(
                "pk", "instructor_id", "title", "description", "category", "updated_at"
            )
        ),
        "slots": list(
            TimeSlot.objects.order_by("pk").values_list(
                "pk", "session_id", "start", "end", "capacity", "booked", "is_cancelled"
            )
        ),
        "bookings": list(
            Booking.objects.order_by("pk").values_list("pk", "time_slot_id", "status")
        ),
        "action_log": ActionLogEntry.objects.count(),
        "admin_log": LogEntry.objects.count(),
    }
