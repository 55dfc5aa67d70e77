from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sessions_app.models import TimeSlot


class BookingStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    WAITLISTED = "waitlisted", _("Waitlisted")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


# The statuses that hold a client's place on a slot: a seat, or a place in
# its waitlist. A client holds at most one of them per slot.
HOLDING = [BookingStatus.CONFIRMED, BookingStatus.WAITLISTED]


def shown_status(status: str, *, slot_started: bool) -> str:
    """A booking's status as the API shows it: one still waiting when its
    slot has started is expired, whether or not `waitlist_expire` has written
    that yet."""
    if status == BookingStatus.WAITLISTED and slot_started:
        return BookingStatus.EXPIRED
    return status


def shown_status_filter(status: str, *, at: datetime) -> Q:
    """The bookings whose status, as `shown_status` shows it at `at`, is
    `status`: `shown_status` as a filter on bookings."""
    if status == BookingStatus.WAITLISTED:
        return Q(status=status, time_slot__start__gt=at)
    if status == BookingStatus.EXPIRED:
        return Q(status=status) | Q(status=BookingStatus.WAITLISTED, time_slot__start__lte=at)
    return Q(status=status)


class Attendance(models.TextChoices):
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("No show")


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
    # When the booking got its seat: made confirmed, or promoted from the
    # waitlist. A booking confirmed inside the reminder lead gets no reminder.
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # The cancellation policy as it stood when the booking was made: cancelling
    # after this moment (and before the start) marks the booking late.
    cancel_before = models.DateTimeField(_("cancel before"))
    late = models.BooleanField(_("cancelled late"), default=False)
    attendance = models.CharField(
        _("attendance"), max_length=16, choices=Attendance, null=True, blank=True
    )

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["client", "status"]),
            # A slot's waitlist in order, oldest first.
            models.Index(
                fields=["time_slot", "created_at", "id"],
                condition=Q(status=BookingStatus.WAITLISTED),
                name="booking_waitlist_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "time_slot"],
                condition=Q(status__in=HOLDING),
                name="booking_one_holding_per_client_slot",
            ),
            models.CheckConstraint(
                condition=Q(status__in=BookingStatus.values), name="booking_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(attendance__isnull=True) | Q(attendance__in=Attendance.values),
                name="booking_attendance_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} on {self.time_slot_id} ({self.status})"

    @property
    def current_status(self) -> str:
        """The status as the API shows it (`shown_status`)."""
        return shown_status(self.status, slot_started=self.time_slot.has_started)


class IdempotencyKey(models.Model):
    """A client's `Idempotency-Key` for `POST /api/bookings/` and the first
    answer to it, replayed to a retry with the same key and body until
    `expires_at`. A row without a status is a request still running."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("key"), max_length=255)
    request_hash = models.CharField(_("request hash"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status"), null=True, blank=True)
    response_body = models.JSONField(_("answer"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key} of {self.client_id}"
