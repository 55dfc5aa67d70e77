from unittest.suite import _ErrorHolder

from django.conf import settings
from django.test.runner import DiscoverRunner

TEST_SETTINGS = "studio.settings_test"


class StudioTestRunner(DiscoverRunner):
    """Django's runner, closing with one plain summary line that CI logs can read.

    It runs the suite only under the test settings (studio.settings_test) and
    stops with one line saying how to run it under any other settings module."""

    def run_tests(self, *args, **kwargs):
        if settings.SETTINGS_MODULE != TEST_SETTINGS:
            raise SystemExit(
                f"studio: the tests run with their own settings, not {settings.SETTINGS_MODULE}: "
                "run `make test`, or `python manage.py test` with DJANGO_SETTINGS_MODULE unset "
                f"or --settings={TEST_SETTINGS}."
            )
        return super().run_tests(*args, **kwargs)

    def suite_result(self, suite, result, **kwargs):
        self.log(summary_line(result))
        return super().suite_result(suite, result, **kwargs)


def summary_line(result) -> str:
    """`N passed, N failed`. A test with failing subtests counts once; a class or
    module whose set-up failed counts as one failure, though none of its tests ran."""
    problems = {
        getattr(test, "test_case", test).id(): test for test, _ in result.failures + result.errors
    }
    in_tests = sum(1 for test in problems.values() if not isinstance(test, _ErrorHolder))
    failed = len(problems) + len(result.unexpectedSuccesses)
    passed = (
        result.testsRun
        - in_tests
        - len(result.unexpectedSuccesses)
        - len(result.skipped)
        - len(result.expectedFailures)
    )
    summary = f"{passed} passed, {failed} failed"
    if result.skipped:
        summary += f", {len(result.skipped)} skipped"
    return summary
