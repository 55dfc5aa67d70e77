"""The shape of the code: which package may import which, and how tests import.

Packages depend in one direction:

    core ← accounts ← sessions_app ← bookings ← notifications ← calendars
         ← studio (the wiring) ← testing (test support)

A module may import its own package and the packages before it, never one
after it. `core` is the library every app builds on and imports no app; a
lower app that must react to a higher one's change reads through reverse
relations or is told by a signal of the core. `studio` puts the project
together (settings, URLs, processes, the commands that load whole
timetables); `testing` is the support the tests share. Test code (an app's
`tests/` package) stands above them all. Within a package, no module imports
another that imports it back, even from inside a function.
"""

import ast
import tempfile
from pathlib import Path

from django.conf import settings
from django.test import SimpleTestCase

LAYERS = [
    "core",
    "accounts",
    "sessions_app",
    "bookings",
    "notifications",
    "calendars",
    "studio",
    "testing",
]

ROOT = Path(settings.BASE_DIR)


def python_files(root: Path, package: str):
    for path in sorted((root / package).rglob("*.py")):
        yield path.relative_to(root).as_posix(), path


def module_name(relative: str) -> str:
    dotted = relative.removesuffix(".py").replace("/", ".")
    return dotted.removesuffix(".__init__")


def imported_modules(path: Path, relative: str) -> list[tuple[int, str]]:
    """(line, module) of every import in the file, nested ones included.

    `from a import b` names `a`, then `a.b`, since `b` may be a module;
    relative imports are resolved against the file's package.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(relative).split(".")
    if not relative.endswith("__init__.py"):
        package = package[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def is_test_code(relative: str) -> bool:
    return "/tests/" in relative


def direction_violations(root: Path) -> list[str]:
    wrong = []
    for rank, package in enumerate(LAYERS):
        for relative, path in python_files(root, package):
            if is_test_code(relative):
                continue
            lines = set()
            for line, module in imported_modules(path, relative):
                top = module.split(".")[0]
                if top in LAYERS and LAYERS.index(top) > rank and line not in lines:
                    lines.add(line)
                    wrong.append(f"{relative}:{line} imports {module}")
    return sorted(wrong)


def package_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Each module of the package (tests aside) → the package's modules it imports."""
    imports = {
        module_name(relative): {module for _, module in imported_modules(path, relative)}
        for relative, path in python_files(root, package)
        if not is_test_code(relative)
    }
    return {
        module: {other for other in named if other in imports and other != module}
        for module, named in imports.items()
    }


def circles_through(graph: dict[str, set[str]], start: str) -> list[list[str]]:
    """Every circle that leaves `start` and comes back to it through modules
    named after it (so each circle is found from its first module only)."""
    found, trail = [], [start]

    def walk(node: str) -> None:
        for following in sorted(graph[node]):
            if following == start:
                found.append([*trail, start])
            elif following > start and following not in trail:
                trail.append(following)
                walk(following)
                trail.pop()

    walk(start)
    return found


def import_circles(root: Path) -> list[str]:
    """Every circle of imports between the modules of one package, as
    `a → b → a`."""
    circles = []
    for package in LAYERS:
        graph = package_graph(root, package)
        for start in sorted(graph):
            circles += [" → ".join(circle) for circle in circles_through(graph, start)]
    return circles


def test_module_violations(root: Path) -> list[str]:
    wrong = []
    for package in LAYERS:
        for relative, path in python_files(root, package):
            if not is_test_code(relative):
                continue
            for line, module in imported_modules(path, relative):
                parts = module.split(".")
                if "tests" in parts[:-1] and parts[-1].startswith("test_"):
                    wrong.append(f"{relative}:{line} imports {module}")
    return sorted(set(wrong))


def write_tree(root: Path, files: dict[str, str]) -> None:
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)


class ImportDirectionTests(SimpleTestCase):
    def test_imports_follow_the_direction_of_the_packages(self):
        self.assertEqual(
            direction_violations(ROOT),
            [],
            "imports against the direction of LAYERS",
        )

    def test_every_package_of_the_project_has_a_place_in_the_direction(self):
        packages = {
            path.parent.name
            for path in ROOT.glob("*/__init__.py")
            if not path.parent.name.startswith(".")
        }
        self.assertEqual(packages, set(LAYERS))
        apps = {name for name in settings.INSTALLED_APPS if (ROOT / name).is_dir()}
        self.assertLessEqual(apps, set(LAYERS))

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
                    "core/errors.py": "from django.db import models\n",
                    "core/locking.py": "from studio import settings\n",
                    "studio/management/commands/load_demo.py": "from bookings import services\n",
                    "studio/urls.py": "from testing import sign_in\n",
                    "testing/bookings.py": "from bookings.models import Booking\n",
                    "sessions_app/tests/test_x.py": "from bookings.models import Booking\n",
                },
            )
            self.assertEqual(
                direction_violations(root),
                [
                    "accounts/services.py:1 imports sessions_app.cache",
                    "core/locking.py:1 imports studio",
                    "sessions_app/views.py:2 imports bookings.models",
                    "studio/urls.py:1 imports testing",
                ],
            )


class ImportCircleTests(SimpleTestCase):
    def test_no_package_has_an_import_circle(self):
        self.assertEqual(import_circles(ROOT), [], "modules that import each other")

    def test_a_circle_is_found_through_an_import_inside_a_function(self):
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            write_tree(
                root,
                {
                    "notifications/__init__.py": "",
                    "notifications/services.py": (
                        "from notifications.models import Notification\n"
                        "def send():\n    from notifications import tasks\n"
                    ),
                    "notifications/tasks.py": "from notifications.services import deliver\n",
                    "notifications/models.py": "from django.db import models\n",
                    "bookings/a.py": "from .b import x\n",
                    "bookings/b.py": "from bookings.c import y\n",
                    "bookings/c.py": "import bookings.a\n",
                    "calendars/feeds.py": "from calendars.models import Feed\n",
                    "calendars/models.py": "from sessions_app import feeds\n",
                    "sessions_app/feeds.py": "from calendars import feeds\n",
                    "sessions_app/tests/test_a.py": "from sessions_app.tests import test_b\n",
                    "sessions_app/tests/test_b.py": "from sessions_app.tests import test_a\n",
                },
            )
            self.assertEqual(
                import_circles(root),
                [
                    "bookings.a → bookings.b → bookings.c → bookings.a",
                    "notifications.services → notifications.tasks → notifications.services",
                ],
            )


class TestModuleImportTests(SimpleTestCase):
    def test_no_test_module_imports_another_test_module(self):
        self.assertEqual(
            test_module_violations(ROOT),
            [],
            "shared test code goes in the testing package or factories",
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
