"""Reads of the public timetable from a read replica (DATABASE_REPLICA_URL).

A view that only reads what anyone may see marks its work with
`public_reads()`; inside it, reads go to the replica. Everything else, and
every write, goes to the primary: a signed-in user reads their own writes at
once, and a replica that lags a moment only delays what the public sees, as
the timetable cache already may."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

REPLICA = "replica"
_public = ContextVar("studio_public_reads", default=False)


@contextmanager
def public_reads() -> Iterator[None]:
    token = _public.set(True)
    try:
        yield
    finally:
        _public.reset(token)


class PublicReadsRouter:
    def db_for_read(self, model, **hints) -> str | None:
        if _public.get() and REPLICA in settings.DATABASES:
            return REPLICA
        return None

    def db_for_write(self, model, **hints) -> str | None:
        return None

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # one database, copied

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db != REPLICA
