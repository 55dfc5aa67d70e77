"""Idempotent booking: a client's `Idempotency-Key` makes `POST /api/bookings/`
take effect at most once, and a retry gets the first answer again.

The key's row (`IdempotencyKey`, unique per client and key) is the claim, and
the unique constraint alone decides who holds it; no row is locked by hand.

1. Claim. The request inserts its row, with the hash of its JSON body and no
   status, in a transaction of its own that commits before the booking runs.
   If a row for that client and key exists already, that row decides: expired
   (24 hours after it was created) or abandoned (unfinished and older than
   `ABANDONED_AFTER`), it is deleted and the insert tried again; with another
   body hash, 422 `idempotency_key_reused`; unfinished, 409
   `idempotency_key_in_use`; finished, its answer is replayed.
2. Run. The booking runs in one transaction with the storing of its answer
   (status and body), and storing succeeds only while the row is still
   unfinished: a booking is committed together with its answer or not at all.
   A request whose claim was taken over meanwhile (declared abandoned and
   replaced by a retry) rolls its booking back and answers 409
   `idempotency_key_in_use`, so one key never makes two bookings.
3. Finish. An error answer below 500 is stored after its rolled-back
   transaction. An answer of 500 or more, or any other exception (a bug, the
   database going away, the worker being stopped), deletes the claim, so a
   retry runs afresh; nothing of that request was committed.

Abandoned claims: a worker killed mid-request (gunicorn's timeout, a crash,
an out-of-memory kill) cannot delete its claim, and its transaction is rolled
back by the database when the connection drops. Such a claim counts as
abandoned `ABANDONED_AFTER` (60 seconds) after it was created: a request takes
far less (gunicorn restarts a sync worker silent for 30 seconds; PostgreSQL
ends a statement after `STUDIO_DB_STATEMENT_TIMEOUT_MS`, 20 seconds by
default). Should a slower request still be running when a retry takes its
claim over, step 2 keeps the key to one booking all the same.

The locks taken are implicit and short: the store `UPDATE`s the key's row at
the end of the booking's transaction, and the deletes of steps 1 and 3 and of
`purge_idempotency_keys` run in transactions that hold no other lock, so no
two transactions can wait on each other in a circle.
"""

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _
from rest_framework.utils.encoders import JSONEncoder

from accounts.models import User
from bookings.models import IdempotencyKey
from core.errors import (
    IdempotencyKeyInUseError,
    IdempotencyKeyReusedError,
    StudioError,
    ValidationFailedError,
)
from core.exception_handler import database_unavailable, to_studio_error

logger = logging.getLogger(__name__)

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX_LENGTH = 255
# Printable ASCII, space to tilde.
KEY_PATTERN = rf"^[ -~]{{1,{KEY_MAX_LENGTH}}}$"
KEY_LIFETIME = timedelta(hours=24)
ABANDONED_AFTER = timedelta(seconds=60)
# Answers kept and replayed: everything below a server error.
KEPT_BELOW = 500
# Claim attempts when concurrent requests keep replacing the same expired or
# abandoned row; then the key counts as in use.
CLAIM_ATTEMPTS = 3

_KEY_RE = re.compile(KEY_PATTERN)
KEY_INVALID = _("An idempotency key is 1 to 255 printable ASCII characters.")


@dataclass(frozen=True)
class Answer:
    """An answer to a request: its HTTP status and JSON body, and whether it
    is a stored answer given again."""

    status: int
    body: Any
    replayed: bool = False

    @property
    def headers(self) -> dict[str, str]:
        """A replayed answer says so; a first answer carries no such header."""
        return {REPLAYED_HEADER: "true"} if self.replayed else {}


def idempotency_key_read(value: str | None) -> str | None:
    """The request's `Idempotency-Key` header, or None when it sent none.

    Raises `ValidationFailedError` (400 `invalid`, keyed by the header's name)
    for a key that is empty, longer than 255 characters or not printable ASCII.
    """
    if value is None:
        return None
    if not _KEY_RE.fullmatch(value):
        raise ValidationFailedError(errors={KEY_HEADER: [str(KEY_INVALID)]})
    return value


def _canonical(value: Any) -> Any:
    """`value` with every whole-number float as an int, so 7 and 7.0 hash alike."""
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def request_hash(body: Any) -> str:
    """The SHA-256 of a parsed JSON body, the same for every spelling of one
    JSON value (key order and whitespace do not matter)."""
    text = json.dumps(_canonical(body), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def idempotency_key_claim(*, client: User, key: str, body_hash: str) -> IdempotencyKey | Answer:
    """Claims `key` for `client`'s request with a body of hash `body_hash`, in a
    transaction of its own; returns the claimed row, or the stored answer to
    replay.

    Raises `IdempotencyKeyReusedError` if the key was used with another body,
    and `IdempotencyKeyInUseError` while the request that claimed it runs.
    """
    for _attempt in range(CLAIM_ATTEMPTS):
        moment = now()
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    client=client,
                    key=key,
                    request_hash=body_hash,
                    expires_at=moment + KEY_LIFETIME,
                )
        except IntegrityError:
            pass
        existing = IdempotencyKey.objects.filter(client=client, key=key).first()
        if existing is None:
            continue  # deleted meanwhile: claim it again
        if existing.expires_at <= moment:
            IdempotencyKey.objects.filter(pk=existing.pk, expires_at__lte=moment).delete()
            continue
        if existing.status_code is None and existing.created_at <= moment - ABANDONED_AFTER:
            IdempotencyKey.objects.filter(
                pk=existing.pk, status_code__isnull=True, created_at__lte=moment - ABANDONED_AFTER
            ).delete()
            continue
        if existing.request_hash != body_hash:
            raise IdempotencyKeyReusedError()
        if existing.status_code is None:
            raise IdempotencyKeyInUseError()
        return Answer(existing.status_code, existing.response_body, replayed=True)
    raise IdempotencyKeyInUseError()


def idempotency_key_store(*, claim: IdempotencyKey, answer: Answer) -> bool:
    """Stores `answer` on the claimed row; False when the claim is no longer
    held (it was released, or taken over as abandoned)."""
    body = json.loads(json.dumps(answer.body, cls=JSONEncoder))
    return bool(
        IdempotencyKey.objects.filter(pk=claim.pk, status_code__isnull=True).update(
            status_code=answer.status, response_body=body
        )
    )


def idempotency_key_release(*, claim: IdempotencyKey) -> None:
    """Gives the claimed key up without an answer, so a retry runs afresh."""
    try:
        with transaction.atomic():
            IdempotencyKey.objects.filter(pk=claim.pk, status_code__isnull=True).delete()
    except DatabaseError:
        # The database is gone: the claim stays until it counts as abandoned.
        logger.warning("Could not release idempotency key %s", claim.pk, exc_info=True)


def _kept_error(exc: BaseException) -> StudioError | None:
    """The error answer to keep for `exc`: one below 500, else None."""
    if not isinstance(exc, Exception) or database_unavailable(exc):
        return None
    error = to_studio_error(exc)
    if error is None or error.status >= KEPT_BELOW:
        return None
    return error


def _finish_with_error(claim: IdempotencyKey, exc: BaseException) -> None:
    """Stores the error answer to `exc` if it is kept, else releases the claim."""
    error = _kept_error(exc)
    if error is None:
        idempotency_key_release(claim=claim)
        return
    try:
        with transaction.atomic():
            idempotency_key_store(claim=claim, answer=Answer(error.status, error.body()))
    except DatabaseError:
        # Unstored, the claim counts as abandoned in time, and a retry runs again.
        logger.warning("Could not store the answer of idempotency key %s", claim.pk, exc_info=True)


def idempotent_answer(
    *, client: User, key: str, body: Any, run: Callable[[], tuple[int, Any]]
) -> Answer:
    """Answers `client`'s request with `key` and JSON `body` once: the first
    request calls `run` for its answer (status, body), in one transaction with
    storing that answer; a retry gets the stored answer again.

    An exception of `run` propagates, after its error answer (below 500) is
    stored or, for anything else, the claim is released.
    """
    claimed = idempotency_key_claim(client=client, key=key, body_hash=request_hash(body))
    if isinstance(claimed, Answer):
        return claimed
    try:
        with transaction.atomic():
            answer = Answer(*run())
            if answer.status < KEPT_BELOW and not idempotency_key_store(
                claim=claimed, answer=answer
            ):
                # Taken over as abandoned by a retry, which runs in its place.
                raise IdempotencyKeyInUseError()
    except IdempotencyKeyInUseError:
        raise
    except BaseException as exc:
        _finish_with_error(claimed, exc)
        raise
    if answer.status >= KEPT_BELOW:
        idempotency_key_release(claim=claimed)
    return answer


def idempotency_keys_purge(*, batch_size: int = 1000) -> int:
    """Deletes the keys expired by now, `batch_size` rows a transaction, so a
    large backlog never holds many locks or one long transaction; returns
    how many were deleted. Running it again, or beside itself, deletes
    nothing twice."""
    moment = now()
    deleted = 0
    while True:
        batch = list(
            IdempotencyKey.objects.filter(expires_at__lte=moment)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            return deleted
        with transaction.atomic():
            count, _ = IdempotencyKey.objects.filter(pk__in=batch, expires_at__lte=moment).delete()
        deleted += count
