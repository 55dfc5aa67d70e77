"""Celery tasks of the outbox. Each is safe to run twice, or by two workers at
once: the outbox rows, not the broker's messages, say what is still to send."""

from celery import shared_task

from notifications import services


@shared_task(name="notifications.deliver", ignore_result=True)
def deliver(notification_id: int) -> str:
    return services.notification_deliver(notification_id)


@shared_task(name="notifications.resend_due", ignore_result=True)
def resend_due() -> int:
    return services.notifications_resend_due()


@shared_task(name="notifications.queue_reminders", ignore_result=True)
def queue_reminders() -> int:
    return services.reminders_queue()
