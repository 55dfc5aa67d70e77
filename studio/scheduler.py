"""The beat schedule without a broker: a thread of the development server
runs each task of `CELERY_BEAT_SCHEDULE` in its own process, as often as beat
would. So `make run` alone sends every mail, reminders included; with
REDIS_URL set, `celery -A studio worker --beat` does this instead."""

import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError, close_old_connections

logger = logging.getLogger(__name__)


class EmbeddedBeat(threading.Thread):
    def __init__(self, schedule: dict | None = None) -> None:
        super().__init__(name="studio-beat", daemon=True)
        self.schedule = dict(schedule if schedule is not None else settings.CELERY_BEAT_SCHEDULE)
        self.stopped = threading.Event()

    def run(self) -> None:
        from studio.celery import app

        app.loader.import_default_modules()
        due = dict.fromkeys(self.schedule, time.monotonic())
        while not self.stopped.is_set():
            for name, entry in self.schedule.items():
                if time.monotonic() < due[name]:
                    continue
                due[name] = time.monotonic() + float(entry["schedule"])
                try:
                    app.tasks[entry["task"]]()
                except DatabaseError as exc:
                    # Tried again at its next turn, like the requests' 503s.
                    logger.warning("%s: the database is unavailable: %s", entry["task"], exc)
                except Exception:
                    logger.exception("scheduled task %s failed", entry["task"])
                finally:
                    close_old_connections()
            self.stopped.wait(1)

    def stop(self) -> None:
        self.stopped.set()
