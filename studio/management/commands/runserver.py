from django.contrib.staticfiles.management.commands.runserver import Command as RunserverCommand
from django.db import DatabaseError


class Command(RunserverCommand):
    """Django's development server, which also starts while the database is
    down: requests are then answered 503 until the database is back."""

    def check_migrations(self):
        try:
            super().check_migrations()
        except DatabaseError as exc:
            self.stderr.write(
                f"The database is unreachable, so migrations were not checked: {exc}\n"
                "Requests are answered 503 until it is back."
            )
