"""Row locks for writes, taken in one global order.

Every service that checks a rule against rows other requests may change at
the same moment (seats, overlaps, a token's use) locks those rows first, with
`lock_objects`, and only then reads, checks and writes. Nothing else in the
project calls `select_for_update`.

The order, which every transaction follows so that no two can deadlock:

1. users (`accounts.user`): the client who books (one client's concurrent
   requests cannot book two overlapping slots), or the instructor whose
   timetable changes (two requests cannot each add one of two overlapping
   slots);
2. refresh tokens (`token_blacklist.outstandingtoken`): a token being rotated
   is used once;
3. time slots (`sessions_app.timeslot`): the seats of a slot are counted and
   changed by one transaction at a time;
4. bookings (`bookings.booking`).

Within one kind, rows are locked in primary-key order. A transaction calls
`lock_objects` once, with every queryset it needs, as late as possible but
before its first check. Locks last until the transaction ends; SQLite takes
its database-wide write lock at the transaction's start instead (see the
database settings), which serialises writers just as well.
"""

from collections.abc import Callable
from typing import TypeVar

from django.db import models, transaction

from core.errors import ServiceUnavailableError

T = TypeVar("T")

LOCK_ORDER = (
    "accounts.user",
    "token_blacklist.outstandingtoken",
    "sessions_app.timeslot",
    "bookings.booking",
)


class LockSetChanged(Exception):
    """Raised inside a write's transaction when a row it must hold locked
    appeared after it chose the rows to lock (read before its one
    `lock_objects` call). The transaction rolls back and, through
    `with_fresh_locks`, the write runs again with a fresh read."""


# With no row every write updates, writes on different slots run fully side
# by side, and a client joining a waitlist between a write's read and its
# lock makes it run again more often under heavy contention: ten tries.
LOCK_SET_ATTEMPTS = 10


def with_fresh_locks(write: Callable[[], T]) -> T:
    """Runs `write` (which opens its own `transaction.atomic()`) again while
    it raises `LockSetChanged`, at most `LOCK_SET_ATTEMPTS` times; then the
    request is answered 503, worth retrying."""
    for _attempt in range(LOCK_SET_ATTEMPTS - 1):
        try:
            return write()
        except LockSetChanged:
            continue
    try:
        return write()
    except LockSetChanged:
        raise ServiceUnavailableError() from None


class LockOutsideTransactionError(RuntimeError):
    """A lock taken outside `transaction.atomic()` would end with its query."""


def lock_objects(*querysets: models.QuerySet) -> list[list[models.Model]]:
    """Locks the rows of each queryset and returns them, one list per queryset
    in the order given, each list in primary-key order.

    The querysets are locked by the global order of their models (above),
    whatever order they are passed in. Joined tables (`select_related`) are
    read, not locked.
    """
    if not querysets:
        return []
    labels = [queryset.model._meta.label_lower for queryset in querysets]
    unknown = [label for label in labels if label not in LOCK_ORDER]
    if unknown:
        raise ValueError(f"{unknown[0]} has no place in core.locking.LOCK_ORDER.")
    if len(set(labels)) != len(labels):
        raise ValueError("Pass one queryset per model, so its rows lock in primary-key order.")
    using = querysets[0].db
    if not transaction.get_connection(using).in_atomic_block:
        raise LockOutsideTransactionError(
            "lock_objects() must run inside transaction.atomic(): its locks last "
            "until the transaction ends."
        )
    locked: list[list[models.Model]] = [[] for _ in querysets]
    for index in sorted(range(len(querysets)), key=lambda i: LOCK_ORDER.index(labels[i])):
        queryset = querysets[index].select_for_update(of=("self",)).order_by("pk")
        locked[index] = list(queryset)
    return locked
