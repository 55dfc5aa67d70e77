"""Pieces of the request and response examples that Swagger UI shows."""

from http import HTTPStatus

from drf_spectacular.utils import OpenApiExample


def request_example(name: str, value: dict, **kwargs) -> OpenApiExample:
    return OpenApiExample(name, value=value, request_only=True, **kwargs)


def response_example(name: str, value: dict, status: int = 200, **kwargs) -> OpenApiExample:
    return OpenApiExample(
        name, value=value, response_only=True, status_codes=[str(status)], **kwargs
    )


def problem_example(
    name: str, status: int, code: str, detail: str, errors: dict | None = None
) -> OpenApiExample:
    """An error answer in the problem shape every error has."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return response_example(name, body, status)


# Shortened tokens: real ones are longer signed JWTs.
ACCESS_TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.c2lnbmF0dXJl"
REFRESH_TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl"

NOT_AUTHENTICATED = problem_example(
    "Not signed in", 401, "not_authenticated", "Authentication credentials were not provided."
)
