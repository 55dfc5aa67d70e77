"""Examples that Swagger UI shows for the booking endpoints."""

from bookings import services
from bookings.idempotency import KEY_HEADER, KEY_INVALID
from core.errors import (
    AlreadyBookedError,
    CancellationClosedError,
    ForbiddenError,
    IdempotencyKeyInUseError,
    IdempotencyKeyReusedError,
    NotFoundError,
    SlotCancelledError,
    SlotExpiredError,
    SlotFullError,
    TimeConflictError,
    ValidationFailedError,
    WaitlistFullError,
)
from core.examples import NOT_AUTHENTICATED, problem_example, request_example, response_example
from sessions_app.examples import EVENING_YOGA

CONFIRMED = {
    "id": 21,
    "status": "confirmed",
    "waitlist_position": None,
    "created_at": "2031-01-02T18:30:00+05:30",
    "cancelled_at": None,
    "cancel_before": "2031-01-10T07:00:00+05:30",
    "late": False,
    "attendance": None,
    "time_slot": {**EVENING_YOGA["time_slots"][0], "booked": 6, "available": 6},
    "session": {
        "id": 3,
        "title": "Evening Yoga",
        "category": "yoga",
        "instructor": {"id": 2, "name": "Priya Shah"},
    },
}
WAITLISTED = {
    **CONFIRMED,
    "id": 22,
    "status": "waitlisted",
    "waitlist_position": 4,
    "cancel_before": "2031-01-11T07:00:00+05:30",
    "time_slot": {**EVENING_YOGA["time_slots"][1], "waitlisted": 4},
}
CANCELLED = {
    **CONFIRMED,
    "status": "cancelled",
    "cancelled_at": "2031-01-05T08:00:00+05:30",
    "time_slot": {**CONFIRMED["time_slot"], "booked": 5, "available": 7},
}
CANCELLED_LATE = {
    **CANCELLED,
    "cancelled_at": "2031-01-10T09:30:00+05:30",
    "late": True,
}
EXPIRED = {
    **WAITLISTED,
    "status": "expired",
    "waitlist_position": None,
    "time_slot": {**WAITLISTED["time_slot"], "status": "past", "waitlisted": 0},
}

BOOKING_CREATE = [
    request_example("A time slot's id", {"time_slot": 7}),
    request_example("Join the waitlist if the slot is full", {"time_slot": 8, "waitlist": True}),
    response_example("Booked", CONFIRMED, 201),
    response_example("Waiting for a seat", WAITLISTED, 201),
    problem_example("No seat left", SlotFullError()),
    problem_example("Waitlist full", WaitlistFullError()),
    problem_example("Booked already", AlreadyBookedError()),
    problem_example("Another booking at the same time", TimeConflictError()),
    problem_example("Started already", SlotExpiredError()),
    problem_example("Cancelled by the studio", SlotCancelledError()),
    problem_example("Same Idempotency-Key still running", IdempotencyKeyInUseError()),
    problem_example("Idempotency-Key used with another body", IdempotencyKeyReusedError()),
    problem_example(
        "Unknown time slot",
        ValidationFailedError(errors={"time_slot": ["There is no time slot with this id."]}),
    ),
    problem_example(
        "Idempotency-Key malformed",
        ValidationFailedError(errors={KEY_HEADER: [str(KEY_INVALID)]}),
    ),
    NOT_AUTHENTICATED,
]

BOOKING_LIST = [response_example("Your bookings", CONFIRMED), NOT_AUTHENTICATED]

BOOKING_DETAIL = [
    response_example("A booking", CONFIRMED),
    response_example("Waiting for a seat", WAITLISTED),
    response_example("Its slot started while it waited", EXPIRED),
    NOT_AUTHENTICATED,
]

BOOKING_CANCEL = [
    response_example("Cancelled; the seat is free again", CANCELLED),
    response_example("Cancelled after cancel_before", CANCELLED_LATE),
    problem_example("Slot started", CancellationClosedError()),
    NOT_AUTHENTICATED,
]

# The owner's view of Evening Yoga after the studio cancelled its first slot:
# its bookings are cancelled and its seats free; the second slot is untouched.
MAYA = {"id": 4, "name": "Maya Rao", "email": "maya@client.example"}
SAM = {"id": 5, "name": "Sam Lee", "email": "sam@client.example"}
SLOT_CANCELLED = {
    **EVENING_YOGA,
    "time_slots": [
        {
            **EVENING_YOGA["time_slots"][0],
            "booked": 0,
            "available": 12,
            "is_full": False,
            "status": "cancelled",
            "bookings": [
                {
                    "id": 21,
                    "status": "cancelled",
                    "created_at": "2031-01-02T18:30:00+05:30",
                    "client": MAYA,
                    "attendance": None,
                }
            ],
        },
        {
            **EVENING_YOGA["time_slots"][1],
            "bookings": [
                {
                    "id": 22,
                    "status": "confirmed",
                    "created_at": "2031-01-03T09:00:00+05:30",
                    "client": SAM,
                    "attendance": None,
                }
            ],
        },
    ],
}

SLOT_CANCEL = [
    response_example("Cancelled, with its bookings", SLOT_CANCELLED),
    problem_example("Slot started", SlotExpiredError()),
    problem_example("Not your session", ForbiddenError()),
    problem_example("No such session or slot", NotFoundError()),
    NOT_AUTHENTICATED,
]

ATTENDANCE_MARK = [
    request_example("Came to class", {"booking": 21, "attendance": "attended"}),
    request_example("Did not come", {"booking": 21, "attendance": "no_show"}),
    response_example("Marked", {**CONFIRMED, "attendance": "attended"}),
    problem_example(
        "Not a confirmed booking of this slot",
        ValidationFailedError(errors={"booking": ["Only a confirmed booking can be marked."]}),
    ),
    problem_example("Outside the attendance window", services.attendance_closed()),
    problem_example("Not your session", ForbiddenError()),
    NOT_AUTHENTICATED,
]
