"""Races: threads that each hold their own database connection, and a read
that sees the data as it was before a concurrent write."""

import copy
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from django.db import connection

THREAD_TIMEOUT = 30


def race(count: int, work: Callable[[int, threading.Barrier], Any]) -> list[Any]:
    """Runs `work(index, barrier)` in `count` threads and returns what each returned,
    or the exception it raised. Each thread closes its own connection."""
    barrier = threading.Barrier(count, timeout=THREAD_TIMEOUT)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            results[index] = work(index, barrier)
        except BaseException as exc:  # handed to the test, which reports it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
    alive = [thread.name for thread in threads if thread.is_alive()]
    if alive:
        raise AssertionError(f"threads still running after {THREAD_TIMEOUT} s: {alive}")
    return results


@contextmanager
def stale_first_read(owner: Any, name: str, stale: Any) -> Iterator[list[Any]]:
    """While open, the first call of `owner.name` answers `stale` (what it
    would have read before a concurrent write) and every later call reads
    for real. Yields the list of what each call answered, in order."""
    read = getattr(owner, name)
    calls: list[Any] = []

    def first_stale(*args, **kwargs):
        found = read(*args, **kwargs) if calls else copy.copy(stale)
        calls.append(found)
        return found

    with mock.patch.object(owner, name, side_effect=first_stale):
        yield calls
