from unittest.suite import _ErrorHolder

from django.test.runner import DiscoverRunner


class StudioTestRunner(DiscoverRunner):
    """Django's runner, closing with one plain summary line that CI logs can read."""

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
