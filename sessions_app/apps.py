from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sessions_app"
    verbose_name = "Sessions and time slots"

    def ready(self) -> None:
        from core.signals import timetable_changed
        from sessions_app import cache

        # Apps below the timetable (accounts) announce their changes with the signal.
        timetable_changed.connect(cache.timetable_changed_elsewhere, dispatch_uid="timetable")
