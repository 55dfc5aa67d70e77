"""Loads demodata.json: demo users, sessions with slots counted from today, bookings.

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

from accounts.models import User
from bookings import services as booking_services
from bookings.models import Booking
from sessions_app import services
from sessions_app.models import Session
from studio import timezones
from studio.errors import StudioError


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
            booking_services.booking_create(client=client, time_slot_id=slot.pk)
        except StudioError as error:
            self.stderr.write(f"Skipped a demo booking of {client.email}: {error.message}")
            return 0
        return 1
