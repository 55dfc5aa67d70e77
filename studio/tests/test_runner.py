import subprocess
import sys
import unittest

from django.conf import settings
from django.test import SimpleTestCase

from studio.test_runner import summary_line
from testing.processes import own_environment

# A few quick tests that touch no database, to run in a fresh process.
TINY_LABEL = "studio.tests.test_runner.SummaryLineTests"


def sample_cases() -> dict[str, type[unittest.TestCase]]:
    """Test cases to run inside a test; made here so the suite does not find them."""

    class Passes(unittest.TestCase):
        def test_passes(self):
            pass

    class Fails(unittest.TestCase):
        def test_fails(self):
            self.fail("no")

    class SetUpFails(unittest.TestCase):
        @classmethod
        def setUpClass(cls):
            raise RuntimeError("no browser")

        def test_one(self):
            pass

        def test_two(self):
            pass

    class SubtestsFail(unittest.TestCase):
        def test_three_subtests_fail(self):
            for number in range(3):
                with self.subTest(number=number):
                    self.fail("no")

    return {
        "passes": Passes,
        "fails": Fails,
        "set_up_fails": SetUpFails,
        "subtests_fail": SubtestsFail,
    }


class SummaryLineTests(SimpleTestCase):
    def run_cases(self, *names: str) -> str:
        cases = sample_cases()
        loader = unittest.defaultTestLoader
        suite = unittest.TestSuite(loader.loadTestsFromTestCase(cases[name]) for name in names)
        result = unittest.TestResult()
        suite.run(result)
        return summary_line(result)

    def test_counts_passed_and_failed_tests(self):
        self.assertEqual(self.run_cases("passes", "fails"), "1 passed, 1 failed")

    def test_a_class_whose_set_up_fails_counts_as_failed_not_as_negative_passes(self):
        self.assertEqual(self.run_cases("passes", "set_up_fails"), "1 passed, 1 failed")

    def test_a_test_with_failing_subtests_counts_as_one_failure(self):
        self.assertEqual(self.run_cases("passes", "subtests_fail"), "1 passed, 1 failed")


class ManageTestTests(SimpleTestCase):
    """`python manage.py test` in a fresh process, as run on a new checkout."""

    def manage_test(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", "test", "--noinput", *args, TINY_LABEL],
            cwd=settings.BASE_DIR,
            env=own_environment(**env),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def test_manage_py_test_runs_under_the_test_settings_with_nothing_set(self):
        result = self.manage_test()

        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("3 passed, 0 failed", result.stdout)

    def test_settings_named_in_the_environment_or_on_the_command_line_win(self):
        refusal = "studio: the tests run with their own settings, not studio.settings:"
        for args, env in [
            ((), {"DJANGO_SETTINGS_MODULE": "studio.settings"}),
            (("--settings=studio.settings",), {}),
        ]:
            with self.subTest(args=args, env=env):
                result = self.manage_test(*args, DJANGO_DEBUG="1", **env)

                self.assertNotEqual(result.returncode, 0)
                self.assertIn(refusal, result.stderr)

    def test_the_test_settings_named_explicitly_still_run_the_suite(self):
        result = self.manage_test("--settings=studio.settings_test")

        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("3 passed, 0 failed", result.stdout)
