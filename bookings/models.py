from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sessions_app.models import TimeSlot


class BookingStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")


class BookingQuerySet(models.QuerySet):
    def confirmed(self) -> "BookingQuerySet":
        return self.filter(status=BookingStatus.CONFIRMED)

    def for_client(self, client) -> "BookingQuerySet":
        return self.filter(client=client)


class Booking(models.Model):
    """A client's seat on a time slot. Bookings are never deleted: a cancelled
    one stays as history."""

    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings"
    )
    time_slot = models.ForeignKey(TimeSlot, on_delete=models.PROTECT, related_name="bookings")
    status = models.CharField(
        _("status"), max_length=16, choices=BookingStatus, default=BookingStatus.CONFIRMED
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["client", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "time_slot"],
                condition=Q(status=BookingStatus.CONFIRMED),
                name="booking_one_confirmed_per_client_slot",
            ),
            models.CheckConstraint(
                condition=Q(status__in=BookingStatus.values), name="booking_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} on {self.time_slot_id} ({self.status})"
