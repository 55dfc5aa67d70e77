"""Start-up configuration, checked in fresh interpreters with a chosen environment."""

from django.test import SimpleTestCase

from testing.processes import JWT_KEY, PRODUCTION_KEYS, SETUP, STRONG_KEY, run


class StartupTests(SimpleTestCase):
    def test_server_refuses_to_start_without_a_secret_key_when_debug_is_off(self):
        result = run(SETUP + "print(settings.DEBUG)")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(
            result.stderr.strip(), "studio: DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off."
        )

    def test_debug_is_off_by_default(self):
        result = run(SETUP + "print(settings.DEBUG)", **PRODUCTION_KEYS)
        self.assertEqual(result.stdout.strip(), "False", result.stderr)

    def test_server_refuses_to_start_without_a_jwt_signing_key_when_debug_is_off(self):
        result = run(SETUP + "print(settings.DEBUG)", DJANGO_SECRET_KEY=STRONG_KEY)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(
            result.stderr.strip(),
            "studio: STUDIO_JWT_SIGNING_KEY must be set when DJANGO_DEBUG is off.",
        )

    def test_jwt_signing_key_must_be_its_own_long_key(self):
        cases = {
            STRONG_KEY: "studio: STUDIO_JWT_SIGNING_KEY must differ from DJANGO_SECRET_KEY.",
            "short-key": "studio: STUDIO_JWT_SIGNING_KEY must be at least 32 characters long.",
        }
        for key, message in cases.items():
            with self.subTest(key=key):
                result = run(SETUP, DJANGO_SECRET_KEY=STRONG_KEY, STUDIO_JWT_SIGNING_KEY=key)
                self.assertEqual(result.returncode, 1)
                self.assertEqual(result.stderr.strip(), message)

    def test_mail_timings_out_of_range_stop_start_up_with_one_line(self):
        cases = {
            ("STUDIO_REMINDER_MINUTES", "0"): "STUDIO_REMINDER_MINUTES must be 1 or more minutes",
            ("STUDIO_OUTBOX_POLL_SECONDS", "0"): "STUDIO_OUTBOX_POLL_SECONDS must be 1 to 30",
            ("STUDIO_OUTBOX_POLL_SECONDS", "31"): "STUDIO_OUTBOX_POLL_SECONDS must be 1 to 30",
            ("DJANGO_EMAIL_TIMEOUT", "0"): "DJANGO_EMAIL_TIMEOUT must be 1 to 30 seconds",
            ("DJANGO_EMAIL_TIMEOUT", "90"): "DJANGO_EMAIL_TIMEOUT must be 1 to 30 seconds",
        }
        for (name, value), message in cases.items():
            with self.subTest(name=name, value=value):
                result = run(SETUP, DJANGO_DEBUG="1", **{name: value})
                self.assertEqual(result.returncode, 1)
                self.assertTrue(
                    result.stderr.strip().startswith(f"studio: {message}"), result.stderr
                )

    def test_other_numbers_out_of_range_stop_start_up_with_one_line(self):
        cases = {
            ("STUDIO_DB_LOCK_TIMEOUT_MS", "-1"): "STUDIO_DB_LOCK_TIMEOUT_MS must be 0 or more "
            "milliseconds; got -1.",
            ("STUDIO_DB_STATEMENT_TIMEOUT_MS", "-5"): "STUDIO_DB_STATEMENT_TIMEOUT_MS must be 0 "
            "or more milliseconds; got -5.",
            ("STUDIO_DB_CONNECT_TIMEOUT_S", "1"): "STUDIO_DB_CONNECT_TIMEOUT_S must be 2 or more "
            "seconds; got 1.",
            ("STUDIO_WAITLIST_SIZE", "-1"): "STUDIO_WAITLIST_SIZE must be 0 or more; got -1.",
            ("STUDIO_CANCELLATION_WINDOW_HOURS", "-2"): "STUDIO_CANCELLATION_WINDOW_HOURS must "
            "be 0 or more hours; got -2.",
            ("STUDIO_SCHEDULE_HORIZON_DAYS", "0"): "STUDIO_SCHEDULE_HORIZON_DAYS must be 1 to "
            "366 days; got 0.",
            ("STUDIO_SCHEDULE_HORIZON_DAYS", "367"): "STUDIO_SCHEDULE_HORIZON_DAYS must be 1 to "
            "366 days; got 367.",
        }
        for (name, value), message in cases.items():
            with self.subTest(name=name, value=value):
                result = run(SETUP, DJANGO_DEBUG="1", **{name: value})
                self.assertEqual(result.returncode, 1)
                self.assertEqual(result.stderr.strip(), f"studio: {message}")

    def test_mail_timings_have_their_documented_defaults(self):
        code = SETUP + (
            "print(settings.STUDIO_REMINDER_MINUTES, settings.STUDIO_OUTBOX_POLL_SECONDS, "
            "settings.EMAIL_TIMEOUT, settings.CELERY_TASK_ALWAYS_EAGER)"
        )
        self.assertEqual(run(code, DJANGO_DEBUG="1").stdout.split(), ["60", "20", "10", "True"])
        with_redis = run(code, DJANGO_DEBUG="1", REDIS_URL="redis://127.0.0.1:6379/0")
        self.assertEqual(with_redis.stdout.split()[-1], "False", with_redis.stderr)

    def test_debug_runs_without_a_secret_key(self):
        result = run(SETUP + "print(settings.DEBUG)", DJANGO_DEBUG="1")
        self.assertEqual(result.stdout.strip(), "True", result.stderr)

    def test_unknown_studio_time_zone_is_refused_in_one_line(self):
        result = run(SETUP, DJANGO_DEBUG="1", STUDIO_TIME_ZONE="Mars/Olympus")
        self.assertEqual(result.returncode, 1)
        self.assertIn("STUDIO_TIME_ZONE", result.stderr)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1)

    def test_database_url_selects_postgresql(self):
        result = run(
            SETUP + "print(settings.DATABASES['default']['ENGINE'])",
            DJANGO_DEBUG="1",
            DATABASE_URL="postgres://u:p@db.internal:5432/studio",
        )
        self.assertEqual(result.stdout.strip(), "django.db.backends.postgresql", result.stderr)

    def test_sqlite_is_the_default_database(self):
        result = run(SETUP + "print(settings.DATABASES['default']['ENGINE'])", DJANGO_DEBUG="1")
        self.assertEqual(result.stdout.strip(), "django.db.backends.sqlite3", result.stderr)

    def test_redis_url_selects_the_redis_cache(self):
        result = run(
            SETUP + "print(settings.CACHES['default']['BACKEND'])",
            DJANGO_DEBUG="1",
            REDIS_URL="redis://127.0.0.1:6379/0",
        )
        self.assertEqual(result.stdout.strip(), "django.core.cache.backends.redis.RedisCache")

    def test_jwt_signing_key_comes_from_its_own_variable(self):
        result = run(
            SETUP + "print(settings.SIMPLE_JWT['SIGNING_KEY'])",
            DJANGO_DEBUG="1",
            STUDIO_JWT_SIGNING_KEY=JWT_KEY,
        )
        self.assertEqual(result.stdout.strip(), JWT_KEY)

    def test_cors_is_closed_unless_origins_are_named(self):
        code = SETUP + "print(settings.CORS_ALLOWED_ORIGINS)"
        self.assertEqual(run(code, DJANGO_DEBUG="1").stdout.strip(), "[]")
        opened = run(
            code,
            DJANGO_DEBUG="1",
            DJANGO_CORS_ALLOWED_ORIGINS="https://a.example, https://b.example",
        )
        self.assertEqual(opened.stdout.strip(), "['https://a.example', 'https://b.example']")

    def test_auth_throttle_defaults_to_twenty_a_minute(self):
        result = run(SETUP + "print(settings.STUDIO_AUTH_THROTTLE)", DJANGO_DEBUG="1")
        self.assertEqual(result.stdout.strip(), "20/min", result.stderr)

    def test_check_deploy_is_clean_with_production_settings(self):
        result = run(
            ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            **PRODUCTION_KEYS,
            DJANGO_HTTPS="1",
            DJANGO_ALLOWED_HOSTS="studio.example.com",
            REDIS_URL="redis://127.0.0.1:6379/0",
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_check_deploy_warns_that_without_redis_no_worker_sends_mail(self):
        result = run(
            ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            **PRODUCTION_KEYS,
            DJANGO_HTTPS="1",
            DJANGO_ALLOWED_HOSTS="studio.example.com",
        )
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("studio.W001", result.stderr + result.stdout)
        self.assertIn("REDIS_URL is not set", result.stderr + result.stdout)
