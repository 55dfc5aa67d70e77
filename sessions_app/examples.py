"""Examples that Swagger UI shows for the timetable endpoints."""

from studio.errors import ForbiddenError, NotFoundError, ValidationFailedError
from studio.examples import NOT_AUTHENTICATED, problem_example, request_example, response_example


def _slot(slot_id: int, day: str, capacity: int, booked: int, waitlisted: int = 0) -> dict:
    return {
        "id": slot_id,
        "session": 3,
        "start": f"2031-01-{day}T19:00:00+05:30",
        "end": f"2031-01-{day}T20:00:00+05:30",
        "timezone": "Asia/Kolkata",
        "capacity": capacity,
        "booked": booked,
        "available": capacity - booked,
        "is_full": booked >= capacity,
        "status": "full" if booked >= capacity else "open",
        "waitlisted": waitlisted,
    }


EVENING_YOGA = {
    "id": 3,
    "title": "Evening Yoga",
    "description": "Slow flow for every level.",
    "category": "yoga",
    "instructor": {"id": 2, "name": "Priya Shah"},
    "time_slots": [_slot(7, "10", 12, 5), _slot(8, "11", 12, 12, waitlisted=3)],
    "created_at": "2030-12-20T09:15:00+05:30",
    "updated_at": "2030-12-20T09:15:00+05:30",
}
NEW_EVENING_YOGA = {
    **EVENING_YOGA,
    "time_slots": [_slot(7, "10", 12, 0), _slot(8, "11", 12, 0)],
}

PUBLIC_LIST = [response_example("Sessions with upcoming slots", EVENING_YOGA)]

PUBLIC_DETAIL = [
    response_example("A session with its upcoming slots", EVENING_YOGA),
    problem_example("No upcoming slot", NotFoundError()),
]

SESSION_CREATE = [
    request_example(
        "Two evenings, in studio time",
        {
            "title": "Evening Yoga",
            "description": "Slow flow for every level.",
            "category": "yoga",
            "time_slots": [
                {"start": "2031-01-10T19:00", "end": "2031-01-10T20:00", "capacity": 12},
                {"start": "2031-01-11T19:00", "end": "2031-01-11T20:00", "capacity": 12},
            ],
        },
    ),
    request_example(
        "A slot given with an explicit offset",
        {
            "title": "Sunrise HIIT",
            "category": "hiit",
            "time_slots": [
                {
                    "start": "2031-01-12T01:00:00+00:00",
                    "end": "2031-01-12T01:45:00+00:00",
                    "capacity": 20,
                }
            ],
        },
    ),
    response_example("Created", NEW_EVENING_YOGA, 201),
    problem_example(
        "A slot ends before it starts",
        ValidationFailedError(
            errors={"time_slots": [{}, {"end": ["A time slot must end after it starts."]}]}
        ),
    ),
    NOT_AUTHENTICATED,
    problem_example("Not an instructor", ForbiddenError()),
]
