"""Schemathesis against the live OpenAPI document: no input breaks the API.

A real server on 127.0.0.1 serves `/api/schema/`; Schemathesis reads it and, for
every operation, sends its deterministic edge cases (boundary values, wrong
types, missing fields, malformed content types, methods the path does not
serve) and then generated schema-valid and schema-invalid requests, signed in as
a client and then as an instructor, over a small real timetable. Every failed
check is collected, and the test fails once, listing them all.

Bounded and repeatable: a fixed number of generated examples per operation and
mode (`STUDIO_FUZZ_EXAMPLES`, default 20), derandomized, no example database.
"""

import os
import socket
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta

import requests
import schemathesis
from django.core.cache import cache
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test import LiveServerTestCase, override_settings
from django.test.testcases import LiveServerThread
from django.utils.timezone import now
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from accounts import services as account_services
from accounts.models import Role
from accounts.tests.factories import ClientFactory, InstructorFactory
from bookings.tests.factories import add_slot, book, make_slot

EXAMPLES = int(os.environ.get("STUDIO_FUZZ_EXAMPLES", "20"))

# The four conformance checks hold for every answer: no 5xx, only documented
# statuses, the documented content type, bodies in the documented shape.
# negative_data_rejection holds too: the schema states the limits the API
# enforces, so a request it calls invalid is refused. unsupported_method (405
# with Allow for a method the path does not serve) and missing_required_header
# hold as well. positive_data_acceptance does not fit this contract: a
# schema-valid request may still break a business rule (a slot in the past, an
# unknown slot id, a weak password) and is then rightly a 400.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    unsupported_method,
    missing_required_header,
]

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


class _NoDelayServer(ThreadedWSGIServer):
    """The test server, answering without waiting on delayed ACKs: it writes a
    response in several small pieces, which Nagle's algorithm would hold back
    40 ms each on a kept-alive connection (about 50 ms a request instead of 4)."""

    def get_request(self):
        sock, address = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, address


class _NoDelayServerThread(LiveServerThread):
    server_class = _NoDelayServer


@dataclass
class Finding:
    operation: str
    check: str
    request: str
    status: int
    body: str


@dataclass
class Fixtures:
    """Ids that exist, so generated paths and bodies sometimes reach real objects."""

    session_ids: list[int] = field(default_factory=list)
    slot_ids: list[int] = field(default_factory=list)
    booking_ids: list[int] = field(default_factory=list)


def _first_lines(text: str, count: int = 12) -> str:
    lines = text.strip().splitlines()
    return "\n".join(lines[:count] + (["..."] if len(lines) > count else []))


# The public timetable cache on, as in production.
@override_settings(STUDIO_TIMETABLE_CACHE_SECONDS=300, STUDIO_TIMETABLE_CACHE_SHARED=True)
class SchemaFuzzTests(LiveServerTestCase):
    host = "127.0.0.1"
    server_thread_class = _NoDelayServerThread

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Hypothesis keeps caches beside the code; keep them out of the checkout.
        storage = tempfile.TemporaryDirectory(prefix="studio-hypothesis-")
        cls.addClassCleanup(storage.cleanup)
        cls.addClassCleanup(set_hypothesis_home_dir, None)
        set_hypothesis_home_dir(storage.name)

    def setUp(self):
        cache.clear()
        self.instructor = InstructorFactory()
        self.client_user = ClientFactory()
        other_client = ClientFactory()
        start = now() + timedelta(days=2)
        yoga = make_slot(instructor=self.instructor, start=start, title="Morning Yoga")
        add_slot(yoga.session, start=start + timedelta(days=1))
        spin = make_slot(instructor=self.instructor, start=start + timedelta(hours=3), title="Spin")
        empty = make_slot(
            instructor=self.instructor, start=start + timedelta(hours=6), title="Hiit"
        )
        other = make_slot(start=start + timedelta(hours=9), title="Pilates")
        mine = book(yoga, self.client_user)
        theirs = book(spin, other_client)
        self.fixtures = Fixtures(
            session_ids=[yoga.session_id, spin.session_id, empty.session_id, other.session_id],
            slot_ids=[yoga.pk, spin.pk, empty.pk, other.pk],
            booking_ids=[mine.pk, theirs.pk],
        )
        self.schema = schemathesis.openapi.from_url(f"{self.live_server_url}/api/schema/")
        # A query string over the API's limit is refused with 414 (documented on
        # every operation), a status Schemathesis does not count as a refusal.
        rejection = self.schema.config.checks.negative_data_rejection
        rejection.expected_statuses = [*rejection.expected_statuses, "414"]
        self.http = requests.Session()
        self.addCleanup(self.http.close)

    def _token(self, user) -> str:
        return account_services.tokens_for(user)["access"]

    def _known_ids(self, path: str) -> list[int]:
        if "/bookings/" in path:
            return self.fixtures.booking_ids
        if "/sessions/" in path:
            return self.fixtures.session_ids
        return []

    def _fuzz(self, user) -> list[Finding]:
        token = f"Bearer {self._token(user)}"
        findings: dict[tuple[str, str], Finding] = {}
        for result in self.schema.get_all_operations():
            operation = result.ok()
            # The edge cases of an operation run once, in the pass of the role that
            # can use it (the other role stops at the permission check): bookings
            # as the client, everything else as the instructor. Fuzzing runs every
            # operation in both passes.
            if operation.path.startswith("/api/bookings/") == (user.role == Role.CLIENT):
                for case in self._coverage_cases(operation):
                    self._exercise(case, token, findings)
            modes = [GenerationMode.POSITIVE]
            # An operation that takes no input (health) has no invalid request to send.
            if any(operation.iter_parameters()) or operation.body:
                modes.append(GenerationMode.NEGATIVE)
            for mode in modes:
                self._fuzz_operation(operation, mode, token, findings)
        return list(findings.values())

    def _coverage_cases(self, operation):
        """Schemathesis's deterministic edge cases: boundary values, wrong types,
        missing fields, malformed content types, methods the path does not serve."""
        return CoverageGenerator(
            operation=operation,
            generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
            generation_config=self.schema.config.generation_for(
                operation=operation, phase="coverage"
            ),
            auth_storage=None,
            override=Override(),
            feedback=FeedbackSources(),
        )

    def _fuzz_operation(self, operation, mode, token, findings) -> None:
        known = self._known_ids(operation.path)
        slot_ids = self.fixtures.slot_ids

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
        def run(case, data):
            if mode is GenerationMode.POSITIVE:
                # Real ids half of the time, so answers about existing objects are checked too.
                if known and "id" in (case.path_parameters or {}) and data.draw(st.booleans()):
                    case.path_parameters["id"] = str(data.draw(st.sampled_from(known)))
                if (
                    operation.path == "/api/bookings/"
                    and isinstance(case.body, dict)
                    and data.draw(st.booleans())
                ):
                    case.body["time_slot"] = data.draw(st.sampled_from(slot_ids))
            self._exercise(case, token, findings)

        run()

    def _exercise(self, case, token, findings) -> None:
        """Sends `case` and records each check it fails, once per operation and check."""
        label = case.operation.label
        # Signed in, unless the invalid part of the request is a missing
        # Authorization header. Set on the case, so Schemathesis knows which
        # parts of the request are still invalid.
        if case.headers is None:
            case.headers = {}
        if not case.meta.generation.mode.is_negative or "Authorization" in case.headers:
            case.headers["Authorization"] = token
        try:
            response = case.call(base_url=self.live_server_url, session=self.http)
        except requests.RequestException as exc:
            findings.setdefault(
                (label, "request"),
                Finding(label, "request failed", case.as_curl_command(), 0, repr(exc)),
            )
            return
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            for failure in group.exceptions:
                findings.setdefault(
                    (label, failure.title),
                    Finding(
                        operation=label,
                        check=_first_lines(f"{failure.title}: {failure.message}"),
                        request=case.as_curl_command(),
                        status=response.status_code,
                        body=response.text[:300],
                    ),
                )

    def _assert_no_findings(self, findings: list[Finding]) -> None:
        if not findings:
            return
        lines = [f"{len(findings)} schema failure(s):"]
        for finding in findings:
            lines += [
                "",
                f"* {finding.operation}: {finding.check}",
                f"  request: {finding.request}",
                f"  answer: {finding.status} {finding.body}",
            ]
        self.fail("\n".join(lines))

    def test_api_conforms_to_its_schema_for_a_client(self):
        self._assert_no_findings(self._fuzz(self.client_user))

    def test_api_conforms_to_its_schema_for_an_instructor(self):
        self._assert_no_findings(self._fuzz(self.instructor))
