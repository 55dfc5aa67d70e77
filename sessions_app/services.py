"""Every write on sessions and their time slots.

The rules these writes obey are `sessions_app.rules` (and, for a recurring
schedule, `sessions_app.schedules`); the admin writes through these same
services, so the API and the admin refuse the same things with the same
words.

A write runs in one transaction: one `lock_objects` call first (the
instructor's row, which serialises the writes of one timetable so that two
requests cannot each add one of two overlapping slots, and the slots the
write reads or changes, so that no booking lands on a slot while its
capacity is lowered or it is deleted), then the checks, the writes and the
action-log entries. Every write service takes the acting user as `by`
(None for the system).
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from accounts.models import User
from core.actionlog import log_action, log_actions
from core.locking import lock_objects, with_fresh_locks
from core.signals import seats_freed, waiting_clients
from sessions_app.cache import timetable_changed
from sessions_app.models import Session, TimeSlot
from sessions_app.rules import (
    check_capacity_not_below_booked,
    check_has_slots,
    check_holds_no_bookings,
    check_slots,
)
from sessions_app.schedules import (
    SCHEDULE_FIELDS,
    schedule_record,
    schedule_replace,
    schedule_start,
)
from sessions_app.slots import SLOT_FIELDS, new_slots, slot_item, slot_record

SESSION_FIELDS = ("instructor", "title", "description", "category")
# Fields whose old and new values the action log records; a description is
# logged as changed, without its text.
SMALL_SESSION_FIELDS = ("instructor", "title", "category")

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
        check_has_slots(len(time_slots))
    with transaction.atomic():
        _lock([instructor])
        if time_slots:
            check_slots(instructor=instructor, items=time_slots, existing={})
        generated: list[dict[str, Any]] = []
        session = Session(
            instructor=instructor, title=title, description=description, category=category
        )
        if recurrence is not None:
            generated = schedule_start(
                session, instructor=instructor, recurrence=recurrence, others=time_slots
            )
        session.save()
        slots = TimeSlot.objects.bulk_create(
            [*new_slots(session, time_slots), *new_slots(session, generated, generated=True)]
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
                "recurrence": schedule_record(session),
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
        check_has_slots(len(data["time_slots"]))
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
        waiting = waiting_clients(slots) if touches_slots else []
        existing = _lock(
            [session.instructor, instructor],
            slots if touches_slots else None,
            users=waiting,
        )
        before = {pk: slot_item(slot) for pk, slot in existing.items()}
        old = _session_values(session)
        fields = [field for field in SESSION_FIELDS if field in data]
        for field in fields:
            setattr(session, field, data[field])
        slot_changes = {}
        if touches_slots:
            items = data.get("time_slots", [slot_item(slot) for slot in existing.values()])
            slot_changes = _replace_slots(
                session, instructor=instructor, items=items, existing=existing, by=by
            )
        schedule = {}
        if "recurrence" in data:
            schedule = schedule_replace(
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
            if pk not in deleted and _may_free_seats(before[pk], slot_item(slot))
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
    check_slots(instructor=instructor, items=items, existing=existing, ignore=set(existing))
    if removed:
        check_holds_no_bookings([slot.pk for slot in removed])
    check_capacity_not_below_booked(items, existing)

    for slot in removed:
        log_action(slot, "time_slot.deleted", by=by, data=slot_record(slot))
    TimeSlot.objects.filter(pk__in=[slot.pk for slot in removed]).delete()
    changed = []
    for item in items:
        slot = existing.get(item.get("id"))
        if slot is None:
            continue
        record = _changes(slot_item(slot), item, fields=SLOT_FIELDS, small=SLOT_FIELDS)
        if record:
            for field in SLOT_FIELDS:
                setattr(slot, field, item[field])
            changed.append(slot)
            log_action(slot, "time_slot.updated", by=by, data=record)
    TimeSlot.objects.bulk_update(changed, SLOT_FIELDS)
    created = TimeSlot.objects.bulk_create(
        new_slots(session, [item for item in items if item.get("id") is None])
    )
    log_actions(created, "time_slot.created", by=by, data={"session": session.pk})
    changes = {
        "created": [slot.pk for slot in created],
        "updated": [slot.pk for slot in changed],
        "deleted": [slot.pk for slot in removed],
    }
    return {key: ids for key, ids in changes.items() if ids}


def session_delete(*, session: Session, by: User | None) -> None:
    with transaction.atomic():
        # With the slots locked, no booking can land between the check and the delete.
        slots = _lock([session.instructor], TimeSlot.objects.filter(session=session))
        check_holds_no_bookings(slots, whole_session=True)
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
                "time_slots": [slot_item(slot) for slot in slots.values()],
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
        check_slots(instructor=session.instructor, items=[item], existing={})
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
        waiting = waiting_clients(slots)
        existing = _lock([instructor], slots, users=waiting)
        slot = existing[time_slot.pk]
        item = {"id": slot.pk, "start": start, "end": end, "capacity": capacity}
        check_slots(instructor=instructor, items=[item], existing=existing, ignore=[slot.pk])
        check_capacity_not_below_booked([item], existing)
        record = _changes(slot_item(slot), item, fields=SLOT_FIELDS, small=SLOT_FIELDS)
        if record:
            freed = _may_free_seats(slot_item(slot), item)
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
        check_has_slots(len([pk for pk in slots if pk != time_slot.pk]))
        check_holds_no_bookings([time_slot.pk])
        slot = slots.get(time_slot.pk, time_slot)
        log_action(slot, "time_slot.deleted", by=by, data=slot_record(slot))
        TimeSlot.objects.filter(pk=time_slot.pk).delete()
        timetable_changed()
