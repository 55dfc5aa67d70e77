"""Celery tasks of the timetable's upkeep, on the beat schedule."""

from celery import shared_task

from sessions_app import schedules


@shared_task(name="sessions_app.extend_schedules", ignore_result=True)
def extend_schedules() -> int:
    return schedules.schedules_extend()
