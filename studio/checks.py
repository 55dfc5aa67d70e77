"""System checks of the deployment beyond Django's own (`check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.compatibility, deploy=True)
def background_work_check(app_configs, **kwargs) -> list[Warning]:
    """In production, mail and the beat schedule need a broker and a worker."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return [
            Warning(
                "REDIS_URL is not set: each mail is sent inside the request that causes "
                "it, and nothing sends reminders, retries failed mail or runs the upkeep.",
                hint="Set REDIS_URL and run `celery -A studio worker --beat` (make worker).",
                id="studio.W001",
            )
        ]
    return []
