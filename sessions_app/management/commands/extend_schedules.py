"""Adds the slots of every recurring schedule up to the horizon
(`STUDIO_SCHEDULE_HORIZON_DAYS`). Beat runs it hourly; running it again adds
nothing."""

from django.core.management.base import BaseCommand

from sessions_app.schedules import schedules_extend


class Command(BaseCommand):
    help = "Generate the slots of recurring schedules up to the horizon."

    def handle(self, *args, **options) -> None:
        made = schedules_extend()
        self.stdout.write(f"{made} time slot(s) generated.")
