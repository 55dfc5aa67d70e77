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

from django.db import models, transaction

LOCK_ORDER = (
    "accounts.user",
    "token_blacklist.outstandingtoken",
    "sessions_app.timeslot",
    "bookings.booking",
)


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
        raise ValueError(f"{unknown[0]} has no place in studio.locking.LOCK_ORDER.")
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
