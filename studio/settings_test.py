"""Settings of the test suite: studio.settings with the suite's own defaults.

The suite runs only under this module (`make test`, or `python manage.py
test`, which picks it unless DJANGO_SETTINGS_MODULE or --settings names
another); the test runner refuses any other. Variables set in the environment still win over the
defaults below.
"""

import os

# Fixed development keys, so the suite runs with debug off and nothing set.
# They sign only test tokens; production settings refuse to start without keys of their own.
os.environ.setdefault(
    "DJANGO_SECRET_KEY", "development-only-key-never-used-when-debug-is-off-0123456789"
)
os.environ.setdefault(
    "STUDIO_JWT_SIGNING_KEY", "development-only-jwt-key-never-used-when-debug-is-off-0123456789"
)

from core.env import env_int, env_str  # noqa: E402
from studio.settings import *  # noqa: E402, F403

# Fast hashing keeps the suite quick; the demo data's PBKDF2 hashes still verify.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# The suite signs in far more often than a person; its own throttle tests
# set the rate they test.
STUDIO_AUTH_THROTTLE = env_str("STUDIO_AUTH_THROTTLE", "1000/min")

# The suite turns the timetable cache on in the tests that are about it.
STUDIO_TIMETABLE_CACHE_SECONDS = env_int("STUDIO_TIMETABLE_CACHE_SECONDS", 0)

# Tasks run in the process that queues them, so a test sees its mail in
# django.core.mail.outbox; the tests of the real worker turn this off.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Eager tasks log a line each; the suite's output is for failures.
LOGGING["loggers"]["celery.app.trace"] = {"level": "WARNING"}  # noqa: F405
