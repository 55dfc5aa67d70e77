"""Every write on sessions and their time slots, and the timetable's rules.

Each rule of the timetable lives in exactly one `_check_*` function below;
the services compose them, and the admin writes through these same services,
so the API and the admin refuse the same things with the same words. The
database constraints on TimeSlot stay as the last defence.

A write runs in one transaction: one `lock_objects` call first (the
instructor's row, which serialises the writes of one timetable so that two
requests cannot each add one of two overlapping slots, and the slots the
write reads or changes, so that no booking lands on a slot while its
capacity is lowered or it is deleted), then the checks, the writes and the
action-log entries. Every write service takes the acting user as `by`
(None for the system).

A 409 about one slot (`capacity_below_booked`, or `has_bookings` for a
slot being removed) carries that slot's id as `time_slot_id`, so a form can
show the message on the slot's row; the API answers with its `detail` only.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from dateutil.rrule import rrule as Rule
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.timezone import now
from django.utils.translation import gettext as _

from accounts.models import User
from core import timezones
from core.actionlog import log_action, log_actions
from core.errors import (
    CapacityBelowBookedError,
    HasBookingsError,
    StudioError,
    ValidationFailedError,
)
from core.locking import lock_objects, with_fresh_locks
from core.signals import seats_freed
from sessions_app.cache import timetable_changed
from sessions_app.models import Session, TimeSlot
from sessions_app.recurrence import occurrences, rule_read

SESSION_FIELDS = ("instructor", "title", "description", "category")
# Fields whose old and new values the action log records; a description is
# logged as changed, without its text.
SMALL_SESSION_FIELDS = ("instructor", "title", "category")
SLOT_FIELDS = ("start", "end", "capacity")

SlotErrors = list[dict[str, list[str]]]

# The status of a booking waiting for a seat (the bookings app's
# `BookingStatus.WAITLISTED`, which the timetable does not import).
WAITLISTED = "waitlisted"


# The rules ------------------------------------------------------------------


def _check_has_slots(count: int) -> None:
    """A session always has at least one time slot."""
    if count < 1:
        raise ValidationFailedError(
            errors={"time_slots": [_("A session needs at least one time slot.")]}
        )


def _check_slot_ids(items: list[dict[str, Any]], existing: dict[int, TimeSlot]) -> SlotErrors:
    """An item with an id names a slot of this session, once."""
    errors: SlotErrors = [{} for _ in items]
    seen = set()
    for index, item in enumerate(items):
        slot_id = item.get("id")
        if slot_id is None:
            continue
        if slot_id not in existing:
            errors[index]["id"] = [_("No time slot with this id in this session.")]
        elif slot_id in seen:
            errors[index]["id"] = [_("This time slot is listed twice.")]
        seen.add(slot_id)
    return errors


def _check_starts_in_future(
    item: dict[str, Any], slot: TimeSlot | None, current: datetime
) -> str | None:
    """A new slot, or one given a new start, starts in the future; a slot
    left where it is may have started (it stays in the list as history)."""
    moved = slot is None or item["start"] != slot.start
    if moved and item["start"] <= current:
        return _("A time slot must start in the future.")
    return None


def _check_ends_after_start(item: dict[str, Any]) -> str | None:
    if item["end"] <= item["start"]:
        return _("A time slot must end after it starts.")
    return None


def _check_no_overlap_within(active: list[tuple[int, dict[str, Any]]], errors: SlotErrors) -> None:
    """No two slots of one request overlap; the later one is reported."""
    # In start order, a slot overlaps an earlier one exactly when it starts
    # before the latest end seen so far.
    latest = None  # (index, item) of the slot ending last so far
    for index, item in sorted(active, key=lambda pair: pair[1]["start"]):
        if latest is not None and item["start"] < latest[1]["end"]:
            errors[index].setdefault("start", []).append(
                _("This time slot overlaps time slot %(other)d of this request.")
                % {"other": latest[0] + 1}
            )
        if latest is None or item["end"] > latest[1]["end"]:
            latest = (index, item)


def _check_no_overlap_with_instructor(
    instructor: User,
    active: list[tuple[int, dict[str, Any]]],
    ignore: Iterable[int],
    errors: SlotErrors,
) -> None:
    """No slot overlaps another slot of the instructor that the studio has
    not cancelled; the slots of `ignore` (those the request replaces) do not
    count."""
    if not active:
        return
    bounds = Q()
    for _index, item in active:
        bounds |= Q(start__lt=item["end"], end__gt=item["start"])
    others = (
        TimeSlot.objects.for_instructor(instructor)
        .filter(is_cancelled=False)
        .exclude(pk__in=list(ignore))
        .filter(bounds)
        .select_related("session")
        .order_by("start", "pk")
    )
    clashes = list(others)
    for index, item in active:
        for clash in clashes:
            if clash.start < item["end"] and clash.end > item["start"]:
                errors[index].setdefault("start", []).append(
                    _("This time slot overlaps your time slot %(id)d of %(title)s.")
                    % {"id": clash.pk, "title": clash.session.title}
                )
                break


def _check_slots(
    *,
    instructor: User,
    items: list[dict[str, Any]],
    existing: dict[int, TimeSlot],
    ignore: Iterable[int] = (),
) -> None:
    """The rules on the times of a slot list, as a whole.

    `existing` maps ids to the session's current slots (locked); `ignore`
    names current slots that the request replaces or deletes, so they do not
    count as overlaps. Raises ValidationFailedError with errors nested per
    item: first each item's own errors, then overlaps.
    """
    errors = _check_slot_ids(items, existing)
    current = now()
    for index, item in enumerate(items):
        if errors[index]:
            continue
        slot = existing.get(item.get("id"))
        for field, message in (
            ("start", _check_starts_in_future(item, slot, current)),
            ("end", _check_ends_after_start(item)),
        ):
            if message is not None:
                errors[index].setdefault(field, []).append(message)
    if any(errors):
        raise ValidationFailedError(errors={"time_slots": errors})

    # A slot the studio cancelled blocks no time: it stays in the list as
    # history and takes no part in the overlap checks.
    active = [
        (index, item)
        for index, item in enumerate(items)
        if not getattr(existing.get(item.get("id")), "is_cancelled", False)
    ]
    _check_no_overlap_within(active, errors)
    _check_no_overlap_with_instructor(instructor, active, ignore, errors)
    if any(errors):
        raise ValidationFailedError(errors={"time_slots": errors})


def _check_capacity_not_below_booked(
    items: list[dict[str, Any]], existing: dict[int, TimeSlot]
) -> None:
    """No slot's capacity goes below its confirmed bookings (`booked`, read
    from the locked row)."""
    for item in items:
        slot = existing.get(item.get("id"))
        if slot is not None and item["capacity"] < slot.booked:
            error = CapacityBelowBookedError(
                _(
                    "Time slot %(id)d has %(booked)d confirmed bookings; its capacity "
                    "cannot be lower."
                )
                % {"id": slot.pk, "booked": slot.booked}
            )
            raise _about_slot(error, slot.pk)


def _check_holds_no_bookings(slot_ids: Iterable[int], *, whole_session: bool = False) -> None:
    """A slot, or a session, that holds any booking (confirmed or cancelled,
    past or upcoming) is never deleted: booking history is kept."""
    booked = (
        TimeSlot.objects.filter(pk__in=list(slot_ids), bookings__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if booked is None:
        return
    if whole_session:
        raise HasBookingsError(
            _("This session holds bookings and cannot be deleted; booking history is kept.")
        )
    error = HasBookingsError(
        _("A time slot that holds bookings cannot be removed; cancel it instead.")
    )
    raise _about_slot(error, booked)


def _about_slot(error: StudioError, slot_id: int) -> StudioError:
    error.time_slot_id = slot_id
    return error


# A session gains at most this many generated slots in one go; the rest
# follow as the horizon moves.
MAX_GENERATED = 200


def _check_recurrence(recurrence: dict[str, Any], current: datetime) -> Rule:
    """A schedule starts in the future and its rule is one we read
    (`sessions_app.recurrence`), with at least one occurrence."""
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


def _occurrence_items(
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


def _occurrence_clashes(
    instructor: User,
    items: list[dict[str, Any]],
    *,
    ignore: Iterable[int] = (),
    others: list[dict[str, Any]] = (),
) -> list[tuple[dict[str, Any], str]]:
    """Each occurrence that overlaps the one before it, a slot `others` of
    the same request, or a slot of the instructor that the studio has not
    cancelled (but those of `ignore`), with what it overlaps."""
    if not items:
        return []
    zone = timezones.studio_zone()
    slots = list(
        TimeSlot.objects.for_instructor(instructor)
        .filter(
            is_cancelled=False,
            start__lt=max(item["end"] for item in items),
            end__gt=items[0]["start"],
        )
        .exclude(pk__in=list(ignore))
        .select_related("session")
        .order_by("start", "pk")
    )
    clashes = []
    for index, item in enumerate(items):
        at = {"start": timezones.minute_iso(item["start"], zone)}
        if index and item["start"] < items[index - 1]["end"]:
            message = _("The occurrence at %(start)s overlaps the one before it.") % at
        elif other := next(
            (
                n
                for n, o in enumerate(others, 1)
                if o["start"] < item["end"] and o["end"] > item["start"]
            ),
            None,
        ):
            message = _(
                "The occurrence at %(start)s overlaps time slot %(other)d of this request."
            ) % {**at, "other": other}
        elif slot := next(
            (s for s in slots if s.start < item["end"] and s.end > item["start"]), None
        ):
            message = _(
                "The occurrence at %(start)s overlaps your time slot %(id)d of %(title)s."
            ) % {**at, "id": slot.pk, "title": slot.session.title}
        else:
            continue
        clashes.append((item, message))
    return clashes


def _check_no_occurrence_clashes(instructor: User, items, **kwargs) -> None:
    clashes = _occurrence_clashes(instructor, items, **kwargs)
    if clashes:
        raise ValidationFailedError(errors={"recurrence": [message for _item, message in clashes]})


def _horizon(current: datetime) -> datetime:
    return current + timedelta(days=settings.STUDIO_SCHEDULE_HORIZON_DAYS)


# Locks and the action log ---------------------------------------------------


def _lock(
    instructors: Iterable[User],
    slots: QuerySet[TimeSlot] | None = None,
    *,
    users: Iterable[int] = (),
) -> dict[int, TimeSlot]:
    """Takes the write's locks in one call: the instructors' rows and the
    rows of the user ids `users`, then the slots of the queryset `slots` if
    given. Returns those slots by id."""
    users = User.objects.filter(pk__in={instructor.pk for instructor in instructors} | set(users))
    if slots is None:
        lock_objects(users)
        return {}
    _users, locked = lock_objects(users, slots)
    return {slot.pk: slot for slot in locked}


def _waiting_users(slots: QuerySet[TimeSlot]) -> list[int]:
    """The ids of the clients waiting for a seat on `slots`, read (without a
    lock) through the bookings' reverse relation: a write that may raise a
    capacity locks their rows, so the bookings app can promote them."""
    return list(
        User.objects.filter(bookings__time_slot__in=slots, bookings__status=WAITLISTED)
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )


def _may_free_seats(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """A raised capacity frees seats; so may a move, for a waiter passed over
    while booked elsewhere at the slot's old time."""
    return new["capacity"] > old["capacity"] or (new["start"], new["end"]) != (
        old["start"],
        old["end"],
    )


def _send_seats_freed(
    slots: list[TimeSlot], *, locked_users: Iterable[int], by: User | None
) -> None:
    """Tells the bookings app that `slots` (locked, with their changes
    saved) may have seats for their waiters; it promotes them in this
    transaction, or raises `LockSetChanged` for the write to run again."""
    if slots:
        seats_freed.send(sender=TimeSlot, time_slots=slots, locked_users=set(locked_users), by=by)


def _slot_values(slot: TimeSlot) -> dict[str, Any]:
    return {"session": slot.session_id, **{field: getattr(slot, field) for field in SLOT_FIELDS}}


def _changes(
    old: dict[str, Any], new: dict[str, Any], *, fields: Iterable[str], small: Iterable[str]
) -> dict[str, Any]:
    """The action log's record of a change: the `fields` changed, with old
    and new values for the `small` ones; empty when nothing changed."""
    fields = [field for field in fields if new[field] != old[field]]
    shown = [field for field in fields if field in small]
    if not fields:
        return {}
    return {
        "fields": fields,
        "old": {field: old[field] for field in shown},
        "new": {field: new[field] for field in shown},
    }


def _session_values(session: Session) -> dict[str, Any]:
    return {
        field: session.instructor_id if field == "instructor" else getattr(session, field)
        for field in SESSION_FIELDS
    }


def _item(slot: TimeSlot) -> dict[str, Any]:
    return {"id": slot.pk, **{field: getattr(slot, field) for field in SLOT_FIELDS}}


def _new_slots(
    session: Session, items: list[dict[str, Any]], *, generated: bool = False
) -> list[TimeSlot]:
    return [
        TimeSlot(
            session=session,
            start=item["start"],
            end=item["end"],
            capacity=item["capacity"],
            generated=generated,
        )
        for item in items
    ]


def _schedule_record(session: Session) -> dict[str, Any] | None:
    """The session's recurrence as the action log records it."""
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


SCHEDULE_FIELDS = ["rrule", "rrule_start", "rrule_minutes", "rrule_capacity", "generated_until"]


# Sessions -------------------------------------------------------------------


def session_create(
    *,
    instructor: User,
    title: str,
    category: str,
    time_slots: list[dict[str, Any]] = (),
    recurrence: dict[str, Any] | None = None,
    description: str = "",
    by: User | None,
) -> Session:
    """A new session with the slots `time_slots`, and those of the schedule
    `recurrence` (API.md section 9) up to the horizon, if given."""
    time_slots = list(time_slots)
    if recurrence is None:
        _check_has_slots(len(time_slots))
    with transaction.atomic():
        _lock([instructor])
        if time_slots:
            _check_slots(instructor=instructor, items=time_slots, existing={})
        generated: list[dict[str, Any]] = []
        session = Session(
            instructor=instructor, title=title, description=description, category=category
        )
        if recurrence is not None:
            current = now()
            rule = _check_recurrence(recurrence, current)
            generated, until = _occurrence_items(
                rule,
                start=recurrence["start"],
                minutes=recurrence["duration_minutes"],
                capacity=recurrence["capacity"],
                after=None,
                until=_horizon(current),
            )
            _check_no_occurrence_clashes(instructor, generated, others=time_slots)
            _schedule_set(session, recurrence)
            session.generated_until = until
        session.save()
        slots = TimeSlot.objects.bulk_create(
            [*_new_slots(session, time_slots), *_new_slots(session, generated, generated=True)]
        )
        log_action(
            session,
            "session.created",
            by=by,
            data={
                "instructor": instructor.pk,
                "title": title,
                "category": category,
                "time_slots": [slot.pk for slot in slots],
                "recurrence": _schedule_record(session),
            },
        )
        log_actions(slots, "time_slot.created", by=by, data={"session": session.pk})
        timetable_changed()
    return session


def session_update(*, session: Session, data: dict[str, Any], by: User | None) -> Session:
    """Changes the fields given (`instructor`, `title`, `description`,
    `category`); `session` is the session as stored.

    `time_slots`, when given, is the full list: an item with an id changes
    that slot, one without adds a slot, and a slot left out is deleted. A new
    instructor takes the session's slots into their timetable, which must
    have room for them. Nothing is saved unless all of it is valid.

    A raised capacity (or a moved slot) fills the free seats from the slot's
    waitlist in this transaction (`core.signals.seats_freed`); the clients waiting on the
    session's slots are read first and locked with the instructors. Should
    one who joined after that read be due a seat, the write runs again
    (`core.locking.with_fresh_locks`).
    """
    if "time_slots" in data and data.get("recurrence") is None:
        _check_has_slots(len(data["time_slots"]))
    stored = {
        "instructor_id": session.instructor_id,
        **{field: getattr(session, field) for field in SESSION_FIELDS if field != "instructor"},
    }

    def write() -> Session:
        for attribute, value in stored.items():
            setattr(session, attribute, value)
        return _session_update(session=session, data=data, by=by)

    return with_fresh_locks(write)


def _session_update(*, session: Session, data: dict[str, Any], by: User | None) -> Session:
    instructor = data.get("instructor", session.instructor)
    moves = instructor.pk != session.instructor_id
    touches_slots = "time_slots" in data or "recurrence" in data or moves
    with transaction.atomic():
        slots = TimeSlot.objects.filter(session=session)
        waiting = _waiting_users(slots) if touches_slots else []
        existing = _lock(
            [session.instructor, instructor],
            slots if touches_slots else None,
            users=waiting,
        )
        before = {pk: _item(slot) for pk, slot in existing.items()}
        old = _session_values(session)
        fields = [field for field in SESSION_FIELDS if field in data]
        for field in fields:
            setattr(session, field, data[field])
        slot_changes = {}
        if touches_slots:
            items = data.get("time_slots", [_item(slot) for slot in existing.values()])
            slot_changes = _replace_slots(
                session, instructor=instructor, items=items, existing=existing, by=by
            )
        schedule = {}
        if "recurrence" in data:
            schedule = _schedule_replace(
                session, instructor=instructor, recurrence=data["recurrence"], by=by
            )
            fields += SCHEDULE_FIELDS
        # Only what this request changes, so concurrent edits of other fields stay.
        session.save(update_fields=[*fields, "updated_at"])
        record = _changes(
            old, _session_values(session), fields=SESSION_FIELDS, small=SMALL_SESSION_FIELDS
        )
        if slot_changes:
            record["time_slots"] = slot_changes
        if schedule:
            record["recurrence"] = schedule
        if record:
            log_action(session, "session.updated", by=by, data=record)
        deleted = set(slot_changes.get("deleted", []))
        freed = [
            slot
            for pk, slot in existing.items()
            if pk not in deleted and _may_free_seats(before[pk], _item(slot))
        ]
        _send_seats_freed(freed, locked_users=waiting, by=by)
        timetable_changed()
    return session


def _replace_slots(
    session: Session,
    *,
    instructor: User,
    items: list[dict[str, Any]],
    existing: dict[int, TimeSlot],
    by: User | None,
) -> dict[str, list[int]]:
    """Makes the session's slots (`existing`, locked) those of `items`;
    returns the ids of the slots created, updated and deleted."""
    kept_ids = {item["id"] for item in items if item.get("id") is not None}
    removed = [slot for pk, slot in existing.items() if pk not in kept_ids]
    # Every current slot of the session is either in `items` (and checked
    # there) or about to be removed, so none of them counts as an overlap.
    _check_slots(instructor=instructor, items=items, existing=existing, ignore=set(existing))
    if removed:
        _check_holds_no_bookings([slot.pk for slot in removed])
    _check_capacity_not_below_booked(items, existing)

    for slot in removed:
        log_action(slot, "time_slot.deleted", by=by, data=_slot_values(slot))
    TimeSlot.objects.filter(pk__in=[slot.pk for slot in removed]).delete()
    changed = []
    for item in items:
        slot = existing.get(item.get("id"))
        if slot is None:
            continue
        record = _changes(_item(slot), item, fields=SLOT_FIELDS, small=SLOT_FIELDS)
        if record:
            for field in SLOT_FIELDS:
                setattr(slot, field, item[field])
            changed.append(slot)
            log_action(slot, "time_slot.updated", by=by, data=record)
    TimeSlot.objects.bulk_update(changed, SLOT_FIELDS)
    created = TimeSlot.objects.bulk_create(
        _new_slots(session, [item for item in items if item.get("id") is None])
    )
    log_actions(created, "time_slot.created", by=by, data={"session": session.pk})
    changes = {
        "created": [slot.pk for slot in created],
        "updated": [slot.pk for slot in changed],
        "deleted": [slot.pk for slot in removed],
    }
    return {key: ids for key, ids in changes.items() if ids}


def _schedule_replace(
    session: Session, *, instructor: User, recurrence: dict[str, Any] | None, by: User | None
) -> dict[str, Any]:
    """Gives the session the schedule `recurrence` (None: none, the slots
    stay): its upcoming generated slots that hold no booking are deleted,
    and the new rule's occurrences up to the horizon are added, but those
    overlapping a slot of the session that holds bookings. The session's
    slots are locked. Returns the action log's record; empty when nothing
    changed."""
    old = _schedule_record(session)
    if recurrence is None:
        if old is None:
            return {}
        _schedule_set(session, None)
        return {"old": old, "new": None}
    current = now()
    rule = _check_recurrence(recurrence, current)
    slots = list(TimeSlot.objects.filter(session=session))
    booked = set(
        TimeSlot.objects.filter(session=session, bookings__isnull=False).values_list(
            "pk", flat=True
        )
    )
    replaced = [
        slot for slot in slots if slot.generated and slot.start > current and slot.pk not in booked
    ]
    generated, until = _occurrence_items(
        rule,
        start=recurrence["start"],
        minutes=recurrence["duration_minutes"],
        capacity=recurrence["capacity"],
        after=None,
        until=_horizon(current),
    )
    holding = [slot for slot in slots if slot.pk in booked and not slot.is_cancelled]
    generated = [
        item
        for item in generated
        if not any(slot.start < item["end"] and slot.end > item["start"] for slot in holding)
    ]
    _check_no_occurrence_clashes(
        instructor, generated, ignore=[slot.pk for slot in replaced] + [s.pk for s in holding]
    )
    for slot in replaced:
        log_action(slot, "time_slot.deleted", by=by, data=_slot_values(slot))
    TimeSlot.objects.filter(pk__in=[slot.pk for slot in replaced]).delete()
    created = TimeSlot.objects.bulk_create(_new_slots(session, generated, generated=True))
    log_actions(created, "time_slot.created", by=by, data={"session": session.pk})
    _schedule_set(session, recurrence)
    session.generated_until = until
    return {
        "old": old,
        "new": _schedule_record(session),
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
        .filter(Q(generated_until__isnull=True) | Q(generated_until__lt=_horizon(at)))
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
        _lock([instructor])
        session = Session.objects.filter(pk=pk, instructor=instructor).exclude(rrule="").first()
        horizon = _horizon(at)
        if session is None or (session.generated_until and session.generated_until >= horizon):
            return 0
        rule = rule_read(session.rrule, session.rrule_start)
        items, until = _occurrence_items(
            rule,
            start=session.rrule_start,
            minutes=session.rrule_minutes,
            capacity=session.rrule_capacity,
            after=session.generated_until or at,
            until=horizon,
        )
        items = [item for item in items if item["start"] > at]
        skipped = {id(item) for item, _message in _occurrence_clashes(instructor, items)}
        created = TimeSlot.objects.bulk_create(
            _new_slots(session, [item for item in items if id(item) not in skipped], generated=True)
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


def session_delete(*, session: Session, by: User | None) -> None:
    with transaction.atomic():
        # With the slots locked, no booking can land between the check and the delete.
        slots = _lock([session.instructor], TimeSlot.objects.filter(session=session))
        _check_holds_no_bookings(slots, whole_session=True)
        log_action(
            session,
            "session.deleted",
            by=by,
            data={
                **{
                    field: value
                    for field, value in _session_values(session).items()
                    if field in SMALL_SESSION_FIELDS
                },
                "time_slots": [_item(slot) for slot in slots.values()],
            },
        )
        session.delete()
        timetable_changed()


# One time slot of a session ---------------------------------------------------


def time_slot_create(
    *, session: Session, start: datetime, end: datetime, capacity: int, by: User | None
) -> TimeSlot:
    """Adds one slot to a session, under the rules of a slot added with
    session_update; the session's other slots count as the instructor's."""
    item = {"start": start, "end": end, "capacity": capacity}
    with transaction.atomic():
        _lock([session.instructor])
        _check_slots(instructor=session.instructor, items=[item], existing={})
        slot = TimeSlot.objects.create(session=session, **item)
        log_action(slot, "time_slot.created", by=by, data={"session": session.pk})
        timetable_changed()
    return slot


def time_slot_update(
    *, time_slot: TimeSlot, start: datetime, end: datetime, capacity: int, by: User | None
) -> TimeSlot:
    """Changes one slot's times and capacity, under the rules of a slot
    changed with session_update. Returns the slot as saved.

    A raised capacity (or a move) fills free seats from the waitlist, as with
    session_update (whose docstring tells how the waiting clients are locked).
    """
    return with_fresh_locks(
        lambda: _time_slot_update(
            time_slot=time_slot, start=start, end=end, capacity=capacity, by=by
        )
    )


def _time_slot_update(
    *, time_slot: TimeSlot, start: datetime, end: datetime, capacity: int, by: User | None
) -> TimeSlot:
    instructor = time_slot.session.instructor
    with transaction.atomic():
        slots = TimeSlot.objects.filter(pk=time_slot.pk)
        waiting = _waiting_users(slots)
        existing = _lock([instructor], slots, users=waiting)
        slot = existing[time_slot.pk]
        item = {"id": slot.pk, "start": start, "end": end, "capacity": capacity}
        _check_slots(instructor=instructor, items=[item], existing=existing, ignore=[slot.pk])
        _check_capacity_not_below_booked([item], existing)
        record = _changes(_item(slot), item, fields=SLOT_FIELDS, small=SLOT_FIELDS)
        if record:
            freed = _may_free_seats(_item(slot), item)
            slot.start, slot.end, slot.capacity = start, end, capacity
            slot.save(update_fields=list(SLOT_FIELDS))
            log_action(slot, "time_slot.updated", by=by, data=record)
            _send_seats_freed([slot] if freed else [], locked_users=waiting, by=by)
            timetable_changed()
    return slot


def time_slot_delete(*, time_slot: TimeSlot, by: User | None) -> None:
    """Deletes one slot of a session, under the rules of a slot left out of
    session_update's list: the session keeps a slot, and a slot that holds
    bookings is kept."""
    with transaction.atomic():
        slots = _lock(
            [time_slot.session.instructor], TimeSlot.objects.filter(session_id=time_slot.session_id)
        )
        _check_has_slots(len([pk for pk in slots if pk != time_slot.pk]))
        _check_holds_no_bookings([time_slot.pk])
        slot = slots.get(time_slot.pk, time_slot)
        log_action(slot, "time_slot.deleted", by=by, data=_slot_values(slot))
        TimeSlot.objects.filter(pk=time_slot.pk).delete()
        timetable_changed()
