"""Recurring schedules (API.md section 9): the checks of a schedule, its
occurrences as slots, and their generation up to the horizon.

A session with a schedule gets the slots of its rule's occurrences up to
`STUDIO_SCHEDULE_HORIZON_DAYS` ahead when it is given the schedule (by
`sessions_app.services`, in that write's transaction and under its locks);
`schedules_extend` goes on from there as the horizon moves. The RRULE itself
is read by `sessions_app.recurrence`. Each check here raises
ValidationFailedError, as the slot rules of `sessions_app.rules` do.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from dateutil.rrule import rrule as Rule
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext as _

from accounts.models import User
from core import timezones
from core.actionlog import log_action, log_actions
from core.errors import ValidationFailedError
from core.locking import lock_objects
from sessions_app.cache import timetable_changed
from sessions_app.models import Session, TimeSlot
from sessions_app.recurrence import occurrences, rule_read
from sessions_app.rules import instructor_slots_overlapping, overlaps
from sessions_app.slots import new_slots, slot_record

# A session gains at most this many generated slots in one go; the rest
# follow as the horizon moves.
MAX_GENERATED = 200

SCHEDULE_FIELDS = ["rrule", "rrule_start", "rrule_minutes", "rrule_capacity", "generated_until"]


def horizon(current: datetime) -> datetime:
    return current + timedelta(days=settings.STUDIO_SCHEDULE_HORIZON_DAYS)


def check_recurrence(recurrence: dict[str, Any], current: datetime) -> Rule:
    """A schedule starts in the future and its rule is one we read
    (`sessions_app.recurrence`), with at least one occurrence. Returns the
    rule."""
    if recurrence["start"] <= current:
        raise ValidationFailedError(
            errors={"recurrence": {"start": [_("The first start must be in the future.")]}}
        )
    rule = rule_read(recurrence["rrule"], recurrence["start"])
    if next(occurrences(rule, recurrence["start"]), None) is None:
        raise ValidationFailedError(
            errors={"recurrence": {"rrule": [_("This rule has no occurrence from its start.")]}}
        )
    return rule


def occurrence_items(
    rule: Rule,
    *,
    start: datetime,
    minutes: int,
    capacity: int,
    after: datetime | None,
    until: datetime,
) -> tuple[list[dict[str, Any]], datetime]:
    """The slots of the rule's occurrences from `start` after `after` (all,
    when None) up to `until`, at most MAX_GENERATED; a new series (`after`
    None) always gets its first occurrence, however far ahead. Returns them
    and the moment up to which the rule has been read: the end of time once
    the rule has no more occurrences."""
    items: list[dict[str, Any]] = []
    for begins in occurrences(rule, start):
        if after is not None and begins <= after:
            continue
        if begins > until and (items or after is not None):
            return items, max(until, items[-1]["start"]) if items else until
        items.append(
            {"start": begins, "end": begins + timedelta(minutes=minutes), "capacity": capacity}
        )
        if len(items) >= MAX_GENERATED:
            return items, begins
    return items, timezones.LATEST


def occurrence_clashes(
    instructor: User,
    items: list[dict[str, Any]],
    *,
    ignore: Iterable[int] = (),
    others: list[dict[str, Any]] = (),
) -> list[tuple[dict[str, Any], str]]:
    """Each occurrence that overlaps the one before it, a slot `others` of
    the same request, or a slot of the instructor that the studio has not
    cancelled (but those of `ignore`), with what it overlaps."""
    zone = timezones.studio_zone()
    slots = instructor_slots_overlapping(instructor, items, ignore=ignore)
    clashes = []
    for index, item in enumerate(items):
        at = {"start": timezones.minute_iso(item["start"], zone)}
        span = (item["start"], item["end"])
        if index and overlaps(*span, items[index - 1]["start"], items[index - 1]["end"]):
            message = _("The occurrence at %(start)s overlaps the one before it.") % at
        elif other := next(
            (n for n, o in enumerate(others, 1) if overlaps(*span, o["start"], o["end"])), None
        ):
            message = _(
                "The occurrence at %(start)s overlaps time slot %(other)d of this request."
            ) % {**at, "other": other}
        elif slot := next((s for s in slots if overlaps(*span, s.start, s.end)), None):
            message = _(
                "The occurrence at %(start)s overlaps your time slot %(id)d of %(title)s."
            ) % {**at, "id": slot.pk, "title": slot.session.title}
        else:
            continue
        clashes.append((item, message))
    return clashes


def check_no_occurrence_clashes(instructor: User, items: list[dict[str, Any]], **kwargs) -> None:
    """No occurrence of a schedule being given overlaps anything
    (`occurrence_clashes`); the horizon's later occurrences skip instead."""
    clashes = occurrence_clashes(instructor, items, **kwargs)
    if clashes:
        raise ValidationFailedError(errors={"recurrence": [message for _item, message in clashes]})


def schedule_record(session: Session) -> dict[str, Any] | None:
    """The session's recurrence as the action log records it (and as the
    services take it); None without one."""
    if not session.rrule:
        return None
    return {
        "rrule": session.rrule,
        "start": session.rrule_start,
        "duration_minutes": session.rrule_minutes,
        "capacity": session.rrule_capacity,
    }


def _schedule_set(session: Session, recurrence: dict[str, Any] | None) -> None:
    """Stores `recurrence` (or none) on the session, not yet saved."""
    recurrence = recurrence or {}
    session.rrule = recurrence.get("rrule", "").strip()
    session.rrule_start = recurrence.get("start")
    session.rrule_minutes = recurrence.get("duration_minutes")
    session.rrule_capacity = recurrence.get("capacity")
    session.generated_until = None


def _first_occurrences(rule: Rule, recurrence: dict[str, Any], current: datetime):
    """The slot items of a new schedule's occurrences from its start up to the
    horizon, and the moment they were generated up to."""
    return occurrence_items(
        rule,
        start=recurrence["start"],
        minutes=recurrence["duration_minutes"],
        capacity=recurrence["capacity"],
        after=None,
        until=horizon(current),
    )


def schedule_start(
    session: Session,
    *,
    instructor: User,
    recurrence: dict[str, Any],
    others: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Gives a new session (not yet saved) the schedule `recurrence`, and
    returns the slots of its occurrences up to the horizon, which must
    overlap none of the request's other slots `others` nor the instructor's
    (locked by the caller)."""
    current = now()
    rule = check_recurrence(recurrence, current)
    generated, until = _first_occurrences(rule, recurrence, current)
    check_no_occurrence_clashes(instructor, generated, others=others)
    _schedule_set(session, recurrence)
    session.generated_until = until
    return generated


def schedule_replace(
    session: Session, *, instructor: User, recurrence: dict[str, Any] | None, by: User | None
) -> dict[str, Any]:
    """Gives the session the schedule `recurrence` (None: none, the slots
    stay): its upcoming generated slots that hold no booking are deleted,
    and the new rule's occurrences up to the horizon are added, but those
    overlapping a slot of the session that holds bookings. The session's
    slots are locked by the caller, which saves the session. Returns the
    action log's record; empty when nothing changed."""
    old = schedule_record(session)
    if recurrence is None:
        if old is None:
            return {}
        _schedule_set(session, None)
        return {"old": old, "new": None}
    current = now()
    rule = check_recurrence(recurrence, current)
    slots = list(TimeSlot.objects.filter(session=session))
    booked = set(
        TimeSlot.objects.filter(session=session, bookings__isnull=False).values_list(
            "pk", flat=True
        )
    )
    replaced = [
        slot for slot in slots if slot.generated and slot.start > current and slot.pk not in booked
    ]
    generated, until = _first_occurrences(rule, recurrence, current)
    holding = [slot for slot in slots if slot.pk in booked and not slot.is_cancelled]
    generated = [
        item
        for item in generated
        if not any(overlaps(slot.start, slot.end, item["start"], item["end"]) for slot in holding)
    ]
    check_no_occurrence_clashes(
        instructor, generated, ignore=[slot.pk for slot in replaced] + [s.pk for s in holding]
    )
    for slot in replaced:
        log_action(slot, "time_slot.deleted", by=by, data=slot_record(slot))
    TimeSlot.objects.filter(pk__in=[slot.pk for slot in replaced]).delete()
    created = TimeSlot.objects.bulk_create(new_slots(session, generated, generated=True))
    log_actions(created, "time_slot.created", by=by, data={"session": session.pk})
    _schedule_set(session, recurrence)
    session.generated_until = until
    return {
        "old": old,
        "new": schedule_record(session),
        "replaced": [slot.pk for slot in replaced],
        "created": [slot.pk for slot in created],
    }


def schedules_extend(*, at: datetime | None = None, by: User | None = None) -> int:
    """Adds the occurrences of every schedule up to the horizon from `at`
    (now); returns how many slots it made. An occurrence that would overlap
    another slot of the instructor is skipped. Running it again adds nothing:
    each session records how far its rule has been read."""
    at = at or now()
    sessions = (
        Session.objects.exclude(rrule="")
        .filter(Q(generated_until__isnull=True) | Q(generated_until__lt=horizon(at)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sum(_schedule_extend(pk, at=at, by=by) for pk in list(sessions))


def _schedule_extend(pk: int, *, at: datetime, by: User | None) -> int:
    with transaction.atomic():
        instructor = User.objects.filter(sessions__pk=pk).first()
        if instructor is None:
            return 0
        # The instructor's lock serialises this with every other write of
        # the timetable, so the session is read as it stands.
        lock_objects(User.objects.filter(pk=instructor.pk))
        session = Session.objects.filter(pk=pk, instructor=instructor).exclude(rrule="").first()
        until_horizon = horizon(at)
        if session is None or (
            session.generated_until and session.generated_until >= until_horizon
        ):
            return 0
        rule = rule_read(session.rrule, session.rrule_start)
        items, until = occurrence_items(
            rule,
            start=session.rrule_start,
            minutes=session.rrule_minutes,
            capacity=session.rrule_capacity,
            after=session.generated_until or at,
            until=until_horizon,
        )
        items = [item for item in items if item["start"] > at]
        skipped = {id(item) for item, _message in occurrence_clashes(instructor, items)}
        created = TimeSlot.objects.bulk_create(
            new_slots(session, [item for item in items if id(item) not in skipped], generated=True)
        )
        session.generated_until = until
        session.save(update_fields=["generated_until"])
        log_actions(created, "time_slot.created", by=by, data={"session": session.pk})
        if skipped:
            log_action(
                session,
                "session.occurrences_skipped",
                by=by,
                data={
                    "starts": [item["start"] for item in items if id(item) in skipped],
                    "reason": "overlap",
                },
            )
        if created:
            timetable_changed()
    return len(created)
