"""docs/SECURITY.md names a test for every threat, and every test it names exists."""

import importlib
import re
from pathlib import Path

from django.conf import settings
from django.test import SimpleTestCase

DOC = Path(settings.BASE_DIR) / "docs" / "SECURITY.md"
LABEL = re.compile(r"`((?:accounts|bookings|sessions_app|studio|calendars)\.tests\.[\w.]+)`")


def resolve(label: str) -> object:
    """The module, class or method a test label names; raises if there is none."""
    parts = label.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for name in parts[split:]:
            target = getattr(target, name)
        return target
    raise ModuleNotFoundError(label)


class SecurityDocTests(SimpleTestCase):
    def setUp(self):
        self.text = DOC.read_text()

    def test_every_threat_of_the_checklist_names_tests(self):
        sections = re.split(r"^## ", self.text, flags=re.MULTILINE)[1:]
        threats = {section.split(":")[0]: section for section in sections}
        self.assertEqual(sorted(threats), sorted(f"API{n}" for n in range(1, 11)))
        for threat, section in threats.items():
            with self.subTest(threat=threat):
                self.assertRegex(section, LABEL)

    def test_every_test_label_names_a_test(self):
        labels = LABEL.findall(self.text)
        self.assertGreater(len(labels), 20)
        for label in labels:
            with self.subTest(label=label):
                target = resolve(label)
                if callable(target) and not isinstance(target, type):
                    self.assertTrue(label.rsplit(".", 1)[1].startswith("test_"))
