"""The Python client generated from the live schema, against a live server.

openapi-python-client (a pinned dev requirement; CI installs it) generates the
client from the `/api/schema/` the test server serves, into a temporary
folder, and the tests import it from there. The operations are found by method
and path in the generated `api` package, not by their generated names.

- A PATCH of a session that carries only the title, built with the generated
  request model, keeps the description: the model sends no field it was not
  given.
- A second booking of the same slot comes back as the 409 problem, parsed into
  the generated `Problem` model with its `code`.
"""

import importlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import typing
import urllib.request
from pathlib import Path
from types import ModuleType
from typing import Any

from django.core.cache import cache
from django.test import LiveServerTestCase

from accounts.tests.factories import PASSWORD, ClientFactory, InstructorFactory
from bookings.tests.factories import make_slot
from sessions_app.models import Session
from testing.processes import PROJECT

PACKAGE = "studio_api_client"
CONFIG = PROJECT / "clients" / "openapi-python-client.yaml"
GENERATOR = "openapi-python-client"


def generator_command() -> str:
    """The generator beside this interpreter (the project's .venv), else on PATH."""
    found = shutil.which(GENERATOR, path=str(Path(sys.executable).parent)) or shutil.which(
        GENERATOR
    )
    if found is None:
        raise AssertionError(
            f"{GENERATOR} is not installed: `pip install -r requirements-dev.txt` "
            "(it is pinned there; CI installs it)"
        )
    return found


def operation_module(package: Path, method: str, path: str) -> str:
    """The dotted name of the generated module that sends `method` to `path`."""
    method_line = f'"method": "{method.lower()}"'
    url_line = re.compile(r'"url": "' + re.escape(path) + r'"(\.format\(|,)')
    found = [
        module
        for module in sorted((package / "api").rglob("*.py"))
        if method_line in (text := module.read_text()) and url_line.search(text)
    ]
    if len(found) != 1:
        raise AssertionError(f"expected one generated module for {method} {path}, found {found}")
    relative = found[0].relative_to(package.parent).with_suffix("")
    return ".".join(relative.parts)


def body_model(function: Any) -> type:
    """The generated request model that `function`'s `body` takes."""
    hints = typing.get_type_hints(function)
    models = [
        arg for arg in typing.get_args(hints["body"]) or (hints["body"],) if hasattr(arg, "to_dict")
    ]
    if len(models) != 1:
        raise AssertionError(f"no single request model in {hints['body']}")
    return models[0]


class GeneratedPythonClientTests(LiveServerTestCase):
    folder: tempfile.TemporaryDirectory
    client_package: Path

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.folder = tempfile.TemporaryDirectory(prefix="studio-client-")
        cls.addClassCleanup(cls.folder.cleanup)
        cls.client_package = Path(cls.folder.name) / "python" / PACKAGE
        # httpx logs every request at INFO; the suite's output is for failures.
        httpx_logger = logging.getLogger("httpx")
        cls.addClassCleanup(httpx_logger.setLevel, httpx_logger.level)
        httpx_logger.setLevel(logging.WARNING)

    @classmethod
    def tearDownClass(cls):
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]
        if cls.folder.name + "/python" in sys.path:
            sys.path.remove(cls.folder.name + "/python")
        super().tearDownClass()

    def setUp(self):
        cache.clear()
        self.generate()

    def generate(self) -> None:
        """Generates the client from the served schema, once for the class."""
        if self.client_package.is_dir():
            return
        with urllib.request.urlopen(f"{self.live_server_url}/api/schema/?format=json") as answer:
            schema = json.load(answer)
        schema_file = Path(self.folder.name) / "schema.json"
        schema_file.write_text(json.dumps(schema))
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        command = [
            generator_command(),
            "generate",
            "--path",
            str(schema_file),
            "--output-path",
            str(self.client_package.parent),
            "--overwrite",
            "--config",
            str(CONFIG),
        ]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertTrue(self.client_package.is_dir(), done.stdout + done.stderr)
        sys.path.insert(0, str(self.client_package.parent))

    def operation(self, method: str, path: str) -> ModuleType:
        return importlib.import_module(operation_module(self.client_package, method, path))

    def signed_in(self, user) -> Any:
        """The generated AuthenticatedClient with `user`'s access token, from
        a sign-in through the generated client."""
        client_module = importlib.import_module(PACKAGE)
        login = self.operation("POST", "/api/login/")
        with client_module.Client(base_url=self.live_server_url) as anonymous:
            answer = login.sync_detailed(
                client=anonymous,
                body=body_model(login.sync_detailed)(email=user.email, password=PASSWORD),
            )
        self.assertEqual(answer.status_code, 200, answer.content)
        client = client_module.AuthenticatedClient(
            base_url=self.live_server_url, token=answer.parsed.access
        )
        self.addCleanup(client.get_httpx_client().close)
        return client

    def test_a_title_only_patch_keeps_the_description(self):
        instructor = InstructorFactory()
        slot = make_slot(instructor=instructor, title="Evening Yoga")
        Session.objects.filter(pk=slot.session_id).update(description="Slow flow")
        client = self.signed_in(instructor)
        patch = self.operation("PATCH", "/api/sessions/{id}/")
        # Path ids are integers in the schema, so in the generated client.
        self.assertIs(typing.get_type_hints(patch.sync_detailed)["id"], int)
        body = body_model(patch.sync_detailed)(title="Evening Yoga, gently")

        answer = patch.sync_detailed(id=slot.session_id, client=client, body=body)

        self.assertEqual(answer.status_code, 200, answer.content)
        session = Session.objects.get(pk=slot.session_id)
        self.assertEqual(session.title, "Evening Yoga, gently")
        self.assertEqual(
            session.description,
            "Slow flow",
            f"a PATCH of only the title through {patch.__name__} sent {body.to_dict()} and the "
            f"description became {session.description!r}: the generated "
            f"{type(body).__name__} fills in what the schema gives as a default",
        )
        self.assertEqual(session.time_slots.get().pk, slot.pk)

    def test_a_second_booking_reads_the_409_code(self):
        slot = make_slot(capacity=5)
        client = self.signed_in(ClientFactory())
        create = self.operation("POST", "/api/bookings/")
        model = body_model(create.sync_detailed)
        problem_model = importlib.import_module(f"{PACKAGE}.models.problem").Problem

        first = create.sync_detailed(client=client, body=model(time_slot=slot.pk))
        second = create.sync_detailed(client=client, body=model(time_slot=slot.pk))

        self.assertEqual(first.status_code, 201, first.content)
        self.assertEqual(first.parsed.time_slot.id, slot.pk)
        self.assertEqual(second.status_code, 409, second.content)
        self.assertIsInstance(second.parsed, problem_model)
        self.assertEqual(second.parsed.code, "already_booked")
        self.assertEqual(second.parsed.status, 409)
