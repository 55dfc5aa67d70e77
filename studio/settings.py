"""Settings of the studio API.

Everything that differs between machines is read from the environment (see the
README's table of variables); the defaults are safe for development.
"""

import warnings
from datetime import timedelta
from pathlib import Path
from zoneinfo import available_timezones

import dj_database_url
from corsheaders.defaults import default_headers as cors_default_headers

from core.env import ConfigError, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "development-only-key-never-used-when-debug-is-off-0123456789"
    else:
        raise ConfigError("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")

# JWTs are signed with their own key, so rotating one secret leaves the other
# standing, and a leaked token key cannot forge sessions or reset links.
JWT_SIGNING_KEY = env_str("STUDIO_JWT_SIGNING_KEY")
if not JWT_SIGNING_KEY:
    if DEBUG:
        JWT_SIGNING_KEY = "development-only-jwt-key-never-used-when-debug-is-off-0123456789"
    else:
        raise ConfigError("STUDIO_JWT_SIGNING_KEY must be set when DJANGO_DEBUG is off.")
elif JWT_SIGNING_KEY == SECRET_KEY:
    raise ConfigError("STUDIO_JWT_SIGNING_KEY must differ from DJANGO_SECRET_KEY.")
elif len(JWT_SIGNING_KEY) < 32:
    raise ConfigError("STUDIO_JWT_SIGNING_KEY must be at least 32 characters long.")

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)

INSTALLED_APPS = [
    # First, so its runserver (which starts without the database) wins over
    # the one of django.contrib.staticfiles.
    "studio",
    "core",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "sessions_app",
    "bookings",
    "notifications",
    "calendars",
]

MIDDLEWARE = [
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Before anything reads the query string (the viewing zone, views).
    "core.middleware.QueryStringLimitMiddleware",
    "core.middleware.ViewingTimezoneMiddleware",
]

ROOT_URLCONF = "studio.urls"
CSRF_FAILURE_VIEW = "studio.views.csrf_failure"
WSGI_APPLICATION = "studio.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: a SQLite file in the project unless DATABASE_URL names another.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DJANGO_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a writer instead of failing at once with "database is locked",
    # and take the write lock when a transaction starts, so two writers queue
    # instead of deadlocking on a lock upgrade.
    # WAL lets readers go on while one writer writes.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # The suite's database is a file too, so concurrent requests in tests
    # wait for the lock as they do on a real server (an in-memory database
    # shared between threads fails at once instead).
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test_db.sqlite3")}

# PostgreSQL bounds every wait, so a stuck lock or query cannot hold a worker:
# STUDIO_DB_LOCK_TIMEOUT_MS (default 5000) is the longest a statement waits for
# a row or table lock, STUDIO_DB_STATEMENT_TIMEOUT_MS (default 20000) the longest
# a statement runs; 0 turns a limit off. Either one ending a statement rolls the
# transaction back and the request is answered 503 with Retry-After.
# STUDIO_DB_CONNECT_TIMEOUT_S (default 5, at least 2) is the longest a new
# connection waits for a database that does not answer; then the request is
# answered 503, well before the server gives up on the worker.
STUDIO_DB_LOCK_TIMEOUT_MS = env_int("STUDIO_DB_LOCK_TIMEOUT_MS", 5000, lo=0, unit="milliseconds")
STUDIO_DB_STATEMENT_TIMEOUT_MS = env_int(
    "STUDIO_DB_STATEMENT_TIMEOUT_MS", 20000, lo=0, unit="milliseconds"
)
STUDIO_DB_CONNECT_TIMEOUT_S = env_int("STUDIO_DB_CONNECT_TIMEOUT_S", 5, lo=2, unit="seconds")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options.setdefault("connect_timeout", STUDIO_DB_CONNECT_TIMEOUT_S)
    # Set at connection start (libpq `options`), so every connection carries them;
    # options given in DATABASE_URL come after and win.
    _options["options"] = " ".join(
        part
        for part in [
            f"-c lock_timeout={STUDIO_DB_LOCK_TIMEOUT_MS}",
            f"-c statement_timeout={STUDIO_DB_STATEMENT_TIMEOUT_MS}",
            _options.get("options", ""),
        ]
        if part
    )

# An optional read replica of PostgreSQL (DATABASE_REPLICA_URL): the public
# timetable's reads go there (core.routers), everything else to the primary.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=env_int("DJANGO_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
    DATABASES["replica"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        **DATABASES["replica"].get("OPTIONS", {}),
    }
    # The suite runs on the primary alone: the replica mirrors it.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["core.routers.PublicReadsRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# Cache: local memory, or Redis when REDIS_URL is set (shared by every worker).
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "studio",
            # A Redis that does not answer costs a request a second, not a worker.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background work (mail, reminders, upkeep) runs on Celery. With REDIS_URL,
# Redis is the broker: web processes queue tasks, and `celery -A studio worker
# --beat` (or workers and one beat process) runs them. Without it, nothing
# needs a server: a task runs in the process that queues it, right after the
# change that caused it commits, and the development server runs the beat
# schedule on a thread of its own (studio/scheduler.py).
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A broker that is down costs a request one quick retry (half a second when
# the connection is refused, at most a few seconds when nothing answers): the
# mail waits in the outbox, and the resend sweep queues it once the broker is
# back.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# How often the outbox is swept for mail due (reminders that fell due, retries
# whose delay is over), in seconds: a reminder goes out within this long.
STUDIO_OUTBOX_POLL_SECONDS = env_int("STUDIO_OUTBOX_POLL_SECONDS", 20, lo=1, hi=30, unit="seconds")
CELERY_BEAT_SCHEDULE = {
    "queue-reminders": {
        "task": "notifications.queue_reminders",
        "schedule": STUDIO_OUTBOX_POLL_SECONDS,
    },
    "resend-due-notifications": {
        "task": "notifications.resend_due",
        "schedule": STUDIO_OUTBOX_POLL_SECONDS,
    },
    "expire-waitlists": {"task": "bookings.expire_waitlists", "schedule": 60},
    # Hourly, though a day would do: a beat restarted often still runs it.
    "extend-schedules": {"task": "sessions_app.extend_schedules", "schedule": 3600},
    "purge-idempotency-keys": {"task": "bookings.purge_idempotency_keys", "schedule": 3600},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Time: the studio's zone is where naive input is read and the admin shows times.
TIME_ZONE = env_str("STUDIO_TIME_ZONE", "Asia/Kolkata")
if TIME_ZONE not in available_timezones():
    raise ConfigError(f"STUDIO_TIME_ZONE {TIME_ZONE!r} is not an IANA time zone name.")
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = True

# The largest body any form or API request needs is far smaller (a session
# with 200 slots is about 20 KiB); anything over this is refused with 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Static files (admin, Swagger UI) are served by WhiteNoise from STATIC_ROOT
# after collectstatic; before it, say in development and tests, there is
# nothing there yet and nothing to warn about.
warnings.filterwarnings("ignore", message="No directory at: ", category=UserWarning)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Email: handed to the backend DJANGO_EMAIL_BACKEND names; by default Django's
# console backend, which prints each message instead of sending it. The host,
# port, user and TLS settings below are read by the SMTP backend.
EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("DJANGO_EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("DJANGO_EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", default=False)
# Seconds an SMTP server may keep a worker waiting; then the try fails and is
# retried later. Kept well under the minute a worker's claim on a mail lasts
# (the first retry delay), so no second worker sends a mail still being sent.
EMAIL_TIMEOUT = env_int("DJANGO_EMAIL_TIMEOUT", 10, lo=1, hi=30, unit="seconds")
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "Studio <no-reply@studio.localhost>")

# HTTPS: on, the site is served only over HTTPS.
HTTPS = env_bool("DJANGO_HTTPS", default=False)
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Reverse proxies in front of the server, trusted for the client address
# (throttling) and, with HTTPS, for the original scheme.
NUM_PROXIES = env_int("STUDIO_NUM_PROXIES", 0)
if NUM_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CORS_ALLOWED_ORIGINS = env_list("DJANGO_CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
# A browser app may send an Idempotency-Key with a booking and read whether
# the answer is a replay.
CORS_ALLOW_HEADERS = (*cors_default_headers, "idempotency-key")
CORS_EXPOSE_HEADERS = ["Idempotent-Replayed"]

# Register, login and password-reset requests per client address.
STUDIO_AUTH_THROTTLE = env_str("STUDIO_AUTH_THROTTLE", "20/min")
# How long a public timetable answer may be cached; every write that changes
# the timetable makes the cached answers stale at once.
STUDIO_TIMETABLE_CACHE_SECONDS = env_int("STUDIO_TIMETABLE_CACHE_SECONDS", 300)
# Answers are cached only in a cache every worker shares (Redis), where the
# timetable's version lives; without one, every read is answered fresh.
STUDIO_TIMETABLE_CACHE_SHARED = bool(REDIS_URL)
# The booking lifecycle (API.md section 7): how many may wait for a full
# slot, how long before the start a booking may be cancelled without being
# late (fixed on each booking when it is made), and whether anyone may
# register as an instructor (`open`) or only staff grant the role (`closed`).
STUDIO_WAITLIST_SIZE = env_int("STUDIO_WAITLIST_SIZE", 20, lo=0)
STUDIO_CANCELLATION_WINDOW_HOURS = env_int(
    "STUDIO_CANCELLATION_WINDOW_HOURS", 12, lo=0, unit="hours"
)
STUDIO_INSTRUCTOR_SIGNUP = env_str("STUDIO_INSTRUCTOR_SIGNUP", "open")
if STUDIO_INSTRUCTOR_SIGNUP not in ("open", "closed"):
    raise ConfigError(
        f"STUDIO_INSTRUCTOR_SIGNUP must be open or closed; got {STUDIO_INSTRUCTOR_SIGNUP!r}."
    )
# Recurring schedules (API.md section 9): their slots are made this many days
# ahead; a daily task moves the horizon on.
STUDIO_SCHEDULE_HORIZON_DAYS = env_int(
    "STUDIO_SCHEDULE_HORIZON_DAYS", 56, lo=1, hi=366, unit="days"
)
# Notifications (API.md section 8): the reminder goes this many minutes
# before a booked class starts.
STUDIO_REMINDER_MINUTES = env_int("STUDIO_REMINDER_MINUTES", 60, lo=1, unit="minutes")
STUDIO_PASSWORD_RESET_URL = env_str(
    "STUDIO_PASSWORD_RESET_URL", "http://127.0.0.1:8000/reset-password/?uid={uid}&token={token}"
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.StudioPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.StudioAutoSchema",
    "EXCEPTION_HANDLER": "core.exception_handler.exception_handler",
    "NUM_PROXIES": NUM_PROXIES,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("STUDIO_ACCESS_TOKEN_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("STUDIO_REFRESH_TOKEN_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "CHECK_REVOKE_TOKEN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Studio API",
    "DESCRIPTION": (
        "Timetable and bookings of a fitness studio. Authenticate with "
        "`Authorization: Bearer <access token>` from `/api/login/` or `/api/register/`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Relative: the server that serves the document. Generated clients take
    # their base URL as an argument.
    "SERVERS": [{"url": "/", "description": "The server that serves this document."}],
    # The enums named as by default, then the operations' groups with their
    # descriptions (core.schema.Tags).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.declare_tags",
    ],
    # No online validator badge: the page calls no host but this server.
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {
        "ProblemCodeEnum": "core.errors.PROBLEM_CODES",
        "SlotStatusEnum": "sessions_app.models.SlotStatus",
        "BookingStatusEnum": "bookings.models.BookingStatus",
        "NotificationKindEnum": "core.signals.MailKind",
        "NotificationStatusEnum": "notifications.models.NotificationStatus",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # 4xx answers are part of the contract, not incidents worth a log line.
        "django.request": {"level": "ERROR"},
        # A line per task is a worker's log, not the development server's.
        "celery.app.trace": {"level": "INFO" if REDIS_URL else "WARNING"},
    },
}

# The suite runs only under studio.settings_test, which the runner checks.
TEST_RUNNER = "studio.test_runner.StudioTestRunner"
