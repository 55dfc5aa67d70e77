"""The Celery app `studio`: `celery -A studio worker --beat` runs every task and
schedule on one machine; in production, workers and one beat process share
Redis (`REDIS_URL`) as the broker. Its settings are the CELERY_* ones in
studio/settings.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

app = Celery("studio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
