"""Celery tasks of the bookings' upkeep, on the beat schedule."""

from celery import shared_task

from bookings import idempotency, services


@shared_task(name="bookings.expire_waitlists", ignore_result=True)
def expire_waitlists() -> int:
    return services.waitlist_expire(by=None)


@shared_task(name="bookings.purge_idempotency_keys", ignore_result=True)
def purge_idempotency_keys() -> int:
    return idempotency.idempotency_keys_purge()
