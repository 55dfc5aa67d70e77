"""Pieces of the request and response examples that Swagger UI shows."""

from drf_spectacular.utils import OpenApiExample

from core.errors import NotAuthenticatedError, StudioError


def request_example(name: str, value: dict, **kwargs) -> OpenApiExample:
    return OpenApiExample(name, value=value, request_only=True, **kwargs)


def response_example(name: str, value: dict, status: int = 200, **kwargs) -> OpenApiExample:
    return OpenApiExample(
        name, value=value, response_only=True, status_codes=[str(status)], **kwargs
    )


def problem_example(name: str, error: StudioError) -> OpenApiExample:
    """The answer to `error`, with the body the exception handler renders for
    it, so an example cannot drift from the error it shows."""
    return response_example(name, error.body(), error.status)


# Shortened tokens: real ones are longer signed JWTs.
ACCESS_TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.c2lnbmF0dXJl"
REFRESH_TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl"

NOT_AUTHENTICATED = problem_example("Not signed in", NotAuthenticatedError())
