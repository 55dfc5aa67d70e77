"""Examples that Swagger UI shows for the timetable endpoints."""

from core.errors import ForbiddenError, NotFoundError, ValidationFailedError
from core.examples import NOT_AUTHENTICATED, problem_example, request_example, response_example


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
    "recurrence": None,
    "created_at": "2030-12-20T09:15:00+05:30",
    "updated_at": "2030-12-20T09:15:00+05:30",
}
NEW_EVENING_YOGA = {
    **EVENING_YOGA,
    "time_slots": [_slot(7, "10", 12, 0), _slot(8, "11", 12, 0)],
}

WEEKLY_PILATES = {
    **EVENING_YOGA,
    "id": 4,
    "title": "Monday Pilates",
    "description": "",
    "category": "pilates",
    "time_slots": [
        {
            **_slot(9, "06", 10, 0),
            "session": 4,
            "start": "2031-01-06T07:00:00+05:30",
            "end": "2031-01-06T07:45:00+05:30",
        },
        {
            **_slot(10, "13", 10, 0),
            "session": 4,
            "start": "2031-01-13T07:00:00+05:30",
            "end": "2031-01-13T07:45:00+05:30",
        },
    ],
    "recurrence": {
        "rrule": "FREQ=WEEKLY;BYDAY=MO;COUNT=2",
        "start": "2031-01-06T07:00:00+05:30",
        "duration_minutes": 45,
        "capacity": 10,
    },
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
    request_example(
        "Every Monday at 07:00 studio time",
        {
            "title": "Monday Pilates",
            "category": "pilates",
            "recurrence": {
                "rrule": "FREQ=WEEKLY;BYDAY=MO;COUNT=2",
                "start": "2031-01-06T07:00",
                "duration_minutes": 45,
                "capacity": 10,
            },
        },
    ),
    response_example("Created", NEW_EVENING_YOGA, 201),
    response_example("Created with its schedule's slots", WEEKLY_PILATES, 201),
    problem_example(
        "An occurrence overlaps another class",
        ValidationFailedError(
            errors={
                "recurrence": [
                    "The occurrence at 2031-01-13T07:00 overlaps your time slot 7 of Evening Yoga."
                ]
            }
        ),
    ),
    problem_example(
        "A rule that is not daily or weekly",
        ValidationFailedError(errors={"recurrence": {"rrule": ["FREQ must be DAILY or WEEKLY."]}}),
    ),
    problem_example(
        "A slot ends before it starts",
        ValidationFailedError(
            errors={"time_slots": [{}, {"end": ["A time slot must end after it starts."]}]}
        ),
    ),
    NOT_AUTHENTICATED,
    problem_example("Not an instructor", ForbiddenError()),
]
