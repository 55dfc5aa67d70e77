"""Every write on sessions and their time slots."""

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext as _

from accounts.models import User
from bookings.models import Booking, BookingStatus
from sessions_app.cache import timetable_changed
from sessions_app.models import Session, TimeSlot
from studio.errors import (
    CapacityBelowBookedError,
    HasBookingsError,
    ValidationFailedError,
)

SESSION_FIELDS = ("title", "description", "category")


def _lock_instructor(instructor: User) -> None:
    """Serialises the writes of one instructor's timetable, so two requests
    cannot each add one of two overlapping slots."""
    User.objects.select_for_update().filter(pk=instructor.pk).first()


def _check_slots(
    *,
    instructor: User,
    items: list[dict[str, Any]],
    existing: dict[int, TimeSlot],
    ignore: Iterable[int] = (),
) -> None:
    """Validates the slot list of a create or update as a whole.

    `existing` maps slot ids to the session's current slots; `ignore` names
    slots of this session that the request replaces or deletes, so they do not
    count as overlaps. Raises ValidationFailedError with errors nested per item.
    """
    errors: list[dict[str, list[str]]] = [{} for _ in items]
    current = now()
    seen_ids = set()
    for index, item in enumerate(items):
        slot = existing.get(item.get("id"))
        if item.get("id") is not None and slot is None:
            errors[index].setdefault("id", []).append(
                _("No time slot with this id in this session.")
            )
            continue
        if slot is not None and slot.pk in seen_ids:
            errors[index].setdefault("id", []).append(_("This time slot is listed twice."))
            continue
        if slot is not None:
            seen_ids.add(slot.pk)
        moved = slot is None or item["start"] != slot.start
        if moved and item["start"] <= current:
            errors[index].setdefault("start", []).append(_("A time slot must start in the future."))
        if item["end"] <= item["start"]:
            errors[index].setdefault("end", []).append(_("A time slot must end after it starts."))
    if any(errors):
        raise ValidationFailedError(errors={"time_slots": errors})

    # A slot the studio cancelled blocks no time: it stays in the list as
    # history and takes no part in the overlap checks.
    active = [
        (index, item)
        for index, item in enumerate(items)
        if not getattr(existing.get(item.get("id")), "is_cancelled", False)
    ]
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
    others = TimeSlot.objects.for_instructor(instructor).filter(is_cancelled=False)
    others = others.exclude(pk__in=list(ignore))
    bounds = Q()
    for _index, item in active:
        bounds |= Q(start__lt=item["end"], end__gt=item["start"])
    clashes = list(others.filter(bounds).select_related("session")) if active else []
    for index, item in active:
        for clash in clashes:
            if clash.start < item["end"] and clash.end > item["start"]:
                errors[index].setdefault("start", []).append(
                    _("This time slot overlaps your time slot %(id)d of %(title)s.")
                    % {"id": clash.pk, "title": clash.session.title}
                )
                break
    if any(errors):
        raise ValidationFailedError(errors={"time_slots": errors})


def time_slots_check(
    *, instructor: User, items: list[dict[str, Any]], replaced: Iterable[int] = ()
) -> dict[int, TimeSlot]:
    """The slot rules of session_create and session_update, for a form that
    writes slots itself (the admin).

    `items` are slots as they are to be saved (`start`, `end`, `capacity`, and
    `id` for an existing slot); `replaced` names the current slots they replace
    or delete, which do not count as overlaps. Locks the instructor's timetable
    and those slots, as the services do, until the caller's transaction ends
    (the admin's views run in one), and returns the locked slots by id, so the
    caller saves them with their current counters. Raises ValidationFailedError
    with errors nested per item, as the services do.
    """
    with transaction.atomic():
        _lock_instructor(instructor)
        existing = {
            slot.pk: slot
            for slot in TimeSlot.objects.select_for_update()
            .filter(pk__in=list(replaced))
            .order_by("pk")
        }
        _check_slots(instructor=instructor, items=items, existing=existing, ignore=set(existing))
    errors: list[dict[str, list[str]]] = [{} for _ in items]
    for index, item in enumerate(items):
        slot = existing.get(item.get("id"))
        if slot is not None and item["capacity"] < slot.booked:
            errors[index]["capacity"] = [
                _("The capacity cannot be lower than the %(booked)d confirmed bookings.")
                % {"booked": slot.booked}
            ]
    if any(errors):
        raise ValidationFailedError(errors={"time_slots": errors})
    return existing


def session_create(
    *,
    instructor: User,
    title: str,
    category: str,
    time_slots: list[dict[str, Any]],
    description: str = "",
) -> Session:
    if not time_slots:
        raise ValidationFailedError(
            errors={"time_slots": [_("A session needs at least one time slot.")]}
        )
    with transaction.atomic():
        _lock_instructor(instructor)
        _check_slots(instructor=instructor, items=time_slots, existing={})
        session = Session.objects.create(
            instructor=instructor, title=title, description=description, category=category
        )
        TimeSlot.objects.bulk_create(_new_slots(session, time_slots))
        timetable_changed()
    return session


def session_update(*, session: Session, data: dict[str, Any]) -> Session:
    """Changes the fields given; `time_slots`, when given, is the full list:
    an item with an id changes that slot, one without adds a slot, and a slot
    left out is deleted. Nothing is saved unless all of it is valid."""
    with transaction.atomic():
        _lock_instructor(session.instructor)
        fields = [field for field in SESSION_FIELDS if field in data]
        for field in fields:
            setattr(session, field, data[field])
        if "time_slots" in data:
            _replace_slots(session, data["time_slots"])
        # Only what this request changes, so concurrent edits of other fields stay.
        session.save(update_fields=[*fields, "updated_at"])
        timetable_changed()
    return session


def _replace_slots(session: Session, items: list[dict[str, Any]]) -> None:
    if not items:
        raise ValidationFailedError(
            errors={"time_slots": [_("A session needs at least one time slot.")]}
        )
    # Lock the session's slots (in id order) so no booking lands on a slot
    # while its capacity is lowered or it is deleted.
    existing = {
        slot.pk: slot
        for slot in TimeSlot.objects.select_for_update().filter(session=session).order_by("pk")
    }
    kept_ids = {item["id"] for item in items if item.get("id") is not None}
    removed_ids = set(existing) - kept_ids
    # Every current slot of the session is either in `items` (and checked
    # there) or about to be removed, so none of them counts as an overlap.
    _check_slots(
        instructor=session.instructor, items=items, existing=existing, ignore=set(existing)
    )
    if removed_ids and Booking.objects.filter(time_slot_id__in=removed_ids).exists():
        raise HasBookingsError(
            _("A time slot that holds bookings cannot be removed; cancel it instead.")
        )
    for item in items:
        slot = existing.get(item.get("id"))
        if slot is not None and item["capacity"] < slot.booked:
            raise CapacityBelowBookedError(
                _(
                    "Time slot %(id)d has %(booked)d confirmed bookings; its capacity "
                    "cannot be lower."
                )
                % {"id": slot.pk, "booked": slot.booked}
            )
    TimeSlot.objects.filter(pk__in=removed_ids).delete()
    changed = []
    for item in items:
        slot = existing.get(item.get("id"))
        if slot is not None and (slot.start, slot.end, slot.capacity) != (
            item["start"],
            item["end"],
            item["capacity"],
        ):
            slot.start, slot.end, slot.capacity = item["start"], item["end"], item["capacity"]
            changed.append(slot)
    TimeSlot.objects.bulk_update(changed, ["start", "end", "capacity"])
    TimeSlot.objects.bulk_create(_new_slots(session, [i for i in items if i.get("id") is None]))


def _new_slots(session: Session, items: list[dict[str, Any]]) -> list[TimeSlot]:
    return [
        TimeSlot(session=session, start=item["start"], end=item["end"], capacity=item["capacity"])
        for item in items
    ]


def session_delete(*, session: Session) -> None:
    with transaction.atomic():
        _lock_instructor(session.instructor)
        # With the slots locked, no booking can land between the check and the delete.
        list(TimeSlot.objects.select_for_update().filter(session=session).order_by("pk"))
        if Booking.objects.filter(time_slot__session=session).exists():
            raise HasBookingsError(
                _("This session holds bookings and cannot be deleted; booking history is kept.")
            )
        session.delete()
        timetable_changed()


def time_slot_cancel(*, time_slot: TimeSlot) -> int:
    """The studio cancels a slot: it takes no more bookings and its confirmed
    bookings become cancelled. Returns how many bookings were cancelled."""
    with transaction.atomic():
        slot = TimeSlot.objects.select_for_update().get(pk=time_slot.pk)
        if slot.is_cancelled:
            return 0
        cancelled_at = now()
        count = Booking.objects.filter(time_slot=slot, status=BookingStatus.CONFIRMED).update(
            status=BookingStatus.CANCELLED, cancelled_at=cancelled_at
        )
        slot.is_cancelled = True
        slot.cancelled_at = cancelled_at
        slot.booked = 0
        slot.save(update_fields=["is_cancelled", "cancelled_at", "booked"])
        timetable_changed()
    time_slot.refresh_from_db()
    return count
