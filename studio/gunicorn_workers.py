"""Gunicorn workers whose own refusals answer in the API's problem shape.

Gunicorn refuses some requests before Django sees them: a request line over
`limit_request_line`, too many or too large headers, a line or header it
cannot parse. Its stock answer is a small HTML page. These workers keep every
decision gunicorn makes (which status, what it logs, the access-log line) and
replace only that page with the JSON problem body of the matching
`core.errors` class. gunicorn.conf.py picks the sync or the threaded one.

This module is imported by gunicorn's master process before Django is set up,
so it imports nothing that needs settings; the body is rendered in a worker,
after the application has loaded.
"""

import json
import socket

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker
from gunicorn.workers.sync import SyncWorker

from core import errors


class _StatusCatcher:
    """Stands in for the client socket while gunicorn writes its HTML error
    page: keeps the page and its status instead of sending them."""

    def __init__(self, sock: socket.socket):
        self._sock = sock
        self.page = b""
        self.status: int | None = None

    def __getattr__(self, name: str):
        return getattr(self._sock, name)

    def sendall(self, data: bytes) -> None:
        self.page += data
        if self.status is None:
            try:
                self.status = int(data.split(b" ", 2)[1])
            except (IndexError, ValueError):
                self.status = None


def refusal(status: int | None, limit_request_line: int) -> errors.StudioError | None:
    """The project error that answers a request gunicorn refused with `status`."""
    if status == 414:
        return errors.UriTooLongError.for_request_line(limit_request_line)
    by_status: dict[int, type[errors.StudioError]] = {
        cls.status: cls
        for cls in [
            errors.BadRequestError,
            errors.ForbiddenError,
            errors.ExpectationFailedError,
            errors.RequestHeadersTooLargeError,
            errors.StudioError,
            errors.TransferCodingNotImplementedError,
        ]
    }
    cls = by_status.get(status)
    return cls() if cls is not None else None


def problem_page(error: errors.StudioError) -> bytes:
    """A whole HTTP/1.1 answer carrying the problem body of `error`."""
    problem = error.body()
    body = json.dumps(problem).encode()
    head = [
        f"HTTP/1.1 {error.status} {problem['title']}",
        "Connection: close",
        "Content-Type: application/problem+json",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in error.headers.items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class ProblemErrorsMixin:
    def handle_error(self, req, client, addr, exc):
        catcher = _StatusCatcher(client)
        super().handle_error(req, catcher, addr, exc)
        page = catcher.page
        try:
            error = refusal(catcher.status, self.cfg.limit_request_line)
            if error is not None:
                page = problem_page(error)
        except Exception:
            # Gunicorn's own page is still an answer; a worker must not die here.
            self.log.exception("Could not render the problem body of a refused request.")
        if not page:
            return
        try:
            util.write_nonblock(client, page)
        except Exception:
            self.log.debug("Failed to send error message.")


class ProblemSyncWorker(ProblemErrorsMixin, SyncWorker):
    """Gunicorn's sync worker, answering its refusals as problem bodies."""


class ProblemThreadWorker(ProblemErrorsMixin, ThreadWorker):
    """Gunicorn's threaded worker, answering its refusals as problem bodies."""
