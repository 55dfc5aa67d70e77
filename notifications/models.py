from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from core.signals import MailKind


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    """One mail to one user: the outbox row, written in the transaction of
    the change it tells of, then delivered by a worker.

    `pending` covers the first try and the waits between retries, until
    `next_attempt_at`; a worker claims a row by moving `next_attempt_at` on,
    so a worker that dies mid-send leaves the row to be tried again then.
    At most one mail of each kind per booking, whatever the workers do.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    booking = models.ForeignKey(
        "bookings.Booking",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=32, choices=MailKind)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=NotificationStatus,
        default=NotificationStatus.PENDING,
    )
    subject = models.CharField(_("subject"), max_length=255)
    # Facts the message states as of the change: a waitlist position, a late
    # cancellation. The rest is read when the mail is written.
    data = models.JSONField(_("data"), default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=now)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_idx"),
            # What the resend sweep reads: the rows due for a try.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status=NotificationStatus.PENDING),
                name="notification_due_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "kind"],
                condition=Q(booking__isnull=False),
                name="notification_once_per_booking_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=MailKind.values), name="notification_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=NotificationStatus.values),
                name="notification_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.user} ({self.status})"
