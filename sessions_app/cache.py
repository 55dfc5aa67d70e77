"""The public timetable's answers, cached through Django's cache framework.

An answer is cached under the timetable revision, the path, the query as the
view reads it (validated, in a fixed order) and the viewing zone; a request
with parameters the view does not read is answered uncached, so junk query
strings cannot fill the cache. Every write the public can see calls
`timetable_changed()` (or sends `studio.signals.timetable_changed`), which
moves the revision on in the write's own transaction, so no worker serves
the old answer once the write has committed. An answer also lapses when the
earliest upcoming slot starts, since the timetable then changes by time alone.
"""

import hashlib
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.utils.timezone import now
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from sessions_app.models import TimeSlot, TimetableRevision
from studio import timezones

KEY_PREFIX = "timetable"


def timetable_revision() -> int:
    return TimetableRevision.objects.filter(pk=1).values_list("number", flat=True).first() or 0


def _bump() -> None:
    if not TimetableRevision.objects.filter(pk=1).update(number=F("number") + 1):
        try:
            with transaction.atomic():
                TimetableRevision.objects.create(pk=1, number=1)
        except IntegrityError:  # another worker made it meanwhile
            TimetableRevision.objects.filter(pk=1).update(number=F("number") + 1)


def timetable_changed() -> None:
    """Call at the end of any write that the public timetable shows.

    The revision moves in the same transaction, so it commits with the write
    or not at all. Its row stays locked until then: call this last, after
    every other lock the transaction takes, so no two writers can deadlock on it.
    """
    _bump()


def timetable_changed_elsewhere(sender, **kwargs) -> None:
    """Receives `studio.signals.timetable_changed`, sent by apps that may not
    import the timetable, and calls `timetable_changed()`."""
    timetable_changed()


def _seconds_to_live() -> int:
    """Until the earliest upcoming slot starts, and at most the setting."""
    limit = settings.STUDIO_TIMETABLE_CACHE_SECONDS
    first = TimeSlot.objects.upcoming().order_by("start").values_list("start", flat=True).first()
    if first is None:
        return limit
    return max(1, min(limit, int((first - now()) / timedelta(seconds=1))))


def _query_key(request, view) -> str | None:
    """The request's query as `view` reads it, or None when it carries a
    parameter the view does not read, one twice, or a value its filters refuse."""
    params = request.query_params
    paginator = view.paginator
    known = {
        *view.filterset_class.base_filters,
        paginator.page_query_param,
        paginator.page_size_query_param,
        timezones.QUERY_PARAM,
    }
    if any(name not in known or len(params.getlist(name)) > 1 for name in params):
        return None
    filterset = view.filterset_class(params, request=request)
    if not filterset.is_valid():
        return None
    read = {name: value for name, value in filterset.form.cleaned_data.items() if value}
    read["page"] = params.get(paginator.page_query_param, "1")
    read["page_size"] = paginator.get_page_size(request)
    return urlencode(sorted(read.items()))


def cached_response(view, request, build: Callable[[], Response]) -> HttpResponseBase:
    """The cached answer to this request of `view`, or `build()`'s, kept for the next.

    The answer is kept rendered, so a cached read costs a cache lookup and the
    revision query, not a serialization."""
    if settings.STUDIO_TIMETABLE_CACHE_SECONDS <= 0:
        return build()
    query = _query_key(request, view)
    if query is None:
        return build()
    identity = f"{request.path}?{query}|{timezones.viewing_zone(request).key}"
    digest = hashlib.sha256(identity.encode()).hexdigest()
    key = f"{KEY_PREFIX}:{timetable_revision()}:{digest}"
    content = cache.get(key)
    if content is None:
        content = JSONRenderer().render(build().data)
        cache.set(key, content, _seconds_to_live())
    return HttpResponse(content, content_type="application/json")
