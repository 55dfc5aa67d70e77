"""Examples that Swagger UI shows for the account endpoints."""

from core.errors import (
    InstructorSignupClosedError,
    InvalidCredentialsError,
    TokenNotValidError,
    ValidationFailedError,
)
from core.examples import (
    ACCESS_TOKEN,
    NOT_AUTHENTICATED,
    REFRESH_TOKEN,
    problem_example,
    request_example,
    response_example,
)

MAYA = {
    "id": 4,
    "email": "maya@client.example",
    "name": "Maya Rao",
    "role": "client",
    "timezone": "Asia/Kolkata",
    "email_reminders": True,
}
SIGNED_IN = {"user": MAYA, "access": ACCESS_TOKEN, "refresh": REFRESH_TOKEN}

REGISTER = [
    request_example(
        "A client",
        {
            "email": "maya@client.example",
            "password": "sturdy-Pass-123",
            "name": "Maya Rao",
            "role": "client",
            "timezone": "Asia/Kolkata",
        },
    ),
    request_example(
        "An instructor in the studio's zone",
        {
            "email": "priya@studio.example",
            "password": "sturdy-Pass-123",
            "name": "Priya Shah",
            "role": "instructor",
        },
    ),
    response_example("Registered and signed in", SIGNED_IN, 201),
    problem_example(
        "Invalid fields",
        ValidationFailedError(
            errors={
                "email": ["A user with this email already exists."],
                "password": ["This password is too common."],
            }
        ),
    ),
    problem_example("Instructor sign-up closed", InstructorSignupClosedError()),
]

LOGIN = [
    request_example(
        "Email and password", {"email": "maya@client.example", "password": "sturdy-Pass-123"}
    ),
    response_example("Signed in", SIGNED_IN),
    problem_example("Wrong email or password", InvalidCredentialsError()),
]

REFRESH = [
    request_example("A refresh token", {"refresh": REFRESH_TOKEN}),
    response_example("A new token pair", {"access": ACCESS_TOKEN, "refresh": REFRESH_TOKEN}),
    problem_example("Refresh token used or expired", TokenNotValidError()),
]

ME_GET = [response_example("The signed-in user", MAYA), NOT_AUTHENTICATED]

ME_PATCH = [
    request_example("Travelling to New York", {"timezone": "America/New_York"}),
    response_example("Updated", {**MAYA, "timezone": "America/New_York"}),
    request_example("No more reminders", {"email_reminders": False}),
    problem_example(
        "Unknown zone",
        ValidationFailedError(
            errors={
                "timezone": [
                    "Mars/Base is not a known time zone; use an IANA name such as Asia/Kolkata."
                ]
            }
        ),
    ),
    NOT_AUTHENTICATED,
]
