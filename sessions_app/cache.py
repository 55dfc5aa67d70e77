"""The public timetable's answers, cached through Django's cache framework.

An answer is cached under the path, the query as the view reads it (in a
fixed order, defaults left out) and the viewing zone, together with the
timetable's version it was built at; a request with parameters the view does
not read is answered uncached, so junk query strings cannot fill the cache,
and a query the view refuses is answered 400 and never kept. An answer kept
at an earlier version is not served. Every write the public can see calls
`timetable_changed()` (or sends `core.signals.timetable_changed`), which
moves the version on as soon as the write commits (`transaction.on_commit`),
before the writing request answers; so once a write has committed and its
answer has gone out, no worker serves an answer from before it. An answer also
lapses when the earliest upcoming slot starts, since the timetable then
changes by time alone.

The version lives in the cache, so no row is updated by every write (writes
to different slots never queue on one another). Answers are therefore cached
only where every worker shares the cache, with Redis (`REDIS_URL`); with a
cache of each worker's own, the timetable is answered fresh every time.

A cache that cannot be reached costs neither reads nor writes: reads are
answered fresh, and a write's version move is dropped with a warning. (Once
the cache answers again, an answer cached before such a write may be served
until it lapses, at most STUDIO_TIMETABLE_CACHE_SECONDS.)
"""

import hashlib
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.utils.timezone import now
from redis.exceptions import RedisError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from core import timezones
from sessions_app.models import TimeSlot

logger = logging.getLogger(__name__)

# What a cache that cannot be reached raises.
CACHE_ERRORS = (RedisError, OSError)

KEY_PREFIX = "timetable"
VERSION_KEY = f"{KEY_PREFIX}:version"
# A second version, of the schedule alone (which slots there are, when, and
# whether cancelled): bookings leave it as it is, so what depends on the
# schedule alone, such as how many sessions a list holds, outlives them.
SCHEDULE_KEY = f"{KEY_PREFIX}:schedule"


def _new_version() -> int:
    """A version no earlier one has been: the key, once lost from the
    cache, starts again above every version counted up before."""
    return time.time_ns()


def _version(key: str) -> int:
    version = cache.get(key)
    if version is None:
        cache.add(key, _new_version(), timeout=None)
        version = cache.get(key, 0)
    return version


def timetable_version() -> int:
    return _version(VERSION_KEY)


def schedule_version() -> int:
    return _version(SCHEDULE_KEY)


def _bump(keys: tuple[str, ...]) -> None:
    for key in keys:
        try:
            try:
                cache.incr(key)
            except ValueError:  # not in the cache (never set, evicted or cleared)
                cache.set(key, _new_version(), timeout=None)
        except CACHE_ERRORS as exc:
            logger.warning("The timetable cache's version was not moved: %s", exc)


def timetable_changed(*, seats_only: bool = False) -> None:
    """Call in any write that the public timetable shows: the version moves
    once the write commits, and not at all if it rolls back. `seats_only`: the
    write changed seats (bookings, the waitlist) and not the schedule."""
    keys = (VERSION_KEY,) if seats_only else (VERSION_KEY, SCHEDULE_KEY)
    transaction.on_commit(lambda: _bump(keys))


def timetable_changed_elsewhere(sender, **kwargs) -> None:
    """Receives `core.signals.timetable_changed`, sent by apps that may not
    import the timetable, and calls `timetable_changed()`."""
    timetable_changed()


def _seconds_to_live() -> int:
    """Until the earliest upcoming slot starts, and at most the setting."""
    limit = settings.STUDIO_TIMETABLE_CACHE_SECONDS
    first = TimeSlot.objects.upcoming().order_by("start").values_list("start", flat=True).first()
    if first is None:
        return limit
    return max(1, min(limit, int((first - now()) / timedelta(seconds=1))))


def _caching() -> bool:
    return settings.STUDIO_TIMETABLE_CACHE_SECONDS > 0 and settings.STUDIO_TIMETABLE_CACHE_SHARED


def _kept(name: str, version_key: str) -> tuple[str, int, object]:
    """One round trip to the cache: the current version under `version_key`
    and what is kept under `name` if it was kept at that version. Returns the
    entry's key, the version, and the value or None."""
    key = f"{KEY_PREFIX}:{name}"
    found = cache.get_many([version_key, key])
    version = found.get(version_key)
    if version is None:
        version = _version(version_key)
    entry = found.get(key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == version:
        return key, version, entry[1]
    return key, version, None


def _keep(key: str, version: int, value: object) -> None:
    try:
        cache.set(key, (version, value), _seconds_to_live())
    except CACHE_ERRORS as exc:
        logger.warning("The timetable cache is unreachable; not keeping %s: %s", key, exc)


def remembered_count(identity: str, *, seats: bool) -> Callable[[Callable[[], int]], int]:
    """What keeps a list's count, `identity` naming the list (its filters and
    the viewing zone), for `selectors.PublicTimetable`. The count is kept under
    the schedule's version, or with `seats` (a list of slots with a free seat)
    under the timetable's; and, like an answer, until the earliest upcoming
    slot starts. So the first read after a booking counts afresh only the
    lists that depend on seats."""

    def remember(count: Callable[[], int]) -> int:
        if not _caching():
            return count()
        digest = hashlib.sha256(identity.encode()).hexdigest()
        try:
            key, version, value = _kept(f"count:{digest}", VERSION_KEY if seats else SCHEDULE_KEY)
        except CACHE_ERRORS as exc:
            logger.warning("The timetable cache is unreachable; counting afresh: %s", exc)
            return count()
        if value is None:
            value = count()
            _keep(key, version, value)
        return value

    return remember


def _query_key(request, view) -> str | None:
    """The request's query as `view` reads it: its parameters in a fixed
    order, those left empty or at their defaults left out. None when it
    carries a parameter the view does not read, or one twice. Values are
    not checked here: a query the view refuses is answered 400, never kept."""
    params = request.query_params
    paginator = view.paginator
    known = {
        *view.filterset_class.base_filters,
        paginator.page_query_param,
        paginator.page_size_query_param,
    }
    read = {}
    for name in params:
        values = params.getlist(name)
        if len(values) > 1:
            return None
        if name == timezones.QUERY_PARAM:
            continue  # the viewing zone is a part of the key of its own
        if name not in known:
            return None
        if values[0]:
            read[name] = values[0]
    if read.get(paginator.page_query_param) == "1":
        del read[paginator.page_query_param]
    if read.get(paginator.page_size_query_param) == str(paginator.page_size):
        del read[paginator.page_size_query_param]
    return urlencode(sorted(read.items()))


def cached_response(view, request, build: Callable[[], Response]) -> HttpResponseBase:
    """The cached answer to this request of `view`, or `build()`'s, kept for the next.

    The answer is kept rendered, with the version it was built at, so a
    cached read costs one round trip to the cache (the version and the
    answer together), no query and no serialization."""
    if not _caching():
        return build()
    query = _query_key(request, view)
    if query is None:
        return build()
    identity = f"{request.path}?{query}|{timezones.viewing_zone(request).key}"
    digest = hashlib.sha256(identity.encode()).hexdigest()
    try:
        key, version, content = _kept(f"answer:{digest}", VERSION_KEY)
    except CACHE_ERRORS as exc:
        logger.warning("The timetable cache is unreachable; answering fresh: %s", exc)
        return build()
    if content is None:
        content = JSONRenderer().render(build().data)
        _keep(key, version, content)
    return HttpResponse(content, content_type="application/json")
