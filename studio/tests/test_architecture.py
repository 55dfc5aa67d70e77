"""The shape of the code: which app may import which, and how tests import.

Apps depend in one direction, `studio` (core) ← `accounts` ← `sessions_app`
← `bookings` ← `notifications` ← `calendars`: a module may import its own
app and the apps before it, never one after it. A lower app that must react
to a higher one's change reads through reverse relations or is told by a
signal of the core. Only the project's wiring imports every app: the URL
configuration, the management commands that load whole timetables, and test
code.
"""

import ast
import tempfile
from pathlib import Path

from django.conf import settings
from django.test import SimpleTestCase

LAYERS = ["studio", "accounts", "sessions_app", "bookings", "notifications", "calendars"]

# Modules that put the whole project together and so may import any app.
WIRING = {"studio/urls.py", "studio/testing.py", "studio/settings_test.py"}
WIRING_FOLDERS = ("studio/management/commands/",)

ROOT = Path(settings.BASE_DIR)


def python_files(root: Path, app: str):
    for path in sorted((root / app).rglob("*.py")):
        yield path.relative_to(root).as_posix(), path


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in the file, nested ones included."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def is_test_code(relative: str) -> bool:
    return "/tests/" in relative


def direction_violations(root: Path) -> list[str]:
    wrong = []
    for rank, app in enumerate(LAYERS):
        for relative, path in python_files(root, app):
            if is_test_code(relative) or relative in WIRING:
                continue
            if relative.startswith(WIRING_FOLDERS):
                continue
            for line, module in imported_modules(path):
                top = module.split(".")[0]
                if top in LAYERS and LAYERS.index(top) > rank:
                    wrong.append(f"{relative}:{line} imports {module}")
    return wrong


def test_module_violations(root: Path) -> list[str]:
    wrong = []
    for app in LAYERS:
        for relative, path in python_files(root, app):
            if not is_test_code(relative):
                continue
            for line, module in imported_modules(path):
                parts = module.split(".")
                if "tests" in parts[:-1] and parts[-1].startswith("test_"):
                    wrong.append(f"{relative}:{line} imports {module}")
    return wrong


def write_tree(root: Path, files: dict[str, str]) -> None:
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)


class ImportDirectionTests(SimpleTestCase):
    def test_imports_follow_the_direction_of_the_apps(self):
        self.assertEqual(
            direction_violations(ROOT),
            [],
            "imports against the direction of LAYERS",
        )

    def test_every_app_of_the_project_has_a_place_in_the_direction(self):
        apps = {name for name in settings.INSTALLED_APPS if (ROOT / name).is_dir()}
        self.assertEqual(apps, set(LAYERS))

    def test_an_import_against_the_direction_is_found_wherever_it_stands(self):
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            write_tree(
                root,
                {
                    "accounts/services.py": "from sessions_app.cache import timetable_changed\n",
                    "sessions_app/views.py": "def f():\n    import bookings.models\n",
                    "sessions_app/services.py": "from accounts.models import User\n",
                    "bookings/services.py": "from sessions_app.models import TimeSlot\n",
                    "studio/errors.py": "from django.db import models\n",
                    "studio/management/commands/load_demo.py": "from bookings import services\n",
                    "sessions_app/tests/test_x.py": "from bookings.models import Booking\n",
                },
            )
            self.assertEqual(
                direction_violations(root),
                [
                    "accounts/services.py:1 imports sessions_app.cache",
                    "sessions_app/views.py:2 imports bookings.models",
                ],
            )


class TestModuleImportTests(SimpleTestCase):
    def test_no_test_module_imports_another_test_module(self):
        self.assertEqual(
            test_module_violations(ROOT),
            [],
            "shared test code goes in studio/testing.py or factories",
        )

    def test_a_test_module_importing_another_is_found(self):
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            write_tree(
                root,
                {
                    "bookings/tests/test_a.py": "from bookings.tests.test_b import race\n",
                    "bookings/tests/test_b.py": "from bookings.tests.factories import book\n",
                    "studio/tests/test_runner.py": "from studio.test_runner import summary_line\n",
                },
            )
            self.assertEqual(
                test_module_violations(root),
                ["bookings/tests/test_a.py:1 imports bookings.tests.test_b"],
            )
