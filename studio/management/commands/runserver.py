from django.conf import settings
from django.contrib.staticfiles.management.commands.runserver import Command as RunserverCommand
from django.db import DatabaseError

from studio.scheduler import EmbeddedBeat


class Command(RunserverCommand):
    """Django's development server, which also starts while the database is
    down: requests are then answered 503 until the database is back.

    Without a broker (no REDIS_URL), it also runs the beat schedule on a
    thread, so reminders and retries go out with nothing else running."""

    def check_migrations(self):
        try:
            super().check_migrations()
        except DatabaseError as exc:
            self.stderr.write(
                f"The database is unreachable, so migrations were not checked: {exc}\n"
                "Requests are answered 503 until it is back."
            )

    def inner_run(self, *args, **options):
        if settings.CELERY_TASK_ALWAYS_EAGER:
            EmbeddedBeat().start()
            self.stdout.write("Background tasks run in this process (no REDIS_URL).")
        return super().inner_run(*args, **options)
