"""The action log: every write service records what it did, by whom, in the
write's own transaction (so an entry exists exactly when its change does)."""

from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.admin import GenericTabularInline
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from core.models import ActionLogEntry


def log_action(
    target: models.Model, action: str, *, by: Any | None, data: dict[str, Any] | None = None
) -> ActionLogEntry:
    """Records that `by` (a user, or None for the system) did `action` to `target`."""
    return log_actions([target], action, by=by, data=data)[0]


def log_actions(
    targets: Iterable[models.Model],
    action: str,
    *,
    by: Any | None,
    data: dict[str, Any] | None = None,
) -> list[ActionLogEntry]:
    """`log_action` for many objects of one model, in one query."""
    targets = list(targets)
    if not targets:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("log_action() belongs in the transaction of the write it records.")
    content_type = ContentType.objects.get_for_model(targets[0])
    actor = by if by is not None and by.pk is not None else None
    return ActionLogEntry.objects.bulk_create(
        [
            ActionLogEntry(
                actor=actor,
                action=action,
                content_type=content_type,
                object_id=target.pk,
                data=data or {},
            )
            for target in targets
        ]
    )


class ActionLogInline(GenericTabularInline):
    """An object's action log, newest first, read-only."""

    model = ActionLogEntry
    ct_field = "content_type"
    ct_fk_field = "object_id"
    fields = ["created_at", "actor", "action", "data"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-created_at", "-id"]
    verbose_name_plural = "action log"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
