from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.actionlog import ActionLogInline
from notifications import outbox
from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox, read-only: what was mailed to whom, and what is still
    being tried. Failed mail can be sent again."""

    list_display = [
        "created_at",
        "user",
        "kind",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["user__email", "subject"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    fields = [
        "user",
        "booking",
        "kind",
        "status",
        "subject",
        "data",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
    ]
    readonly_fields = fields
    actions = ["send_again"]
    inlines = [ActionLogInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Every field is read-only: the change page is a view, with no Save
        # that would log a change that changed nothing.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_send_permission(self, request) -> bool:
        return request.user.has_perm("notifications.change_notification")

    @admin.action(description=_("Send selected failed notifications again"), permissions=["send"])
    def send_again(self, request, queryset: QuerySet[Notification]) -> None:
        chosen = queryset.count()
        resent = outbox.notifications_resend(notifications=queryset, by=request.user)
        if resent:
            self.message_user(
                request,
                ngettext(
                    "Sending %(count)d notification again.",
                    "Sending %(count)d notifications again.",
                    resent,
                )
                % {"count": resent},
                messages.SUCCESS,
            )
        if chosen > resent:
            self.message_user(
                request,
                ngettext(
                    "Skipped %(count)d notification that has not failed.",
                    "Skipped %(count)d notifications that have not failed.",
                    chosen - resent,
                )
                % {"count": chosen - resent},
                messages.WARNING,
            )
