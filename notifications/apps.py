from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"

    def ready(self) -> None:
        from core.signals import mail_due
        from notifications import outbox, tasks  # noqa: F401 - tasks registers them with Celery

        # The booking and account services say what to mail; the outbox rows
        # are written in their transaction.
        mail_due.connect(outbox.mail_due_received, dispatch_uid="outbox")
