"""Examples that Swagger UI shows for the notification endpoints."""

from core.examples import NOT_AUTHENTICATED, response_example

REMINDER = {
    "id": 57,
    "kind": "reminder",
    "status": "sent",
    "subject": "Reminder: Evening Yoga, Fri 10 Jan 2031, 19:00 IST (Asia/Kolkata)",
    "booking": 21,
    "created_at": "2031-01-10T18:00:04+05:30",
    "sent_at": "2031-01-10T18:00:05+05:30",
}
RETRYING = {
    "id": 41,
    "kind": "booking_confirmed",
    "status": "pending",
    "subject": "Booked: Evening Yoga, Fri 10 Jan 2031, 19:00 IST (Asia/Kolkata)",
    "booking": 21,
    "created_at": "2031-01-02T18:30:00+05:30",
    "sent_at": None,
}

NOTIFICATION_LIST = [
    response_example("Your notifications", REMINDER),
    response_example("Waiting for its next try", RETRYING),
    NOT_AUTHENTICATED,
]
