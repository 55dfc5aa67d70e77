"""Faults: a database that is not there at all.

The production server (gunicorn with gunicorn.conf.py, debug off) runs in its
own process, with its own environment, against a database address that
refuses connections; see test_faults_recovery for one that comes back.
"""

import socket

from django.test import TestCase
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.tests.factories import ClientFactory, InstructorFactory
from studio.tests.outage_server import (
    UnavailableAssertions,
    admin_login_form,
    running_server,
)
from testing.processes import free_port


class DatabaseUnreachableTests(UnavailableAssertions, TestCase):
    """The server starts and answers with no database at all behind it."""

    def test_every_request_that_needs_the_database_answers_503_and_the_rest_still_work(self):
        client = ClientFactory()
        instructor = InstructorFactory()
        access = str(AccessToken.for_user(client))
        refresh = str(RefreshToken.for_user(client))
        teacher = str(AccessToken.for_user(instructor))
        slot = {"start": "2031-01-10T07:00", "end": "2031-01-10T08:00", "capacity": 5}
        session = {"title": "Yoga", "category": "yoga", "time_slots": [slot]}
        password = "sturdy-Pass-123"
        needs_database = [
            ("GET", "/api/health/", None, None),
            (
                "POST",
                "/api/register/",
                None,
                {"email": "new@example.com", "password": password, "name": "New", "role": "client"},
            ),
            ("POST", "/api/login/", None, {"email": client.email, "password": password}),
            ("POST", "/api/refresh-token/", None, {"refresh": refresh}),
            ("POST", "/api/logout/", access, {"refresh": refresh}),
            ("GET", "/api/me/", access, None),
            ("PATCH", "/api/me/", access, {"name": "Renamed"}),
            (
                "POST",
                "/api/password/change/",
                access,
                {"old_password": password, "new_password": "other-Pass-456"},
            ),
            ("POST", "/api/password/reset/", None, {"email": client.email}),
            (
                "POST",
                "/api/password/reset/confirm/",
                None,
                {"uid": "MQ", "token": "abc-def", "new_password": "other-Pass-456"},
            ),
            ("GET", "/api/public/sessions/", None, None),
            ("GET", "/api/public/sessions/?category=yoga&available=true", None, None),
            ("GET", "/api/public/sessions/1/", None, None),
            ("GET", "/api/sessions/", teacher, None),
            ("GET", "/api/sessions/instructor/", teacher, None),
            ("POST", "/api/sessions/", teacher, session),
            ("POST", "/api/sessions/create/", teacher, session),
            ("GET", "/api/sessions/1/", teacher, None),
            ("PATCH", "/api/sessions/1/", teacher, {"title": "Renamed"}),
            ("PUT", "/api/sessions/1/update/", teacher, session),
            ("DELETE", "/api/sessions/1/", teacher, None),
            ("DELETE", "/api/sessions/1/delete/", teacher, None),
            ("GET", "/api/bookings/", access, None),
            ("GET", "/api/bookings/?when=upcoming", access, None),
            ("POST", "/api/bookings/", access, {"time_slot": 1}),
            ("GET", "/api/bookings/1/", access, None),
            ("POST", "/api/bookings/1/cancel/", access, None),
            ("DELETE", "/api/bookings/1/", access, None),
        ]
        with running_server(f"postgres://studio:secret@127.0.0.1:{free_port()}/studio") as server:
            for method, path, token, body in needs_database:
                with self.subTest(method=method, path=path):
                    answer = server.request(method, path, token=token, json_body=body)
                    self.assert_unavailable(answer, f"{method} {path}")

            # The admin loads the session and the user before any view runs.
            session_cookie = {"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"}
            for path in ["/admin/", "/admin/bookings/booking/", "/admin/sessions_app/session/1/"]:
                with self.subTest(path=path):
                    answer = server.request("GET", path, headers=session_cookie)
                    self.assert_unavailable(answer, f"GET {path} signed in")
            cookie, form = admin_login_form(server)
            answer = server.request("POST", "/admin/login/", form=form, headers={"Cookie": cookie})
            self.assert_unavailable(answer, "POST /admin/login/")

            # What needs no database keeps working.
            expected = [
                ("/api/schema/", 200),
                ("/api/docs/", 200),
                ("/admin/login/", 200),
                ("/admin/", 302),
                ("/api/me/", 401),
                ("/api/no-such-endpoint/", 404),
            ]
            for path, status in expected:
                with self.subTest(path=path):
                    self.assertEqual(server.request("GET", path).status, status, path)
            answer = server.request("GET", "/api/me/", token="not-a-token")
            self.assertEqual(answer.json()["code"], "token_not_valid")

            server.stop()
            log = server.output()
        self.assertNotIn("Traceback", log)
        self.assertIn("WARNING studio.", log)

    def test_development_server_starts_and_answers_503_without_a_database(self):
        token = str(AccessToken.for_user(ClientFactory()))
        url = f"postgres://studio:secret@127.0.0.1:{free_port()}/studio"
        with running_server(url, development=True) as server:
            self.assert_unavailable(server.request("GET", "/api/health/"), "health")
            answer = server.request("GET", "/api/bookings/", token=token)
            self.assert_unavailable(answer, "bookings")
            session_cookie = {"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"}
            answer = server.request("GET", "/admin/", headers=session_cookie)
            self.assert_unavailable(answer, "admin")
            self.assertEqual(server.request("GET", "/api/schema/").status, 200)
            server.stop()
            log = server.output()
        self.assertIn("migrations were not checked", log)
        self.assertNotIn("Traceback", log)

    def test_a_database_that_never_answers_is_a_503_after_the_connect_timeout(self):
        # A listening socket that is never accepted: the handshake completes
        # in the backlog and then nothing ever answers.
        with socket.create_server(("127.0.0.1", 0), backlog=16) as silent:
            url = f"postgres://studio:secret@127.0.0.1:{silent.getsockname()[1]}/studio"
            options = {"env": {"STUDIO_DB_CONNECT_TIMEOUT_S": "2"}}
            with running_server(url, **options) as server:
                answer = server.request("GET", "/api/health/")
                self.assert_unavailable(answer, "health")
                answer = server.request("GET", "/api/public/sessions/")
                self.assert_unavailable(answer, "public sessions")
