"""The timetable's rules on time slots, each in one function here.

Every `check_*` raises a `core.errors` exception when its rule is broken and
returns None otherwise. `check_slots` answers with every broken rule of a
slot list at once, nested per item, so its parts (the `_..._errors` and
`_overlaps_*` helpers) collect messages for it rather than raise. The
services of `sessions_app.services` and `sessions_app.schedules` compose
them, and the admin writes through those same services, so the API and the
admin refuse the same things with the same words. The rules of a recurring
schedule (its RRULE, its occurrences) are in `sessions_app.schedules`; the
database constraints on TimeSlot stay as the last defence.

Two slots overlap when each starts before the other ends: `overlaps` says so
of two intervals, `TimeSlotQuerySet.overlapping` finds the slots that do in
the database. A slot the studio cancelled blocks no time.

A 409 about one slot (`capacity_below_booked`, or `has_bookings` for a slot
being removed) names that slot as its `time_slot_id`, so a form can show the
message on the slot's row; the API answers with its `detail` only.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.utils.timezone import now
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import CapacityBelowBookedError, HasBookingsError, ValidationFailedError
from sessions_app.models import TimeSlot

SlotErrors = list[dict[str, list[str]]]

# The parts of a recurring schedule, all given or none (API.md section 9).
SCHEDULE_PARTS = ("rrule", "start", "duration_minutes", "capacity")


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Whether [a_start, a_end) and [b_start, b_end) share a moment: a slot
    ending as another starts does not overlap it."""
    return a_start < b_end and b_start < a_end


def check_has_slots(count: int) -> None:
    """A session always has at least one time slot."""
    if count < 1:
        raise ValidationFailedError(
            errors={"time_slots": [_("A session needs at least one time slot.")]}
        )


def check_schedule_whole(schedule: dict[str, Any], *, message: str) -> None:
    """A schedule, once given, is given whole: each part of SCHEDULE_PARTS
    that `schedule` lacks (absent, None or blank) gets `message`. (Its rule
    itself is read by `sessions_app.schedules`.)"""
    missing = [part for part in SCHEDULE_PARTS if schedule.get(part) in (None, "")]
    if missing:
        raise ValidationFailedError(errors={part: [message] for part in missing})


def _slot_id_errors(items: list[dict[str, Any]], existing: dict[int, TimeSlot]) -> SlotErrors:
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


def _time_errors(item: dict[str, Any], slot: TimeSlot | None, current: datetime) -> dict:
    """A new slot, or one given a new start, starts in the future (a slot left
    where it is may have started: it stays in the list as history); a slot
    ends after it starts."""
    errors = {}
    moved = slot is None or item["start"] != slot.start
    if moved and item["start"] <= current:
        errors["start"] = [_("A time slot must start in the future.")]
    if item["end"] <= item["start"]:
        errors["end"] = [_("A time slot must end after it starts.")]
    return errors


def _overlaps_within(active: list[tuple[int, dict[str, Any]]], errors: SlotErrors) -> None:
    """No two slots of one request overlap; the later one is reported."""
    # In start order, a slot overlaps an earlier one exactly when it overlaps
    # the one ending last so far.
    latest = None  # (index, item) of the slot ending last so far
    for index, item in sorted(active, key=lambda pair: pair[1]["start"]):
        if latest is not None and overlaps(
            item["start"], item["end"], latest[1]["start"], latest[1]["end"]
        ):
            errors[index].setdefault("start", []).append(
                _("This time slot overlaps time slot %(other)d of this request.")
                % {"other": latest[0] + 1}
            )
        if latest is None or item["end"] > latest[1]["end"]:
            latest = (index, item)


def instructor_slots_overlapping(
    instructor: User, items: list[dict[str, Any]], *, ignore: Iterable[int] = ()
) -> list[TimeSlot]:
    """The instructor's slots the studio has not cancelled (but those of
    `ignore`) within the span of `items`, in start order, with their
    sessions: those any item may overlap."""
    if not items:
        return []
    return list(
        TimeSlot.objects.for_instructor(instructor)
        .overlapping(min(item["start"] for item in items), max(item["end"] for item in items))
        .exclude(pk__in=list(ignore))
        .select_related("session")
        .order_by("start", "pk")
    )


def _overlaps_with_instructor(
    instructor: User,
    active: list[tuple[int, dict[str, Any]]],
    ignore: Iterable[int],
    errors: SlotErrors,
) -> None:
    """No slot overlaps another slot of the instructor that the studio has
    not cancelled; the slots of `ignore` (those the request replaces) do not
    count."""
    clashes = instructor_slots_overlapping(instructor, [item for _i, item in active], ignore=ignore)
    for index, item in active:
        for clash in clashes:
            if overlaps(item["start"], item["end"], clash.start, clash.end):
                errors[index].setdefault("start", []).append(
                    _("This time slot overlaps your time slot %(id)d of %(title)s.")
                    % {"id": clash.pk, "title": clash.session.title}
                )
                break


def check_slots(
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
    errors = _slot_id_errors(items, existing)
    current = now()
    for index, item in enumerate(items):
        if not errors[index]:
            errors[index] = _time_errors(item, existing.get(item.get("id")), current)
    if any(errors):
        raise ValidationFailedError(errors={"time_slots": errors})

    # A slot the studio cancelled blocks no time: it stays in the list as
    # history and takes no part in the overlap checks.
    active = [
        (index, item)
        for index, item in enumerate(items)
        if not getattr(existing.get(item.get("id")), "is_cancelled", False)
    ]
    _overlaps_within(active, errors)
    _overlaps_with_instructor(instructor, active, ignore, errors)
    if any(errors):
        raise ValidationFailedError(errors={"time_slots": errors})


def check_capacity_not_below_booked(
    items: list[dict[str, Any]], existing: dict[int, TimeSlot]
) -> None:
    """No slot's capacity goes below its confirmed bookings (`booked`, read
    from the locked row)."""
    for item in items:
        slot = existing.get(item.get("id"))
        if slot is not None and item["capacity"] < slot.booked:
            raise CapacityBelowBookedError(
                _(
                    "Time slot %(id)d has %(booked)d confirmed bookings; its capacity "
                    "cannot be lower."
                )
                % {"id": slot.pk, "booked": slot.booked},
                time_slot_id=slot.pk,
            )


def check_holds_no_bookings(slot_ids: Iterable[int], *, whole_session: bool = False) -> None:
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
    raise HasBookingsError(
        _("A time slot that holds bookings cannot be removed; cancel it instead."),
        time_slot_id=booked,
    )
