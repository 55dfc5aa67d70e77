import unittest

from django.test import SimpleTestCase

from studio.test_runner import summary_line


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
