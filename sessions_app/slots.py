"""Time slots as the timetable's writes handle them: an item (a slot's
start, end and capacity, with its id once stored), the action log's record
of a slot, and the unsaved rows of new slots."""

from typing import Any

from sessions_app.models import Session, TimeSlot

SLOT_FIELDS = ("start", "end", "capacity")


def slot_item(slot: TimeSlot) -> dict[str, Any]:
    return {"id": slot.pk, **{field: getattr(slot, field) for field in SLOT_FIELDS}}


def slot_record(slot: TimeSlot) -> dict[str, Any]:
    """The action log's record of a deleted slot."""
    return {"session": slot.session_id, **{field: getattr(slot, field) for field in SLOT_FIELDS}}


def new_slots(
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
