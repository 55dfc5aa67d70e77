from datetime import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from core import timezones

MIN_CAPACITY = 1
MAX_CAPACITY = 500
# The longest occurrence of a recurring schedule: a day.
MAX_DURATION_MINUTES = 24 * 60


class Category(models.TextChoices):
    YOGA = "yoga", _("Yoga")
    ZUMBA = "zumba", _("Zumba")
    HIIT = "hiit", _("HIIT")
    PILATES = "pilates", _("Pilates")
    SPIN = "spin", _("Spin")
    STRENGTH = "strength", _("Strength")
    DANCE = "dance", _("Dance")
    OTHER = "other", _("Other")


class SlotStatus(models.TextChoices):
    OPEN = "open", _("Open")
    FULL = "full", _("Full")
    PAST = "past", _("Past")
    CANCELLED = "cancelled", _("Cancelled")


def slot_status(*, is_cancelled: bool, started: bool, booked: int, capacity: int) -> str:
    """A slot's status as the API shows it: cancelled if the studio cancelled
    it, else past once it has started, else full with no seat left, else open."""
    if is_cancelled:
        return SlotStatus.CANCELLED
    if started:
        return SlotStatus.PAST
    if booked >= capacity:
        return SlotStatus.FULL
    return SlotStatus.OPEN


def slot_started(start: datetime, at: datetime) -> bool:
    """Whether a slot that starts at `start` has started at the moment `at`."""
    return start <= at


def slot_waiting(*, waitlisted: int, started: bool) -> int:
    """How many bookings a slot shows waiting for a seat: none once it has
    started, when its waitlist closes (a booking still waiting then has
    expired, whether or not that is written yet)."""
    return 0 if started else waitlisted


class Session(models.Model):
    """A class an instructor offers, such as Morning Yoga."""

    instructor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="sessions",
        limit_choices_to={"role": "instructor"},
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=5000, blank=True)
    category = models.CharField(_("category"), max_length=16, choices=Category)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # A repeating schedule (API.md section 9): an RFC 5545 rule read in the
    # studio's wall-clock time from `rrule_start`, each occurrence a slot of
    # `rrule_minutes` and `rrule_capacity`. Blank: no schedule. Occurrences
    # up to `generated_until` have been made (or skipped); the horizon task
    # goes on from there.
    rrule = models.CharField(
        _("recurrence rule"),
        max_length=500,
        blank=True,
        help_text=_("RFC 5545, e.g. FREQ=WEEKLY;BYDAY=MO,WE; blank for none."),
    )
    rrule_start = models.DateTimeField(_("first start"), null=True, blank=True)
    rrule_minutes = models.PositiveSmallIntegerField(
        _("minutes each"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DURATION_MINUTES)],
    )
    rrule_capacity = models.PositiveSmallIntegerField(
        _("capacity each"),
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_CAPACITY), MaxValueValidator(MAX_CAPACITY)],
    )
    generated_until = models.DateTimeField(
        _("generated until"), null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["instructor", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__in=Category.values), name="session_category_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class TimeSlotQuerySet(models.QuerySet):
    def upcoming(self) -> "TimeSlotQuerySet":
        """Slots that start in the future and were not cancelled."""
        return self.filter(start__gt=now(), is_cancelled=False)

    def with_seat(self) -> "TimeSlotQuerySet":
        return self.filter(booked__lt=F("capacity"))

    def for_instructor(self, instructor) -> "TimeSlotQuerySet":
        return self.filter(session__instructor=instructor)

    def overlapping(self, start, end) -> "TimeSlotQuerySet":
        """The slots that overlap [start, end) and block its time: those the
        studio has not cancelled, starting before `end` and ending after
        `start` (as `sessions_app.rules.overlaps` says of two intervals)."""
        return self.filter(start__lt=end, end__gt=start, is_cancelled=False)


class TimeSlot(models.Model):
    """One dated occurrence of a session, with a number of seats.

    `booked` counts the confirmed bookings and `waitlisted` the bookings
    waiting for a seat. Only the booking services change them (booking,
    cancelling, promoting from the waitlist, cancelling the slot), each under
    a lock on this row; the database keeps `booked` within the capacity. The timetable's rules
    (times, overlaps, capacity not below `booked`) are `sessions_app.rules`,
    which the services apply, with the constraints below as the last defence.
    """

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="time_slots")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    capacity = models.PositiveSmallIntegerField(
        _("capacity"), validators=[MinValueValidator(MIN_CAPACITY), MaxValueValidator(MAX_CAPACITY)]
    )
    booked = models.PositiveSmallIntegerField(_("booked"), default=0, editable=False)
    waitlisted = models.PositiveSmallIntegerField(_("waitlisted"), default=0, editable=False)
    is_cancelled = models.BooleanField(_("cancelled by the studio"), default=False)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True, editable=False)
    # Made from the session's recurrence rule: a new rule replaces the
    # upcoming generated slots that hold no booking.
    generated = models.BooleanField(_("from the schedule"), default=False, editable=False)

    objects = TimeSlotQuerySet.as_manager()

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(
                fields=["start"], condition=Q(is_cancelled=False), name="timeslot_upcoming_idx"
            ),
            models.Index(fields=["session", "start"], name="timeslot_session_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="timeslot_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=MIN_CAPACITY, capacity__lte=MAX_CAPACITY),
                name="timeslot_capacity_range",
            ),
            models.CheckConstraint(
                condition=Q(booked__lte=F("capacity")), name="timeslot_booked_within_capacity"
            ),
        ]

    def __str__(self) -> str:
        start = timezones.localize(self.start, timezones.studio_zone())
        return f"{self.session.title} at {start:%Y-%m-%d %H:%M}"

    def get_status_display(self) -> str:
        return SlotStatus(self.status).label

    @property
    def available(self) -> int:
        return max(self.capacity - self.booked, 0)

    @property
    def is_full(self) -> bool:
        return self.booked >= self.capacity

    @property
    def waiting(self) -> int:
        return slot_waiting(waitlisted=self.waitlisted, started=self.has_started)

    @property
    def has_started(self) -> bool:
        return slot_started(self.start, now())

    @property
    def status(self) -> str:
        return slot_status(
            is_cancelled=self.is_cancelled,
            started=self.has_started,
            booked=self.booked,
            capacity=self.capacity,
        )
