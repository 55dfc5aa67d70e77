"""The words of every notification: Django templates under
`templates/notifications/`, a subject, a plain-text body and an HTML body per
kind, with every time in the recipient's zone and that zone's name."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.timezone import now
from icalendar import Calendar, Event

from core import timezones
from core.signals import MailKind


def context(kind: str, user, booking=None, data: dict | None = None, slot=None) -> dict:
    """What the templates of `kind` read, for `user` and `booking` on `slot`
    (the booking's own unless given; with its session and instructor)."""
    zone = timezones.get_zone(user.timezone)
    values = {"name": user.name, "zone": user.timezone, **(data or {})}
    if booking is not None:
        slot = slot or booking.time_slot
        values.update(
            title=slot.session.title,
            # Read only by the templates that name the instructor.
            instructor=lambda: slot.session.instructor.name,
            start=timezones.spell(slot.start, zone),
            end=f"{timezones.localize(slot.end, zone):%H:%M}",
            cancel_before=timezones.spell(booking.cancel_before, zone),
            minutes=settings.STUDIO_REMINDER_MINUTES,
        )
    return values


def subject(kind: str, values: dict) -> str:
    text = render_to_string(f"notifications/{kind}_subject.txt", values)
    return " ".join(text.split())[:255]


def reset_link(user) -> dict:
    """The uid and token of a password reset link, made as the mail is written,
    so the outbox never stores them."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = settings.STUDIO_PASSWORD_RESET_URL.format(uid=uid, token=token)
    return {"uid": uid, "token": token, "link": link}


def booking_calendar(booking) -> bytes:
    """The booked slot as an iCalendar event (RFC 5545), in UTC."""
    slot = booking.time_slot
    calendar = Calendar()
    calendar.add("prodid", "-//Studio//Bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"booking-{booking.pk}@studio")
    event.add("dtstamp", now())
    event.add("dtstart", slot.start)
    event.add("dtend", slot.end)
    event.add("summary", slot.session.title)
    event.add("description", f"With {slot.session.instructor.name}.")
    event.add("status", "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()


def message(notification) -> EmailMultiAlternatives:
    """The mail of `notification`, written now in the recipient's zone."""
    kind = notification.kind
    user = notification.user
    values = context(kind, user, notification.booking, notification.data)
    if kind == MailKind.PASSWORD_RESET:
        values.update(reset_link(user))
    mail = EmailMultiAlternatives(
        subject=subject(kind, values),
        body=render_to_string(f"notifications/{kind}.txt", values),
        to=[user.email],
    )
    mail.attach_alternative(render_to_string(f"notifications/{kind}.html", values), "text/html")
    if kind == MailKind.BOOKING_CONFIRMED:
        mail.attach("class.ics", booking_calendar(notification.booking), "text/calendar")
    return mail
