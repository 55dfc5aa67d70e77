from django.test.runner import DiscoverRunner


class StudioTestRunner(DiscoverRunner):
    """Django's runner, closing with one plain summary line that CI logs can read."""

    def suite_result(self, suite, result, **kwargs):
        failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
        passed = result.testsRun - failed - len(result.skipped) - len(result.expectedFailures)
        summary = f"{passed} passed, {failed} failed"
        if result.skipped:
            summary += f", {len(result.skipped)} skipped"
        self.log(summary)
        return super().suite_result(suite, result, **kwargs)
