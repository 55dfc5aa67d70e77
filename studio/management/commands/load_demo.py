"""Loads demodata.json: demo users, sessions with slots counted from today,
bookings, and the booking lifecycle: a full class with a waitlist, a late
cancellation, and attendance on a class that took place.

It wires every app together, so it lives in the core; the timetable and the
bookings are made through their services, as the system (`by=None`).

Loading again changes nothing that is there already: users are matched by
email, sessions by instructor and title, slots by start, bookings by client
and slot. Loaded on a later day, it adds that day's upcoming slots.
"""

import json
from datetime import datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.timezone import now

from accounts.models import User
from bookings import services as booking_services
from bookings.models import HOLDING, Booking, BookingStatus
from core import timezones
from core.errors import StudioError
from sessions_app import services
from sessions_app.models import Session, TimeSlot


class Command(BaseCommand):
    help = "Load the demo users, timetable and bookings of demodata.json."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(settings.BASE_DIR / "demodata.json"))

    def handle(self, *args, path: str, **options):
        data = json.loads(Path(path).read_text())
        with transaction.atomic():
            users = {item["email"]: self.load_user(item) for item in data["users"]}
            sessions = {
                item["title"]: self.load_session(item, users[item["instructor"]])
                for item in data["sessions"]
            }
        booked = sum(self.load_booking(item, users, sessions) for item in data["bookings"])
        booked += self.load_lifecycle(data["lifecycle"], users, sessions)
        self.stdout.write(
            f"Demo data: {len(users)} users, {len(sessions)} sessions, {booked} new bookings."
        )

    def load_user(self, item: dict) -> User:
        user, _ = User.objects.update_or_create(
            email=item["email"],
            defaults={key: value for key, value in item.items() if key != "email"},
        )
        return user

    def load_session(self, item: dict, instructor: User) -> Session:
        today = timezones.studio_today()
        wanted = []
        for slot in item["slots"]:
            day = today + timedelta(days=slot["day"])
            start = timezones.read_naive(datetime.combine(day, time.fromisoformat(slot["time"])))
            end = start + timedelta(minutes=slot["minutes"])
            wanted.append({"start": start, "end": end, "capacity": slot["capacity"]})
        session = Session.objects.filter(instructor=instructor, title=item["title"]).first()
        fields = {key: item[key] for key in ("title", "category", "description")}
        if session is None:
            return services.session_create(
                instructor=instructor, time_slots=wanted, by=None, **fields
            )
        current = list(session.time_slots.values("id", "start", "end", "capacity"))
        starts = {slot["start"] for slot in current}
        new = [slot for slot in wanted if slot["start"] not in starts]
        if new:
            services.session_update(session=session, data={"time_slots": current + new}, by=None)
        return session

    def load_booking(self, item: dict, users: dict, sessions: dict) -> int:
        client = users[item["client"]]
        upcoming = sessions[item["session"]].time_slots.upcoming().order_by("start")
        slot = upcoming[item["slot"] : item["slot"] + 1].first()
        if slot is None:
            return 0
        if Booking.objects.for_client(client).confirmed().filter(time_slot=slot).exists():
            return 0
        try:
            booking_services.booking_create(client=client, time_slot_id=slot.pk, by=None)
        except StudioError as error:
            self.stderr.write(f"Skipped a demo booking of {client.email}: {error.message}")
            return 0
        return 1

    def load_lifecycle(self, data: dict, users: dict, sessions: dict) -> int:
        """The lifecycle's demo bookings; returns how many it made."""
        made = self.fill_class(data["full_class"], users, sessions)
        made += self.cancel_late(data["late_cancellation"], users, sessions)
        return made + self.past_class(data["past_class"], users, sessions)

    def fill_class(self, item: dict, users: dict, sessions: dict) -> int:
        """Its clients book the slot with `"waitlist": true`: the first take its
        last seats, the rest wait for one."""
        slot = sessions[item["session"]].time_slots.upcoming().order_by("start")[item["slot"]]
        made = 0
        for email in item["clients"]:
            client = users[email]
            if Booking.objects.filter(client=client, time_slot=slot, status__in=HOLDING).exists():
                continue
            booking_services.booking_create(
                client=client, time_slot_id=slot.pk, waitlist=True, by=client
            )
            made += 1
        return made

    def cancel_late(self, item: dict, users: dict, sessions: dict) -> int:
        """A slot of the session that starts within hours, which the client
        books and then cancels: after its `cancel_before`, so late."""
        session = sessions[item["session"]]
        client = users[item["client"]]
        start = now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=item["in_hours"])
        slot = session.time_slots.filter(start=start).first()
        if slot is None:
            current = list(session.time_slots.values("id", "start", "end", "capacity"))
            new = {
                "start": start,
                "end": start + timedelta(minutes=item["minutes"]),
                "capacity": item["capacity"],
            }
            services.session_update(session=session, data={"time_slots": [*current, new]}, by=None)
            slot = session.time_slots.get(start=start)
        if Booking.objects.filter(client=client, time_slot=slot).exists():
            return 0
        booking = booking_services.booking_create(client=client, time_slot_id=slot.pk, by=client)
        booking_services.booking_cancel(booking=booking, by=client)
        return 1

    def past_class(self, item: dict, users: dict, sessions: dict) -> int:
        """A class of the session that took place, with its bookings and the
        instructor's attendance marks. The services only make upcoming slots
        and bookings, so the class and its bookings are written as they stand
        after it; the marks go through the attendance service."""
        session = sessions[item["session"]]
        if session.time_slots.filter(start__lte=now()).exists():
            return 0
        day = timezones.studio_today() - timedelta(days=item["days_ago"])
        start = timezones.read_naive(datetime.combine(day, time.fromisoformat(item["time"])))
        clients = [users[email] for email in item["attendance"]]
        with transaction.atomic():
            slot = TimeSlot.objects.create(
                session=session,
                start=start,
                end=start + timedelta(minutes=item["minutes"]),
                capacity=item["capacity"],
                booked=len(clients),
            )
            bookings = Booking.objects.bulk_create(
                Booking(
                    client=client,
                    time_slot=slot,
                    status=BookingStatus.CONFIRMED,
                    cancel_before=booking_services.cancel_before(slot),
                    confirmed_at=start - timedelta(days=1),
                )
                for client in clients
            )
        for booking, client in zip(bookings, clients, strict=True):
            booking_services.booking_mark_attendance(
                booking=booking,
                attendance=item["attendance"][client.email],
                by=session.instructor,
            )
        return len(bookings)
