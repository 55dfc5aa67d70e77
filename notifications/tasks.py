"""Celery tasks of the outbox. Each is safe to run twice, or by two workers at
once: the outbox rows, not the broker's messages, say what is still to send."""

from celery import shared_task

from notifications import delivery, outbox


@shared_task(name=delivery.DELIVER_TASK, ignore_result=True)
def deliver(notification_id: int) -> str:
    return delivery.notification_deliver(notification_id)


@shared_task(name="notifications.resend_due", ignore_result=True)
def resend_due() -> int:
    return delivery.notifications_resend_due()


@shared_task(name="notifications.queue_reminders", ignore_result=True)
def queue_reminders() -> int:
    return outbox.reminders_queue()
