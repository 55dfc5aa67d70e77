from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"

    def ready(self) -> None:
        from notifications import services
        from studio.signals import mail_due

        # The booking and account services say what to mail; the outbox rows
        # are written in their transaction.
        mail_due.connect(services.mail_due_received, dispatch_uid="outbox")
