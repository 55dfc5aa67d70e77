"""Reading whole numbers from the environment: a value out of its range stops
start-up with one line naming the variable, the range and the value."""

import os
from unittest import mock

from django.test import SimpleTestCase

from core.env import ConfigError, env_int

NAME = "STUDIO_TEST_NUMBER"


class EnvIntTests(SimpleTestCase):
    def read(self, raw: str | None, **bounds) -> int:
        with mock.patch.dict(os.environ):
            os.environ.pop(NAME, None)
            if raw is not None:
                os.environ[NAME] = raw
            return env_int(NAME, 5, **bounds)

    def refusal(self, raw: str, **bounds) -> str:
        with self.assertRaises(ConfigError) as caught:
            self.read(raw, **bounds)
        return str(caught.exception.code)

    def test_an_unset_or_blank_variable_is_the_default(self):
        self.assertEqual(self.read(None, lo=1, hi=30), 5)
        self.assertEqual(self.read("  ", lo=1, hi=30), 5)

    def test_a_value_within_the_range_is_read_bounds_included(self):
        self.assertEqual(self.read("1", lo=1, hi=30), 1)
        self.assertEqual(self.read("30", lo=1, hi=30), 30)
        self.assertEqual(self.read(" 12 ", lo=0), 12)

    def test_a_value_outside_the_range_names_the_range_and_the_unit(self):
        cases = [
            ("0", {"lo": 1, "hi": 30, "unit": "seconds"}, "must be 1 to 30 seconds; got 0."),
            ("31", {"lo": 1, "hi": 30, "unit": "seconds"}, "must be 1 to 30 seconds; got 31."),
            ("-1", {"lo": 0, "unit": "milliseconds"}, "must be 0 or more milliseconds; got -1."),
            ("-3", {"lo": 0}, "must be 0 or more; got -3."),
            ("11", {"hi": 10, "unit": "tries"}, "must be 10 or less tries; got 11."),
        ]
        for raw, bounds, message in cases:
            with self.subTest(raw=raw, bounds=bounds):
                self.assertEqual(self.refusal(raw, **bounds), f"studio: {NAME} {message}")

    def test_a_value_that_is_not_a_whole_number_is_refused(self):
        self.assertEqual(
            self.refusal("ten", lo=1), f"studio: {NAME} must be a whole number; got 'ten'."
        )
